/**
 * A run's record and what must commit with it (issue 18): its schedule tick's claim, and, in
 * shared mode, its tasks in the work queue. Fault points between those writes (core/faults.ts)
 * prove that a failure, or a process killed there, leaves neither: no tick claimed without its
 * run, no run `running` with nothing queued. On DuckDB state (one process) and on PostgreSQL
 * state and warehouse (shared: the work queue). A run left without tasks by an earlier version
 * is failed by the reaper a lease after it started.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  NEVER_QUEUED,
  TickHandled,
  openWorkspace,
  reapFinishedRuns,
  runPipeline,
  type Workspace,
} from '../../src/orchestrator/index.js';
import { WorkQueue } from '../../src/state/index.js';
import { tempDir, writeFiles } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { freshPostgresDatabase } from '../sync/support.js';

const CLI = resolve(import.meta.dirname, '../../bin/tributary.js');
const pgAvailable = await serviceAvailable('postgres', postgresTestUrl);
const URL_ENV = 'TRIBUTARY_TEST_LIFECYCLE_URL';
const T0 = '2024-01-10T00:00:00.000Z';
const T1 = '2024-01-11T00:00:00.000Z';

afterEach(() => {
  delete process.env.TRIBUTARY_FAULT;
});

function project(shared: boolean): string {
  const dir = tempDir('trib-lifecycle-');
  writeFiles(dir, {
    'tributary.yml': shared
      ? `name: lifecycle
state: { store: postgres, url: { env: ${URL_ENV} }, schema: state }
warehouse: { engine: postgres, url: { env: ${URL_ENV} } }
`
      : 'name: lifecycle\n',
    'models/a.sql': 'select 1 as n',
    'models/b.sql': "select n from {{ ref('a') }}",
  });
  return dir;
}

/** The state's runs of a command (the test's own runs have distinct commands). */
async function runsOf(ws: Workspace, command: string) {
  return (await ws.state.listRuns(100)).filter((r) => r.command === command);
}

const tickRun = (command: string) => ({
  command,
  trigger: 'schedule:nightly',
  tick: { schedule: 'nightly', at: T1 },
});

const engines = [
  { name: 'DuckDB state', shared: false, available: true },
  { name: 'PostgreSQL state and warehouse', shared: true, available: pgAvailable },
] as const;

for (const engine of engines) {
  describe.skipIf(!engine.available)(`a run's record on ${engine.name}`, () => {
    let dir: string;
    let ws: Workspace;
    let drop: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      if (engine.shared) {
        const db = await freshPostgresDatabase('lifecycle');
        process.env[URL_ENV] = db.url;
        drop = db.drop;
      }
      // A short lease, so the reaper's wait for a run without tasks is a second.
      process.env.TRIBUTARY_LEASE_MS = '1000';
      dir = project(engine.shared);
      ws = await openWorkspace(dir, 'test');
    });

    afterAll(async () => {
      await ws?.close();
      delete process.env.TRIBUTARY_LEASE_MS;
      delete process.env[URL_ENV];
      await drop?.();
    });

    it('claims a tick exactly when it records the tick’s run: a failure between leaves neither', async () => {
      await ws.state.setLastTick('nightly', T0);
      for (const point of ['tick-claimed:nightly', 'run-recorded:schedule:nightly']) {
        process.env.TRIBUTARY_FAULT = point;
        await expect(runPipeline(ws, tickRun(`tick ${point}`))).rejects.toThrow(
          `fault injected at ${point}`,
        );
        delete process.env.TRIBUTARY_FAULT;
        expect(await ws.state.lastTick('nightly'), point).toBe(T0);
        expect(await runsOf(ws, `tick ${point}`), point).toEqual([]);
      }
      // Not lost: the tick is still there to run, and runs once.
      const run = await runPipeline(ws, tickRun('tick T1'));
      expect(run.status).toBe('succeeded');
      expect(await ws.state.lastTick('nightly')).toBe(T1);
      const again = runPipeline(ws, tickRun('tick T1 again'));
      await expect(again).rejects.toBeInstanceOf(TickHandled);
      expect(await runsOf(ws, 'tick T1 again')).toEqual([]);
      expect((await runsOf(ws, 'tick T1')).map((r) => r.status)).toEqual(['succeeded']);
    });

    it('fails a run that has no tasks a lease after it started, saying why', async () => {
      const queue = ws.queue ?? (await WorkQueue.open(ws.state.engine, { leaseMs: 1000 }));
      // What an earlier version left when its starter died between the two writes.
      await ws.state.startRun('run_unqueued', 'run', { plan: ['model:a', 'model:b'] });
      await reapFinishedRuns(ws, queue);
      expect((await ws.state.getRun('run_unqueued'))?.status).toBe('running'); // too young
      await new Promise((r) => setTimeout(r, 1100));
      await reapFinishedRuns(ws, queue);
      expect((await ws.state.getRun('run_unqueued'))?.status).toBe('failed');
      const steps = await ws.state.listSteps('run_unqueued');
      expect(steps.map((s) => [s.asset, s.status, s.message])).toEqual([
        ['model:a', 'failed', NEVER_QUEUED],
        ['model:b', 'failed', NEVER_QUEUED],
      ]);
      expect(await ws.state.runningRuns()).toEqual([]);
    });

    // Shared mode only: with DuckDB state nothing is queued.
    if (engine.shared)
      it('records a shared run with its tasks or not at all, also when its process is killed between', async () => {
        process.env.TRIBUTARY_FAULT = 'run-recorded:cli';
        await expect(runPipeline(ws, { command: 'faulted' })).rejects.toThrow(
          'fault injected at run-recorded:cli',
        );
        delete process.env.TRIBUTARY_FAULT;
        expect(await runsOf(ws, 'faulted')).toEqual([]);
        // A real crash there: the CLI's process exits in the middle of the transaction.
        const crashed = spawnSync(process.execPath, [CLI, '-p', dir, 'run'], {
          env: { ...process.env, TRIBUTARY_FAULT: 'crash:run-recorded:cli' },
          encoding: 'utf8',
        });
        expect(crashed.status, crashed.stderr).toBe(137);
        expect(crashed.stderr).toContain('crashing at run-recorded:cli');
        expect(await ws.state.runningRuns()).toEqual([]);
        const { rows } = await ws.state.engine.query(`SELECT count(*) AS n FROM work_tasks
          WHERE run_id NOT IN (SELECT run_id FROM runs)`);
        expect(Number(rows[0]!.n)).toBe(0);
        // Recorded and queued together, it runs.
        const run = await runPipeline(ws, { command: 'after the crash' });
        expect(run.status).toBe('succeeded');
        const tasks = await ws.queue!.tasks(run.runId);
        expect(tasks.map((t) => t.task)).toEqual(['model:a', 'model:b']);
        for (const t of tasks) expect(['succeeded', 'up_to_date']).toContain(t.state);
      }, 120_000);
  });
}
