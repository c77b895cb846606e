/**
 * Two schedulers on one shared project (PostgreSQL state and warehouse, opened twice in this
 * process, as two `serve` replicas would), a schedule firing every second, real time: only the
 * leader fires; when the leader's lock connection is killed the other takes over and catches up
 * (catch_up: all); every tick in the window runs exactly once, none twice, none missing. The
 * runs are recorded by a stand-in executor (the ticks are what is under test, not the pipeline).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/engines/index.js';
import {
  Scheduler,
  claimRunTick,
  openWorkspace,
  type RunResult,
  type SchedulerEvent,
  type Workspace,
} from '../../src/orchestrator/index.js';
import { tempDir, writeFiles } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { freshPostgresDatabase } from '../sync/support.js';

const available = await serviceAvailable('postgres', postgresTestUrl);
const URL_ENV = 'TRIBUTARY_TEST_LEADER_URL';
/** Seconds of ticks on each side of the failover (TRIBUTARY_LEADER_SECONDS for longer). */
const HALF_MS = Number(process.env.TRIBUTARY_LEADER_SECONDS ?? 8) * 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!available)('one scheduler among replicas sharing a PostgreSQL state', () => {
  let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let dir: string;

  beforeAll(async () => {
    db = await freshPostgresDatabase('leader');
    process.env[URL_ENV] = db.url;
    dir = tempDir('trib-leader-');
    writeFiles(dir, {
      'tributary.yml': `name: ticking
state: { store: postgres, url: { env: ${URL_ENV} }, schema: state }
warehouse: { engine: postgres, url: { env: ${URL_ENV} } }
schedules:
  every_second: { cron: "* * * * * *", catch_up: all }
`,
      'models/a.sql': 'select 1 as n',
    });
  });

  afterAll(async () => {
    delete process.env[URL_ENV];
    await db?.drop();
  });

  /** A replica: its own workspace and scheduler; runs take 50 ms and record their tick. */
  async function replica(name: string, ticks: { tick: string; by: string }[]) {
    const ws: Workspace = await openWorkspace(dir, 'serve');
    const events: SchedulerEvent[] = [];
    let runs = 0;
    const scheduler = new Scheduler(ws, {
      leaderCheckMs: 300,
      onEvent: (e) => events.push(e),
      execute: async (req): Promise<RunResult> => {
        // As runPipeline does: the run claims its tick as it is recorded, or does not start.
        await ws.state.atomically((state) => claimRunTick(state, req.tick));
        ticks.push({ tick: /\((.*)\)$/.exec(req.command!)![1]!, by: name });
        await sleep(50);
        return {
          runId: `${name}_${++runs}`,
          status: 'succeeded',
          durationMs: 50,
          steps: [],
          refusedFiles: [],
        };
      },
    });
    await scheduler.start();
    return { ws, scheduler, events };
  }

  it('fires each tick once across two replicas, through a failover', async () => {
    const ticks: { tick: string; by: string }[] = [];
    const a = await replica('a', ticks);
    const b = await replica('b', ticks);
    const observer = await openPostgres({ url: db.url, schema: 'state' });
    try {
      expect([a.scheduler.leading, b.scheduler.leading]).toEqual([true, false]);
      expect((await b.scheduler.leader())?.pid).toBe(process.pid);
      await sleep(HALF_MS);
      // The leader's lock connection dies, as when PostgreSQL sees its process killed.
      const { rows } = await observer.query(
        `SELECT pg_terminate_backend(l.pid) AS killed FROM pg_locks l
         WHERE l.locktype = 'advisory' AND l.granted AND l.database =
           (SELECT oid FROM pg_database WHERE datname = current_database())
           AND l.pid <> pg_backend_pid()`,
      );
      expect(rows).toEqual([{ killed: true }]);
      const deadline = Date.now() + 5000;
      // b may take over before a's next check notices the loss: for that moment both think they
      // lead, and the tick claims keep each tick to one run.
      while ((!b.scheduler.leading || a.scheduler.leading) && Date.now() < deadline)
        await sleep(50);
      expect(b.scheduler.leading).toBe(true);
      expect(a.scheduler.leading).toBe(false);
      await sleep(HALF_MS);
    } finally {
      await a.scheduler.stop();
      await b.scheduler.stop();
      await observer.close();
      await a.ws.close();
      await b.ws.close();
    }
    const counts = new Map<string, number>();
    for (const t of ticks) counts.set(t.tick, (counts.get(t.tick) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1);
    expect(twice).toEqual([]);
    // Every second from the first tick to the last ran: none missing across the failover.
    const seconds = [...counts.keys()].map(Date.parse).sort((x, y) => x - y);
    const expected = (seconds.at(-1)! - seconds[0]!) / 1000 + 1;
    expect(seconds).toHaveLength(expected);
    expect(seconds.length).toBeGreaterThanOrEqual((2 * HALF_MS) / 1000 - 2);
    // Both fired: a before the failover, b after.
    expect(new Set(ticks.map((t) => t.by))).toEqual(new Set(['a', 'b']));
    expect(a.events.some((e) => e.message.startsWith('no longer leading'))).toBe(true);
  }, 60_000);
});
