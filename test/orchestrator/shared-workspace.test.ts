/**
 * Shared mode (state and warehouse both on PostgreSQL): several processes open one project at
 * once, with no lock file, each in a scratch folder of its own; a project with a DuckDB warehouse
 * or DuckDB state still has one owner. The PostgreSQL database is the test's own, dropped after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/index.js';
import {
  finishQueuedRun,
  openWorkspace,
  queuedRunOpener,
  runPipeline,
  type QueuedRunPayload,
} from '../../src/orchestrator/index.js';
import { tempDir, writeFiles } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { freshPostgresDatabase } from '../sync/support.js';

const available = await serviceAvailable('postgres', postgresTestUrl);
const URL_ENV = 'TRIBUTARY_TEST_SHARED_URL';

function project(config: string): string {
  const dir = tempDir('trib-shared-');
  writeFiles(dir, {
    'tributary.yml': `name: shared\n${config}`,
    'models/a.sql': 'select 1 as n',
  });
  return dir;
}

const pgState = `state:\n  store: postgres\n  url: { env: ${URL_ENV} }\n  schema: state\n`;
const pgWarehouse = `warehouse: { engine: postgres, url: { env: ${URL_ENV} } }\n`;

describe.skipIf(!available)('opening a project from several processes', () => {
  let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let other: ChildProcess;

  beforeAll(async () => {
    db = await freshPostgresDatabase('shared');
    process.env[URL_ENV] = db.url;
    // A live process that is not this one, to name in a lock file.
    other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  });

  afterAll(async () => {
    other?.kill('SIGKILL');
    delete process.env[URL_ENV];
    await db?.drop();
  });

  /** A lock file naming the other live process, as if it had the project open. */
  function lockedByOther(dir: string): void {
    mkdirSync(join(dir, '.tributary'), { recursive: true });
    writeFileSync(
      join(dir, '.tributary', 'lock'),
      JSON.stringify({ pid: other.pid, command: 'run', startedAt: new Date().toISOString() }),
    );
  }

  it('opens a PostgreSQL-state, PostgreSQL-warehouse project twice at once, with no lock file', async () => {
    const dir = project(pgState + pgWarehouse);
    lockedByOther(dir); // a lock file means nothing in shared mode
    const first = await openWorkspace(dir, 'worker');
    const second = await openWorkspace(dir, 'run');
    try {
      expect(first.shared).toBe(true);
      expect(second.shared).toBe(true);
      // Each process (here each workspace) has its own scratch folder under .tributary/tmp.
      expect(first.project.paths.tmp).not.toBe(second.project.paths.tmp);
      expect(dirname(first.project.paths.tmp)).toBe(join(dir, '.tributary', 'tmp'));
      expect(basename(first.project.paths.tmp)).toMatch(
        new RegExp(`^${hostname().replace(/[^A-Za-z0-9.]/g, '_')}-${process.pid}-`),
      );
      expect(existsSync(second.project.paths.tmp)).toBe(true);
      const { rows } = await second.warehouse.query('select 1 as one');
      expect(rows[0]!.one).toBe(1);
    } finally {
      await first.close();
      await second.close();
    }
    expect(existsSync(first.project.paths.tmp)).toBe(false);
  });

  it("leaves live processes' files alone, and removes what dead ones left", async () => {
    const dir = project(pgState + pgWarehouse);
    const tmp = join(dir, '.tributary', 'tmp');
    const host = hostname().replace(/[^A-Za-z0-9.]/g, '_');
    const dead = join(tmp, `${host}-999999999-abc`);
    const live = join(tmp, `${host}-${other.pid}-abc`);
    const elsewhere = join(tmp, `another.host-1-abc`);
    for (const d of [dead, live, elsewhere]) mkdirSync(d, { recursive: true });
    const reports = join(dir, '.tributary', 'reports');
    mkdirSync(reports, { recursive: true });
    const inFlight = join(reports, '.a.csv.1234.tmp');
    const stale = join(reports, '.b.csv.5678.tmp');
    writeFileSync(inFlight, 'x');
    writeFileSync(stale, 'x');
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(stale, hourAgo, hourAgo);
    const ws = await openWorkspace(dir, 'worker');
    await ws.close();
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(elsewhere)).toBe(true);
    expect(existsSync(inFlight)).toBe(true);
    expect(existsSync(stale)).toBe(false);
  });

  it('keeps the lock file with a DuckDB warehouse, whatever the state store', async () => {
    for (const config of ['', pgState]) {
      const dir = project(config);
      lockedByOther(dir);
      const err = await openWorkspace(dir, 'run').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TributaryError);
      expect((err as TributaryError).code).toBe('LOCKED');
      expect((err as Error).message).toContain(`in use by process ${other.pid}`);
    }
  });
});

/** items.csv → processed.items → model a → model b, and c failing (d downstream of it). */
function pipeline(config: string): string {
  const dir = tempDir('trib-shared-run-');
  writeFiles(dir, {
    'tributary.yml': `name: sharedrun
sources:
  app:
    type: files
    path: landing
    tables:
      items: { files: "items*.csv" }
${config}`,
    'contracts/items.yml': `primary_key: [id]
columns:
  - { name: id, type: bigint, required: true }
  - { name: amount, type: double }
`,
    'landing/items-1.csv': 'id,amount\n1,10\n2,5\n3,7\n',
    'models/_sources.yml': `version: 2
sources:
  - name: lake
    schema: processed
    tables: [{ name: items }]
`,
    'models/a.sql': `select id, amount from {{ source('lake', 'items') }}`,
    'models/b.sql': `select count(*) as n, sum(amount) as total from {{ ref('a') }}`,
    'models/c.sql': `select * from {{ ref('a') }} where no_such_column = 1`,
    'models/d.sql': `select * from {{ ref('c') }}`,
  });
  return dir;
}

describe.skipIf(!available)('a run of a shared project, through the work queue', () => {
  let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;

  beforeAll(async () => {
    db = await freshPostgresDatabase('sharedrun');
    process.env[URL_ENV] = db.url;
  });

  afterAll(async () => {
    delete process.env[URL_ENV];
    await db?.drop();
  });

  it('enqueues its steps, runs them as a worker, records skips, and finishes the run once', async () => {
    const dir = pipeline(pgState + pgWarehouse);
    const ws = await openWorkspace(dir, 'run');
    try {
      const result = await runPipeline(ws, {});
      const status = Object.fromEntries(result.steps.map((s) => [s.asset, s.status]));
      expect(status).toMatchObject({
        'raw:app.items': 'succeeded',
        'processed:items': 'succeeded',
        'model:a': 'succeeded',
        'model:b': 'succeeded',
        'model:c': 'failed',
        'model:d': 'skipped',
      });
      expect(result.status).toBe('failed');
      const run = await ws.state.getRun(result.runId);
      expect(run?.status).toBe('failed');
      const tasks = await ws.queue!.tasks(result.runId);
      expect(tasks.map((t) => [t.task, t.state]).sort()).toEqual(Object.entries(status).sort());
      // Each step claimed once, and its history written by the worker that ran it.
      for (const t of tasks.filter((x) => x.state !== 'skipped')) expect(t.attempt).toBe(1);
      const steps = await ws.state.listSteps(result.runId);
      expect(steps.find((s) => s.asset === 'model:d')).toMatchObject({ status: 'skipped' });
      expect(steps.find((s) => s.asset === 'model:d')?.message).toMatch(/upstream model:c failed/);
      const { rows } = await ws.warehouse.query(
        `select n, total from ${ws.warehouse.dialect.relation(ws.project.config.models.schema, 'b')}`,
      );
      expect(Number(rows[0]!.n)).toBe(3);
      expect(Number(rows[0]!.total)).toBe(22);
      // Finishing again is a no-op: the run is finished once.
      expect(await finishQueuedRun(ws, ws.queue!, result.runId)).toBe(0);
      expect(await ws.state.finishRunIfRunning(result.runId, 'succeeded')).toBe(false);
    } finally {
      await ws.close();
    }
  });
  /** Starts a queued run of the one step `task` and returns the payload its workers open. */
  async function startOneStepRun(
    ws: Awaited<ReturnType<typeof openWorkspace>>,
    runId: string,
    task: string,
  ): Promise<QueuedRunPayload> {
    await ws.state.startRun(runId, 'run', { plan: [task] });
    return {
      command: 'run',
      steps: [{ key: task, asset: task, deps: [] }],
      fullRefresh: false,
      retryRejected: false,
      forecastBacktestOnly: false,
      now: new Date().toISOString(),
    };
  }
  it("keeps a lost worker's step log and the next claim's, one after the other", async () => {
    // A worker that wrote a step's history and log, then died before completing its task: the
    // worker that claims the task next runs the step again, and its lines (the claim, the
    // outcome) follow the lost worker's in the step's log; none is dropped as a duplicate.
    const dir = pipeline(pgState + pgWarehouse);
    const ws = await openWorkspace(dir, 'run');
    try {
      const runId = 'run_lostlogs';
      const task = 'raw:app.items';
      const payload = await startOneStepRun(ws, runId, task);
      const open = queuedRunOpener(ws);
      const lost = open(runId, payload);
      expect((await lost.runTask(task, 1, new AbortController().signal)).status).toBe('succeeded');
      await lost.close();
      const before = await ws.state.stepLogs(runId, task);
      const next = open(runId, payload);
      expect((await next.runTask(task, 2, new AbortController().signal)).status).toBe('up_to_date');
      await next.close();
      const lines = await ws.state.stepLogs(runId, task);
      expect(lines.slice(0, before.length)).toEqual(before);
      const after = lines.slice(before.length).map((l) => l.line);
      expect(after[0]).toBe('claim 2: the worker that had this step before was lost');
      expect(after.at(-1)).toMatch(/^up_to_date\s/);
      // The first claim numbers its lines from 1, the second from its own range (a lost worker's
      // late insert can never take the next claim's numbers).
      expect(before.map((l) => l.seq)).toEqual(before.map((_, i) => i + 1));
      expect(lines.slice(before.length).map((l) => l.seq)).toEqual(
        after.map((_, i) => 1_000_000 + i + 1),
      );
      expect((await ws.state.listSteps(runId))[0]).toMatchObject({ status: 'up_to_date' });
    } finally {
      await ws.close();
    }
  });
  it("keeps the next claim's log when the lost worker's last insert lands after it", async () => {
    // SIGKILL can leave a worker's INSERT of its log lines in flight: PostgreSQL commits it after
    // the next claim has read the step's log (seen empty) and written its own lines. Lines are
    // inserted ON CONFLICT DO NOTHING, so had both claims numbered from 1, the late insert or
    // the next claim's lines would be lost; each claim has its own range instead.
    const dir = pipeline(pgState + pgWarehouse);
    const ws = await openWorkspace(dir, 'run');
    try {
      const runId = 'run_latelogs';
      const task = 'raw:app.items';
      const payload = await startOneStepRun(ws, runId, task);
      const next = queuedRunOpener(ws)(runId, payload);
      expect((await next.runTask(task, 2, new AbortController().signal)).status).toBe('succeeded');
      await next.close();
      const earlier = new Date(Date.now() - 60_000).toISOString(); // logged before it died
      const late = [
        { runId, asset: task, seq: 1, at: earlier, line: 'attempt 1' },
        { runId, asset: task, seq: 2, at: earlier, line: 'succeeded (lost)' },
      ];
      await ws.state.insertStepLogs(late);
      const lines = (await ws.state.stepLogs(runId, task)).map((l) => l.line);
      expect(lines.slice(0, 2)).toEqual(['attempt 1', 'succeeded (lost)']);
      expect(lines[2]).toBe('claim 2: the worker that had this step before was lost');
      expect(lines.at(-1)).toMatch(/^succeeded\s/);
    } finally {
      await ws.close();
    }
  });
});
