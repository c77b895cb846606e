/**
 * The proof: two `tributary serve` replicas (dist/, two ports) on one project with its
 * state and warehouse on PostgreSQL, a schedule firing every 3 seconds, catch_up: all. Half-way
 * the leader is SIGKILLed; the other takes over and catches up. Every tick in the window ran
 * exactly once: one run per tick in the run history, none twice. A tick is claimed in the
 * transaction that records its run, so a tick the killed leader had queued but not started is
 * not lost: the survivor's catch-up runs it. The only ticks allowed to have no run are those
 * skipped because the schedule's previous run was still running (the no-overlap rule), read
 * from the logs and counted.
 *
 * CI runs a 30-second window; TRIBUTARY_REPLICA_SECONDS=60 runs the full minute.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/engines/index.js';
import { tempDir, writeFiles } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { freshPostgresDatabase } from '../sync/support.js';

const CLI = resolve(import.meta.dirname, '../../bin/tributary.js');
const available = await serviceAvailable('postgres', postgresTestUrl);
const URL_ENV = 'TRIBUTARY_TEST_REPLICA_URL';
const WINDOW_MS = Number(process.env.TRIBUTARY_REPLICA_SECONDS ?? 30) * 1000;
const EVERY_S = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Replica {
  child: ChildProcess;
  pid: number;
  url: string;
  log: string[];
  exited: Promise<number | null>;
}

/** Starts `tributary serve` on any free port; resolves once it listens. */
async function startServe(dir: string, url: string): Promise<Replica> {
  const child = spawn(process.execPath, [CLI, '-p', dir, 'serve', '--port', '0'], {
    env: { ...process.env, [URL_ENV]: url },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const log: string[] = [];
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const listening = new Promise<string>((res, rej) => {
    let buffer = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        log.push(line);
        const m = / at (https?:\/\/\S+) \(pid \d+\)/.exec(line);
        if (m) res(m[1]!);
      }
    });
    void exited.then((code) => rej(new Error(`serve exited (${code}):\n${log.join('\n')}`)));
    setTimeout(() => rej(new Error(`serve did not listen in 60 s:\n${log.join('\n')}`)), 60_000);
  });
  return { child, pid: child.pid!, url: await listening, log, exited };
}

/** Ticks a replica's log says it queued (`<schedule>: tick <iso>`), and skipped as busy. */
function ticksLogged(log: string[], what: RegExp): string[] {
  return log.flatMap((line) => {
    const m = what.exec(line);
    return m ? [m[1]!] : [];
  });
}

describe.skipIf(!available)('two serve replicas on one PostgreSQL project', () => {
  let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    db = await freshPostgresDatabase('replicas');
  });

  afterAll(async () => {
    for (const r of replicas) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.exited));
    await db?.drop();
  });

  it(
    'fires each tick of a 3-second schedule once, through a SIGKILL of the leader',
    async () => {
      const dir = tempDir('trib-replicas-');
      writeFiles(dir, {
        'tributary.yml': `name: replicas
state: { store: postgres, url: { env: ${URL_ENV} }, schema: state }
warehouse: { engine: postgres, url: { env: ${URL_ENV} } }
schedules:
  tick: { cron: "*/${EVERY_S} * * * * *", catch_up: all, select: ["model:a"] }
`,
        'models/a.sql': 'select 1 as n',
      });
      replicas.push(await startServe(dir, db.url));
      replicas.push(await startServe(dir, db.url));
      const state = await openPostgres({ url: db.url, schema: 'state' });
      try {
        const leaderPid = async () => {
          const { rows } = await state.query(`SELECT pid FROM leaders WHERE role = $1`, [
            'scheduler/replicas',
          ]);
          return rows.length ? Number(rows[0]!.pid) : undefined;
        };
        const windowStart = Date.now();
        const firstLeader = await leaderPid();
        const leader = replicas.find((r) => r.pid === firstLeader)!;
        const other = replicas.find((r) => r !== leader)!;
        expect(leader, `leader pid ${firstLeader}`).toBeDefined();
        // The public health check says which replica leads.
        const health = async (r: Replica) =>
          (
            (await (await fetch(`${r.url}/api/health`)).json()) as {
              scheduler: { leading: boolean };
            }
          ).scheduler.leading;
        expect([await health(leader), await health(other)]).toEqual([true, false]);

        await sleep(WINDOW_MS / 2);
        const killedAt = Date.now();
        leader.child.kill('SIGKILL');
        await leader.exited;
        // The survivor leads within a few seconds (its next try after PostgreSQL dropped the lock).
        while ((await leaderPid()) !== other.pid && Date.now() - killedAt < 15_000)
          await sleep(100);
        const failoverMs = Date.now() - killedAt;
        expect(await leaderPid()).toBe(other.pid);
        expect(await health(other)).toBe(true);
        await sleep(Math.max(0, windowStart + WINDOW_MS - Date.now()));
        other.child.kill('SIGTERM');
        expect(await other.exited).toBe(0);

        const { rows } = await state.query(
          `SELECT command, status FROM runs WHERE trigger = 'schedule:tick' ORDER BY started_at`,
        );
        const ran = rows.map((r) => /\((.*)\)$/.exec(String(r.command))![1]!);
        const counts = new Map<string, number>();
        for (const t of ran) counts.set(t, (counts.get(t) ?? 0) + 1);
        expect([...counts].filter(([, n]) => n > 1)).toEqual([]);

        // Every tick from the first run's to the last run's, each EVERY_S seconds.
        const times = ran.map(Date.parse).sort((a, b) => a - b);
        const every: string[] = [];
        for (let t = times[0]!; t <= times.at(-1)!; t += EVERY_S * 1000)
          every.push(new Date(t).toISOString());
        const missing = every.filter((t) => !counts.has(t));
        const claimedByKilled = ticksLogged(leader.log, /\btick: tick (\S+)$/);
        const skippedBusy = replicas.flatMap((r) =>
          ticksLogged(r.log, /tick: tick (\S+) skipped, its previous run has not finished/),
        );
        const queuedByKilled = claimedByKilled.filter((t) => !counts.has(t));
        console.log(
          `${every.length} ticks in ${Math.round(WINDOW_MS / 1000)} s, ${ran.length} runs; ` +
            `failover ${failoverMs} ms; queued by the killed leader and not run: ${queuedByKilled.length}; ` +
            `skipped as busy: ${skippedBusy.length}`,
        );
        expect(missing.filter((t) => !skippedBusy.includes(t))).toEqual([]);
        // A tick the killed leader queued either ran (there, or on the survivor) or was skipped.
        expect(queuedByKilled.filter((t) => !skippedBusy.includes(t))).toEqual([]);
        expect(every.length).toBeGreaterThanOrEqual(WINDOW_MS / 1000 / EVERY_S - 3);
        // Both replicas fired ticks: the first before the kill, the survivor after.
        expect(claimedByKilled.length).toBeGreaterThan(0);
        expect(ticksLogged(other.log, /\btick: tick (\S+)$/).length).toBeGreaterThan(0);
        expect(rows.filter((r) => r.status === 'failed')).toEqual([]);
      } finally {
        await state.close();
      }
    },
    WINDOW_MS + 180_000,
  );
});
