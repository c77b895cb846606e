/**
 * Several workers (issue 18): the e-commerce template with its state and warehouse on PostgreSQL
 * (a database of the test's own, dropped after), three `tributary worker` processes and one
 * `tributary run`, every one a separate process of the built CLI. The run finishes and every mart
 * and snapshot has the row counts and sums of a single-process DuckDB run of the same generated
 * data; every lake zone holds the same rows.
 *
 * Then the fault test: during such runs a random worker busy with a step is SIGKILLed at a random
 * (seeded) moment and a replacement started. The victim is frozen (SIGSTOP) first and its claims
 * read from the work queue once none of its sessions is mid-statement, so the claims it dies
 * with are known exactly. Every run still finishes, no row is lost or doubled in any lake zone or
 * warehouse table, and exactly the victim's claims were claimed again (their leases expired) and
 * completed once each by another worker: each task's queue state says done, and each step's
 * history has one outcome. CI runs WORKER_FAULT_TRIALS (default 3) trials;
 * `WORKER_FAULT_TRIALS=20` runs the issue's twenty.
 *
 * The workers here are on one machine, so they share the project's lake folder; workers on
 * several machines need the lake on storage they all reach (and the same project files).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Client as PgClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWithOwnCollector } from '../../src/cli/commands/generate.js';
import { initProject } from '../../src/cli/commands/init.js';
import { seededRandom, silentProgress } from '../../src/core/index.js';
import { openWorkspace, runPipeline, type Workspace } from '../../src/orchestrator/index.js';
import { tempDir, withWorkspace } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { freshPostgresDatabase } from '../sync/support.js';
import { allFigures, martsOf, type Figures } from '../warehouse-figures.js';

const CLI = resolve(import.meta.dirname, '../../bin/tributary.js');
const available = await serviceAvailable('postgres', postgresTestUrl);
const URL_ENV = 'TRIBUTARY_TEST_WORKERS_URL';
const TRIALS = Number(process.env.WORKER_FAULT_TRIALS ?? 3);
/** A short lease, so a killed worker's step is taken over in seconds (heartbeats every 500 ms). */
const LEASE_MS = 3000;

/** Rows (and files) in each lake table, by its manifest: `raw/web/events` → figures. */
function lakeFigures(dir: string): Record<string, { files: number; rows: number }> {
  const lake = join(dir, '.tributary', 'lake');
  const out: Record<string, { files: number; rows: number }> = {};
  for (const entry of readdirSync(lake, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name !== '_manifest.json') continue;
    const manifest = JSON.parse(readFileSync(join(entry.parentPath, entry.name), 'utf8')) as {
      files?: { rows?: number }[];
    };
    const files = manifest.files ?? [];
    out[entry.parentPath.slice(lake.length + 1)] = {
      files: files.length,
      rows: files.reduce((n, f) => n + (f.rows ?? 0), 0),
    };
  }
  return out;
}

/** The processed tables' row counts as the warehouse has them (loaded from the lake). */
async function processedCounts(ws: Workspace): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ws.project.tables) {
    const relation = ws.warehouse.dialect.relation('processed', table.table);
    const { rows } = await ws.warehouse.query(`select count(*) as n from ${relation}`);
    out[table.table] = Number(rows[0]!.n);
  }
  return out;
}

/** A claim the killed worker held when it died. */
interface KilledClaim {
  runId: string;
  task: string;
  attempt: number;
}

/** The pid in a worker's name (host-pid-id). */
function workerPid(worker: string | null): number {
  return Number(/-(\d+)-[0-9a-z]+$/.exec(worker ?? '')?.[1]);
}

/** The project's environment with its database sessions named `name` (application_name). */
function sessionsNamed(env: Record<string, string>, name: string): Record<string, string> {
  const url = new URL(env[URL_ENV]!);
  url.searchParams.set('application_name', name);
  return { ...env, [URL_ENV]: url.toString() };
}

/** Runs `fn` on a client of the project's database of its own. */
async function withClient<T>(
  env: Record<string, string>,
  fn: (client: PgClient) => Promise<T>,
): Promise<T> {
  const pg = await import('pg');
  const client = new pg.default.Client({ connectionString: env[URL_ENV] });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

interface Started {
  child: ChildProcess;
  exit: Promise<number | null>;
  stderr: () => string;
}

function startCli(dir: string, env: NodeJS.ProcessEnv, ...args: string[]): Started {
  const child = spawn(process.execPath, [CLI, '-p', dir, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  child.stdout!.on('data', (b: Buffer) => (err += b.toString()));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exit, stderr: () => err };
}

/** A shared copy of the pristine project: its own database for state and warehouse. */
async function sharedProject(pristine: string, root: string, name: string) {
  const dir = join(root, name);
  cpSync(pristine, dir, { recursive: true });
  const db = await freshPostgresDatabase('workers');
  const yml = join(dir, 'tributary.yml');
  writeFileSync(
    yml,
    readFileSync(yml, 'utf8').replace(
      /^models:/m,
      `warehouse: { engine: postgres, url: { env: ${URL_ENV} } }\n\nmodels:`,
    ),
  );
  appendFileSync(yml, `\nstate:\n  store: postgres\n  url: { env: ${URL_ENV} }\n  schema: state\n`);
  const env = { [URL_ENV]: db.url, TRIBUTARY_LEASE_MS: String(LEASE_MS) };
  return { dir, db, env };
}

describe.skipIf(!available)('three workers and a run on PostgreSQL state and warehouse', () => {
  let root: string;
  let pristine: string;
  let marts: Map<string, string[]>;
  let want: { marts: Record<string, Figures>; lake: ReturnType<typeof lakeFigures> };
  let wantProcessed: Record<string, number>;
  const dropLater: (() => Promise<void>)[] = [];
  const running: ChildProcess[] = [];

  beforeAll(async () => {
    root = tempDir('trib-workers-');
    pristine = await initProject(join(root, 'pristine'), 'ecommerce');
    await generateWithOwnCollector(pristine, { scale: 0.01, seed: 11, progress: silentProgress });
    const duck = join(root, 'duck');
    cpSync(pristine, duck, { recursive: true });
    await withWorkspace(duck, async (ws) => {
      const run = await runPipeline(ws, { exclude: ['kind:sync'] });
      expect(run.status).toBe('succeeded');
      marts = await martsOf(ws);
      want = { marts: await allFigures(ws, marts), lake: lakeFigures(duck) };
      wantProcessed = await processedCounts(ws);
    });
  }, 600_000);

  afterAll(async () => {
    for (const c of running) c.kill('SIGKILL');
    for (const drop of dropLater) await drop().catch(() => undefined);
  });

  /** The shared project's figures equal the single-process DuckDB run's. */
  async function expectSameData(dir: string, env: Record<string, string>): Promise<void> {
    expect(lakeFigures(dir)).toEqual(want.lake);
    process.env[URL_ENV] = env[URL_ENV];
    const ws = await openWorkspace(dir, 'test');
    try {
      expect(await processedCounts(ws)).toEqual(wantProcessed);
      const got = await allFigures(ws, marts);
      for (const [relation, figures] of Object.entries(want.marts)) {
        expect(got[relation]!.rows, relation).toBe(figures.rows);
        for (const [column, sum] of Object.entries(figures.sums))
          if (sum === null) expect(got[relation]!.sums[column]).toBeNull();
          else expect(got[relation]!.sums[column], `${relation}.${column}`).toBeCloseTo(sum, 4);
      }
    } finally {
      await ws.close();
      delete process.env[URL_ENV];
    }
  }

  /**
   * Every task of the run completed once: done in the queue, one outcome line in its step's log
   * (a killed worker's attempt never wrote one). Returns the tasks claimed more than once.
   */
  async function expectEachStepCompletedOnce(
    dir: string,
    env: Record<string, string>,
  ): Promise<string[]> {
    process.env[URL_ENV] = env[URL_ENV];
    const ws = await openWorkspace(dir, 'test');
    try {
      const runs = (await ws.state.listRuns(10)).filter((r) => r.command !== 'test');
      expect(runs.map((r) => r.status)).toEqual(['succeeded']);
      const runId = runs[0]!.runId;
      const tasks = await ws.queue!.tasks(runId);
      expect(tasks.length).toBeGreaterThan(20);
      for (const t of tasks) expect(['succeeded', 'up_to_date'], t.task).toContain(t.state);
      const steps = await ws.state.listSteps(runId);
      expect(steps.map((s) => s.asset).sort()).toEqual(tasks.map((t) => t.task).sort());
      const outcomes = new Map<string, number>();
      for (const line of await ws.state.stepLogs(runId))
        if (/^(succeeded|up_to_date|failed|skipped|cancelled)\s/.test(line.line))
          outcomes.set(line.asset, (outcomes.get(line.asset) ?? 0) + 1);
      // A step runs again only when its worker was lost after running it and before completing
      // it: one outcome line per claim at most, and exactly one for a step claimed once.
      for (const t of tasks) {
        expect(outcomes.get(t.task), t.task).toBeGreaterThanOrEqual(1);
        expect(outcomes.get(t.task), t.task).toBeLessThanOrEqual(t.attempt);
        if (t.attempt === 1) expect(outcomes.get(t.task), t.task).toBe(1);
      }
      return tasks.filter((t) => t.attempt > 1).map((t) => t.task);
    } finally {
      await ws.close();
      delete process.env[URL_ENV];
    }
  }

  async function stopWorkers(workers: Started[]): Promise<void> {
    for (const w of workers) w.child.kill('SIGTERM');
    for (const w of workers) expect(await w.exit, w.stderr()).not.toBeNull();
  }

  it('runs the template across three worker processes, with the same results as one DuckDB process', async () => {
    const { dir, db, env } = await sharedProject(pristine, root, 'shared');
    dropLater.push(() => db.drop());
    const workers = [1, 2, 3].map(() => startCli(dir, env, '--verbose', 'worker', '--slots', '2'));
    running.push(...workers.map((w) => w.child));
    const run = startCli(dir, env, 'run', '--exclude', 'kind:sync');
    running.push(run.child);
    expect(await run.exit, run.stderr()).toBe(0);
    await stopWorkers(workers);
    // The workers did their share: each logged steps it finished.
    const busy = workers.filter((w) => /\s(succeeded|up_to_date) run_/.test(w.stderr()));
    expect(busy.length, workers.map((w) => w.stderr()).join('\n---\n')).toBeGreaterThan(0);
    await expectSameData(dir, env);
    await expectEachStepCompletedOnce(dir, env);
  }, 600_000);

  it(
    `survives a worker SIGKILLed at a random moment (${TRIALS} seeded trials)`,
    async () => {
      for (let trial = 0; trial < TRIALS; trial++) {
        const random = seededRandom(1800 + trial);
        const { dir, db, env } = await sharedProject(pristine, root, `fault-${trial}`);
        dropLater.push(() => db.drop());
        // Each worker's sessions carry its own application_name, so the test can tell when a
        // frozen or killed worker has nothing left in flight at the server.
        const worker = (name: string) =>
          startCli(dir, sessionsNamed(env, name), 'worker', '--slots', '2');
        const workers = [1, 2, 3].map((i) => worker(`w${trial}-${i}`));
        running.push(...workers.map((w) => w.child));
        const run = startCli(dir, env, 'run', '--exclude', 'kind:sync', '--concurrency', '1');
        running.push(run.child);
        let done = false;
        void run.exit.then(() => (done = true));
        // A random moment, then the first worker (in a random order) found holding a claim.
        await new Promise((r) => setTimeout(r, 1000 + random() * 8000));
        const order = [0, 1, 2].sort(() => random() - 0.5);
        let killed: { victim: Started; claims: KilledClaim[] } | undefined;
        while (!killed && !done) {
          const busyPids = await claimedWorkerPids(env);
          const victim = order.map((i) => workers[i]!).find((w) => busyPids.has(w.child.pid!));
          if (victim)
            killed = await killHoldingClaims(
              env,
              victim,
              `w${trial}-${workers.indexOf(victim) + 1}`,
            );
          if (!killed) await new Promise((r) => setTimeout(r, 100));
        }
        expect(killed, `trial ${trial}: no worker was caught holding a claim`).toBeDefined();
        const { victim, claims } = killed!;
        const replacement = worker(`w${trial}-replacement`);
        running.push(replacement.child);
        workers[workers.indexOf(victim)] = replacement;
        expect(await run.exit, `trial ${trial}: ${run.stderr()}`).toBe(0);
        await stopWorkers(workers);
        await expectSameData(dir, env);
        const retaken = await expectEachStepCompletedOnce(dir, env);
        // Exactly the victim's claims at its death were claimed again, and each was completed
        // (once: the queue's fencing) by another worker, on a later claim than the victim's.
        expect(retaken.sort(), `trial ${trial}`).toEqual(claims.map((c) => c.task).sort());
        const final = await finalTasks(env, claims[0]!.runId);
        for (const c of claims) {
          const t = final.get(c.task)!;
          expect(['succeeded', 'up_to_date'], c.task).toContain(t.state);
          expect(t.attempt, c.task).toBeGreaterThan(c.attempt);
          expect(workerPid(t.worker), c.task).not.toBe(victim.child.pid);
        }
        console.log(
          `worker fault trial ${trial}: killed pid ${victim.child.pid} holding ${claims.map((c) => `${c.task}#${c.attempt}`).join(', ')}`,
        );
      }
    },
    300_000 * Math.max(1, TRIALS),
  );

  /**
   * Freezes `victim` (SIGSTOP) and, once none of its sessions is running a statement, reads the
   * claims it holds: it can change none of them now, and what it had not committed dies with
   * it. With claims, it is SIGKILLed and they are returned; without, it is let go (undefined).
   */
  async function killHoldingClaims(
    env: Record<string, string>,
    victim: Started,
    sessions: string,
  ): Promise<{ victim: Started; claims: KilledClaim[] } | undefined> {
    const pid = victim.child.pid!;
    victim.child.kill('SIGSTOP');
    const claims = await withClient(env, async (client) => {
      await untilNoSessions(client, sessions, `AND state = 'active'`);
      const { rows } = await client.query<{ run_id: string; task: string; attempt: number }>(
        `select run_id, task, attempt from state.work_tasks where state = 'claimed' and worker like $1`,
        [`%-${pid}-%`],
      );
      return rows.map((r) => ({ runId: r.run_id, task: r.task, attempt: Number(r.attempt) }));
    });
    if (!claims.length) {
      victim.child.kill('SIGCONT');
      return undefined;
    }
    victim.child.kill('SIGKILL');
    await victim.exit;
    await withClient(env, (client) => untilNoSessions(client, sessions, ''));
    return { victim, claims };
  }

  /** Waits until the server has no session named `name` (matching `extra`); fails after 10 s. */
  async function untilNoSessions(client: PgClient, name: string, extra: string): Promise<void> {
    const end = Date.now() + 10_000;
    for (;;) {
      const { rows } = await client.query<{ n: string }>(
        `select count(*) as n from pg_stat_activity where application_name = $1 ${extra}`,
        [name],
      );
      if (Number(rows[0]!.n) === 0) return;
      if (Date.now() > end) throw new Error(`sessions of ${name} still busy after 10 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** A run's tasks as the queue ends with them. */
  async function finalTasks(
    env: Record<string, string>,
    runId: string,
  ): Promise<Map<string, { state: string; attempt: number; worker: string | null }>> {
    return withClient(env, async (client) => {
      const { rows } = await client.query<{
        task: string;
        state: string;
        attempt: number;
        worker: string | null;
      }>(`select task, state, attempt, worker from state.work_tasks where run_id = $1`, [runId]);
      return new Map(rows.map((r) => [r.task, { ...r, attempt: Number(r.attempt) }]));
    });
  }

  /** Pids of worker processes holding a claim now (a worker's name is host-pid-id). */
  async function claimedWorkerPids(env: Record<string, string>): Promise<Set<number>> {
    return withClient(env, async (client) => {
      try {
        const { rows } = await client.query<{ worker: string }>(
          `select worker from state.work_tasks where state = 'claimed'`,
        );
        return new Set(rows.map((r) => workerPid(r.worker)));
      } catch {
        return new Set<number>(); // the queue's tables are not there yet
      }
    });
  }
});
