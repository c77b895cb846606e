/**
 * The worker loop (src/dag/queue-worker.ts) over the real work queue: several workers drain a
 * graph in dependency order with no task run twice; a lease lost mid-task aborts the task and
 * drops its result while another worker completes it; abort gives running claims back; tasks
 * finishing together are completed in one batch when the queue can (and one by one when not).
 * PostgreSQL holds the queue when it is there (the workers' real setting), else DuckDB.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { runQueueWorker, type TaskQueue } from '../../src/dag/index.js';
import { openDuckDB, openPostgres, type Engine } from '../../src/engines/index.js';
import { WorkQueue, type Claim } from '../../src/state/index.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';

const pg = await serviceAvailable('postgres', postgresTestUrl);
const schema = `qw_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e9)}`;
const engines: Engine[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function openQueue(options = {}): Promise<WorkQueue> {
  if (!pg) {
    if (!engines.length) engines.push(await openDuckDB({ path: ':memory:' }));
    return WorkQueue.open(engines[0]!, options);
  }
  if (!engines.length) {
    const admin = await openPostgres({ url: postgresTestUrl });
    await admin.exec(`CREATE SCHEMA "${schema}"`);
    engines.push(admin);
  }
  const e = await openPostgres({ url: postgresTestUrl, schema });
  engines.push(e);
  return WorkQueue.open(e, options);
}

afterAll(async () => {
  if (pg) await engines[0]!.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  for (const e of engines.reverse()) await e.close();
});

describe(`queue workers (${pg ? 'PostgreSQL' : 'DuckDB'} queue)`, () => {
  it('three workers drain a graph in dependency order, each task run once', async () => {
    const q0 = await openQueue();
    const tasks = Array.from({ length: 60 }, (_, i) => ({
      task: `t${i}`,
      deps: i < 6 ? [] : [`t${i - 6}`, `t${(i * 5) % i}`],
    }));
    await q0.enqueue('run', tasks);
    const ran: string[] = [];
    const finished = new Set<string>();
    const early: string[] = [];
    const stop = new AbortController();
    const workers = await Promise.all([0, 1, 2].map(() => openQueue()));
    const stats = await Promise.all(
      workers.map((q, w) =>
        runQueueWorker(q, {
          worker: `w${w}`,
          slots: 3,
          idleMs: 20,
          stop: stop.signal,
          async execute(c) {
            const deps = tasks.find((t) => t.task === c.task)!.deps;
            if (deps.some((d) => !finished.has(d))) early.push(c.task);
            ran.push(c.task);
            await sleep(1 + (c.task.length % 3));
            return c.task === 't59'
              ? { status: 'failed', message: 'boom' }
              : { status: 'succeeded' };
          },
          onFinish: (c) => finished.add(c.task),
          onIdle: async () => {
            const p = await q.progress('run');
            return p.waiting + p.ready + p.claimed === 0;
          },
        }),
      ),
    );
    expect(early).toEqual([]);
    expect(ran.length).toBe(60);
    expect(new Set(ran).size).toBe(60);
    expect(stats.reduce((n, s) => n + s.completed, 0)).toBe(60);
    expect(await q0.progress('run')).toMatchObject({ succeeded: 59, failed: 1 });
  }, 60_000);

  it('group-commits completions: tasks finishing while one is written go in one batch', async () => {
    const q = await openQueue();
    await q.enqueue(
      'batch',
      Array.from({ length: 40 }, (_, i) => ({ task: `t${i}`, deps: i < 20 ? [] : [`t${i - 20}`] })),
    );
    const batches: number[] = [];
    const completeMany = q.completeMany.bind(q);
    q.completeMany = (worker, completions) => {
      batches.push(completions.length);
      return completeMany(worker, completions);
    };
    const stop = new AbortController();
    const stats = await runQueueWorker(q, {
      worker: 'batcher',
      slots: 8,
      idleMs: 10,
      stop: stop.signal,
      execute: async () => ({ status: 'succeeded' }),
      onIdle: async () => (await q.unfinished('batch')) === 0,
    });
    expect(stats).toMatchObject({ completed: 40, lost: 0 });
    expect(batches.reduce((a, b) => a + b, 0)).toBe(40);
    // Eight tasks claimed together finish together: the first is written alone, the seven
    // that finished meanwhile in the next batch.
    expect(Math.max(...batches)).toBeGreaterThan(1);
    expect(batches.length).toBeLessThan(40);
    expect(await q.progress('batch')).toMatchObject({ succeeded: 40 });
  }, 30_000);

  it('completes one by one with a queue that cannot batch', async () => {
    const q = await openQueue();
    await q.enqueue(
      'single',
      Array.from({ length: 12 }, (_, i) => ({ task: `t${i}`, deps: i < 4 ? [] : [`t${i - 4}`] })),
    );
    let completes = 0;
    const plain: TaskQueue<Claim> = {
      claim: (w, n) => q.claim(w, n),
      heartbeat: (w, c) => q.heartbeat(w, c),
      complete: (w, c, status, message) => (completes++, q.complete(w, c, status, message)),
      release: (w, c) => q.release(w, c),
    };
    const stop = new AbortController();
    const stats = await runQueueWorker(plain, {
      worker: 'plain',
      slots: 4,
      idleMs: 10,
      stop: stop.signal,
      execute: async (c) =>
        c.task === 't3' ? { status: 'failed', message: 'boom' } : { status: 'succeeded' },
      onIdle: async () => (await q.unfinished('single')) === 0,
    });
    expect(completes).toBe(10); // t7 and t11 are downstream of the failed t3: skipped, not run
    expect(stats).toMatchObject({ completed: 10, lost: 0 });
    expect(await q.progress('single')).toMatchObject({ succeeded: 9, failed: 1, skipped: 2 });
  }, 30_000);

  it('a worker that loses its lease mid-task is aborted and its result dropped', async () => {
    const q = await openQueue({ leaseMs: 150 });
    const other = await openQueue({ leaseMs: 150 });
    await q.enqueue('lease', [{ task: 'slow', deps: [] }]);
    const stop = new AbortController();
    let aborted = false;
    const taken: Claim[] = [];
    const slow = runQueueWorker(q, {
      worker: 'stalled',
      slots: 1,
      stop: stop.signal,
      heartbeatMs: 10_000, // never beats in time: it looks dead to the others
      async execute(c, signal) {
        taken.push(c);
        await sleep(600);
        aborted = signal.aborted;
        stop.abort(); // one task is all this worker does
        return { status: 'succeeded' };
      },
    });
    await sleep(300);
    const [claim] = await other.claim('rescuer', 1);
    expect(claim!.attempt).toBe(2);
    const stats = await slow;
    expect(stats).toMatchObject({ completed: 0, lost: 1 });
    expect(aborted).toBe(false); // no heartbeat ran, so nobody told it; the queue still refused
    expect(await other.complete('rescuer', claim!, 'succeeded')).toBe(true);
    expect((await other.tasks('lease'))[0]).toMatchObject({
      state: 'succeeded',
      worker: 'rescuer',
    });
  }, 30_000);

  it('a heartbeat that finds the lease taken over aborts the running task', async () => {
    const q = await openQueue({ leaseMs: 5_000 });
    const other = await openQueue({ leaseMs: 5_000 });
    await q.enqueue('beat', [{ task: 'long', deps: [] }]);
    const stop = new AbortController();
    let started = false;
    const loop = runQueueWorker(q, {
      worker: 'partitioned',
      slots: 1,
      stop: stop.signal,
      heartbeatMs: 30,
      async execute(_c, signal) {
        started = true;
        await new Promise((r) => signal.addEventListener('abort', r));
        stop.abort();
        return { status: 'failed', message: String(signal.reason) };
      },
    });
    while (!started) await sleep(10);
    // As if this worker had been cut off for longer than its lease and another had claimed the
    // task (the claim itself is the queue suite's business; here it must not race the beats).
    await engines[engines.length - 1]!.exec(
      `UPDATE work_tasks SET worker = 'rescuer', attempt = attempt + 1 WHERE run_id = 'beat'`,
    );
    const claim = { runId: 'beat', task: 'long', attempt: 2, readyAt: 0, startedAt: 0 };
    expect(await loop).toMatchObject({ completed: 0, lost: 1 });
    expect(await other.complete('rescuer', claim!, 'succeeded')).toBe(true);
  }, 30_000);

  it('aborting gives running claims back, ready for another worker', async () => {
    const q = await openQueue();
    await q.enqueue('abort', [
      { task: 'a', deps: [] },
      { task: 'b', deps: [] },
    ]);
    const stop = new AbortController();
    const abort = new AbortController();
    let started = 0;
    const loop = runQueueWorker(q, {
      worker: 'quitter',
      slots: 2,
      stop: stop.signal,
      abort: abort.signal,
      async execute(_c, signal) {
        started++;
        await new Promise((r) => signal.addEventListener('abort', r));
        return { status: 'succeeded' };
      },
    });
    while (started < 2) await sleep(10);
    stop.abort();
    abort.abort();
    expect(await loop).toMatchObject({ completed: 0, released: 2 });
    expect(await q.progress('abort')).toMatchObject({ ready: 2, claimed: 0 });
  }, 30_000);
});
