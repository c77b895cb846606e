/**
 * The shared work queue (src/state/work-queue.ts): one suite on DuckDB and on PostgreSQL for the
 * contract (readiness, leases, fencing, downstream skips), and on PostgreSQL alone what needs
 * several sessions at once: concurrent claims never take the same task, and a graph worked by
 * many sessions completes each task exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDB, openPostgres, type Engine } from '../../src/engines/index.js';
import { WorkQueue, type Claim } from '../../src/state/work-queue.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';

const pgAvailable = await serviceAvailable('postgres', postgresTestUrl);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh queue database per test: an in-memory DuckDB, or a new PostgreSQL schema. */
interface Backend {
  open(): Promise<Engine>;
  cleanup(): Promise<void>;
}

function duckdbBackend(): Backend {
  return { open: () => openDuckDB({ path: ':memory:' }), cleanup: async () => undefined };
}

function postgresBackend(): Backend {
  const schemas: string[] = [];
  return {
    async open() {
      const schema = `wq_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e9)}`;
      const admin = await openPostgres({ url: postgresTestUrl });
      await admin.exec(`CREATE SCHEMA "${schema}"`);
      await admin.close();
      schemas.push(schema);
      return openPostgres({ url: postgresTestUrl, schema });
    },
    async cleanup() {
      const admin = await openPostgres({ url: postgresTestUrl });
      for (const s of schemas) await admin.exec(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      await admin.close();
    },
  };
}

function describeWorkQueue(name: string, backend: () => Backend, skip = false): void {
  describe.skipIf(skip)(`work queue on ${name}`, () => {
    let b: Backend;
    const engines: Engine[] = [];
    const open = async (options = {}) => {
      const engine = await b.open();
      engines.push(engine);
      return WorkQueue.open(engine, options);
    };
    beforeAll(() => {
      b = backend();
    });
    afterAll(async () => {
      for (const e of engines) await e.close();
      await b.cleanup();
    });

    it('readies roots, then each task once its last upstream task finished', async () => {
      const q = await open();
      // a → c, b → c, c → d; `outside` is not enqueued, so it counts as done.
      await q.enqueue('r1', [
        { task: 'a', deps: [] },
        { task: 'b', deps: ['outside'] },
        { task: 'c', deps: ['a', 'b'] },
        { task: 'd', deps: ['c'] },
      ]);
      expect(await q.progress('r1')).toMatchObject({ ready: 2, waiting: 2 });
      const first = await q.claim('w1', 10);
      expect(first.map((c) => c.task)).toEqual(['a', 'b']);
      expect(first.every((c) => c.attempt === 1)).toBe(true);
      expect(await q.claim('w2', 10)).toEqual([]);
      expect(await q.complete('w1', first[0]!, 'succeeded')).toBe(true);
      expect(await q.claim('w2', 10)).toEqual([]); // c still waits for b
      expect(await q.complete('w1', first[1]!, 'up_to_date')).toBe(true);
      const [c] = await q.claim('w2', 10);
      expect(c!.task).toBe('c');
      expect(c!.startedAt).toBeGreaterThanOrEqual(c!.readyAt);
      expect(await q.complete('w2', c!, 'succeeded')).toBe(true);
      const [d] = await q.claim('w1', 10);
      expect(await q.complete('w1', d!, 'succeeded')).toBe(true);
      expect(await q.progress('r1')).toMatchObject({ succeeded: 3, up_to_date: 1, ready: 0 });
    });

    it('skips everything downstream of a failed task, and lets other branches go on', async () => {
      const q = await open();
      await q.enqueue('r2', [
        { task: 'a', deps: [] },
        { task: 'b', deps: ['a'] },
        { task: 'c', deps: ['b'] },
        { task: 'x', deps: [] },
        { task: 'y', deps: ['x', 'c'] },
        { task: 'z', deps: ['x'] },
      ]);
      const claims = await q.claim('w', 10);
      const byTask = new Map(claims.map((c) => [c.task, c]));
      expect(await q.complete('w', byTask.get('a')!, 'failed', 'boom')).toBe(true);
      expect(await q.complete('w', byTask.get('x')!, 'succeeded')).toBe(true);
      const tasks = Object.fromEntries((await q.tasks('r2')).map((t) => [t.task, t]));
      expect(tasks.a!.state).toBe('failed');
      expect(tasks.a!.message).toBe('boom');
      for (const t of ['b', 'c', 'y']) {
        expect(tasks[t]!.state).toBe('skipped');
        expect(tasks[t]!.message).toBe('upstream a failed');
      }
      expect(tasks.z!.state).toBe('ready');
    });

    it('fences completions: a worker whose lease was taken over cannot complete', async () => {
      const q = await open({ leaseMs: 100, maxClaims: 3 });
      await q.enqueue('r3', [
        { task: 'a', deps: [] },
        { task: 'b', deps: ['a'] },
      ]);
      const [mine] = await q.claim('slow', 1);
      await sleep(250); // the lease runs out: the worker is presumed dead
      const [theirs] = await q.claim('fast', 1);
      expect(theirs!.task).toBe('a');
      expect(theirs!.attempt).toBe(2);
      expect(await q.heartbeat('slow', [mine!])).toEqual([mine]); // lost
      expect(await q.complete('slow', mine!, 'succeeded')).toBe(false);
      expect(await q.progress('r3')).toMatchObject({ claimed: 1, waiting: 1 });
      expect(await q.heartbeat('fast', [theirs!])).toEqual([]); // still held
      expect(await q.complete('fast', theirs!, 'succeeded')).toBe(true);
      expect(await q.complete('fast', theirs!, 'succeeded')).toBe(false); // never twice
      expect(await q.progress('r3')).toMatchObject({ succeeded: 1, ready: 1 });
    });

    it('fails a task that lost its worker maxClaims times, skipping its downstream', async () => {
      const q = await open({ leaseMs: 50, maxClaims: 2 });
      await q.enqueue('r4', [
        { task: 'killer', deps: [] },
        { task: 'after', deps: ['killer'] },
      ]);
      expect((await q.claim('w1', 1))[0]!.attempt).toBe(1);
      await sleep(150);
      expect((await q.claim('w2', 1))[0]!.attempt).toBe(2);
      await sleep(150);
      expect(await q.claim('w3', 1)).toEqual([]);
      const tasks = await q.tasks('r4');
      expect(tasks[0]!.state).toBe('failed');
      expect(tasks[0]!.message).toMatch(/lost its worker 2 times/);
      expect(tasks[1]!.state).toBe('skipped');
    });

    it('releases claims unrun, cancels what has not started, and purges a run', async () => {
      const q = await open();
      await q.enqueue('r5', [
        { task: 'a', deps: [] },
        { task: 'b', deps: [] },
        { task: 'c', deps: ['a'] },
      ]);
      const claims = await q.claim('w', 2);
      await q.release('w', [claims[1]!]);
      expect(await q.progress('r5')).toMatchObject({ claimed: 1, ready: 1, waiting: 1 });
      expect(await q.cancel('r5')).toBe(2);
      expect(await q.complete('w', claims[0]!, 'succeeded')).toBe(true);
      // c was cancelled before a finished: finishing a does not bring it back.
      expect(await q.progress('r5')).toMatchObject({ succeeded: 1, cancelled: 2, ready: 0 });
      await q.purge('r5');
      expect(await q.tasks('r5')).toEqual([]);
    });

    it('completes a batch in one go: readiness counted set-wise, fencing per task', async () => {
      const q = await open({ leaseMs: 100 });
      // a, b → c (both finish in one batch); x → y; f fails in the batch: g is skipped.
      await q.enqueue('r6', [
        { task: 'a', deps: [] },
        { task: 'b', deps: [] },
        { task: 'x', deps: [] },
        { task: 'f', deps: [] },
        { task: 'stale', deps: [] },
        { task: 'c', deps: ['a', 'b'] },
        { task: 'y', deps: ['x'] },
        { task: 'g', deps: ['f'] },
        { task: 'after_stale', deps: ['stale'] },
      ]);
      const claims = await q.claim('w', 5);
      const byTask = new Map(claims.map((c) => [c.task, c]));
      // `stale`'s lease runs out and another worker takes it over before the batch is written.
      await sleep(250);
      await q.heartbeat(
        'w',
        [...byTask.values()].filter((c) => c.task !== 'stale'),
      );
      const [takenOver] = await q.claim('other', 1);
      expect(takenOver).toMatchObject({ task: 'stale', attempt: 2 });
      const recorded = await q.completeMany('w', [
        { claim: byTask.get('a')!, status: 'succeeded' },
        { claim: byTask.get('stale')!, status: 'succeeded' },
        { claim: byTask.get('b')!, status: 'up_to_date' },
        { claim: byTask.get('x')!, status: 'succeeded', message: 'wrote 3 rows' },
        { claim: byTask.get('f')!, status: 'failed', message: 'boom' },
      ]);
      expect(recorded).toEqual([true, false, true, true, true]);
      const tasks = Object.fromEntries((await q.tasks('r6')).map((t) => [t.task, t]));
      expect(tasks.c!.state).toBe('ready');
      expect(tasks.y!.state).toBe('ready');
      expect(tasks.x!.message).toBe('wrote 3 rows');
      expect(tasks.f!).toMatchObject({ state: 'failed', message: 'boom' });
      expect(tasks.g!).toMatchObject({ state: 'skipped', message: 'upstream f failed' });
      // The refused completion changed nothing: the task is the other worker's, still waited on.
      expect(tasks.stale!).toMatchObject({ state: 'claimed', worker: 'other', attempt: 2 });
      expect(tasks.after_stale!.state).toBe('waiting');
      // The same batch again is refused whole: a task is completed once.
      expect(await q.completeMany('w', [{ claim: byTask.get('a')!, status: 'succeeded' }])).toEqual(
        [false],
      );
      expect(await q.completeMany('w', [])).toEqual([]);
      expect(await q.completeMany('other', [{ claim: takenOver!, status: 'succeeded' }])).toEqual([
        true,
      ]);
      expect((await q.tasks('r6')).find((t) => t.task === 'after_stale')!.state).toBe('ready');
    });

    it('releases several claims at once, only the ones still held', async () => {
      const q = await open({ leaseMs: 100 });
      await q.enqueue('r7', [
        { task: 'a', deps: [] },
        { task: 'b', deps: [] },
        { task: 'c', deps: [] },
      ]);
      const claims = await q.claim('w', 3);
      await sleep(250);
      await q.heartbeat('w', claims.slice(0, 2));
      const [c] = await q.claim('other', 1);
      expect(c!.task).toBe('c');
      await q.release('w', claims);
      const tasks = Object.fromEntries((await q.tasks('r7')).map((t) => [t.task, t]));
      expect(tasks.a!.state).toBe('ready');
      expect(tasks.b!.state).toBe('ready');
      expect(tasks.c!).toMatchObject({ state: 'claimed', worker: 'other' });
    });

    it('keeps runs apart and starts the earliest ready first', async () => {
      const q = await open();
      await q.enqueue('early', [{ task: 'a', deps: [] }]);
      await sleep(20);
      await q.enqueue('late', [
        { task: 'a', deps: [] },
        { task: 'b', deps: [] },
      ]);
      const claims = await q.claim('w', 3);
      // late/a waits: two runs never run one step at once.
      expect(claims.map((c) => `${c.runId}/${c.task}`)).toEqual(['early/a', 'late/b']);
    });

    it('runs a step of two runs one after the other, the older run first', async () => {
      const q = await open();
      await q.enqueue('first', [{ task: 'x', deps: [] }]);
      await sleep(20);
      await q.enqueue('second', [{ task: 'x', deps: [] }]);
      await sleep(20);
      await q.enqueue('third', [{ task: 'x', deps: [] }]);
      // Of several ready ones only the oldest is claimable, even when asked for its run alone.
      expect(await q.claim('w', 5, 'second')).toEqual([]);
      const [a] = await q.claim('w', 5);
      expect(a!.runId).toBe('first');
      expect(await q.claim('w2', 5)).toEqual([]); // x is claimed by the first run
      expect(await q.complete('w', a!, 'succeeded')).toBe(true);
      const [b] = await q.claim('w2', 5);
      expect(b!.runId).toBe('second');
      expect(await q.claim('w', 5)).toEqual([]);
      expect(await q.complete('w2', b!, 'failed', 'boom')).toBe(true);
      const [c] = await q.claim('w', 5);
      expect(c!.runId).toBe('third');
    });
  });
}

describeWorkQueue('duckdb', duckdbBackend);
describeWorkQueue('postgres', postgresBackend, !pgAvailable);

describe.skipIf(!pgAvailable)('work queue on postgres, many sessions at once', () => {
  const backend = postgresBackend();
  const engines: Engine[] = [];
  afterAll(async () => {
    for (const e of engines) await e.close();
    await backend.cleanup();
  });

  /** A queue in a fresh schema, and `sessions` more queues on it over connections of their own. */
  async function sharedQueue(sessions: number): Promise<{ q0: WorkQueue; queues: WorkQueue[] }> {
    const first = await backend.open();
    engines.push(first);
    const schema = String((await first.query('SELECT current_schema() AS s')).rows[0]!.s);
    const q0 = await WorkQueue.open(first);
    const queues = await Promise.all(
      Array.from({ length: sessions }, async () => {
        const e = await openPostgres({ url: postgresTestUrl, schema });
        engines.push(e);
        return WorkQueue.open(e);
      }),
    );
    return { q0, queues };
  }

  /** 10 layers of 30; each task reads two of the layer before: plenty of shared downstreams. */
  const layeredGraph = () =>
    Array.from({ length: 300 }, (_, i) => {
      const layer = Math.floor(i / 30);
      const deps = layer
        ? [`t${(layer - 1) * 30 + (i % 30)}`, `t${(layer - 1) * 30 + ((i * 7) % 30)}`]
        : [];
      return { task: `t${i}`, deps };
    });

  it('never gives one task to two concurrent claims', async () => {
    const { q0, queues } = await sharedQueue(6);
    await q0.enqueue(
      'r',
      Array.from({ length: 400 }, (_, i) => ({ task: `t${i}`, deps: [] })),
    );
    const got: Claim[] = [];
    await Promise.all(
      queues.map(async (q, w) => {
        for (;;) {
          const claims = await q.claim(`w${w}`, 7);
          if (!claims.length) return;
          got.push(...claims);
        }
      }),
    );
    expect(got).toHaveLength(400);
    expect(new Set(got.map((c) => c.task)).size).toBe(400);
  });

  it('never runs one step of two runs at once, under concurrent claims', async () => {
    const { q0, queues } = await sharedQueue(6);
    const tasks = Array.from({ length: 10 }, (_, i) => ({ task: `t${i}`, deps: [] }));
    for (const run of ['r1', 'r2', 'r3']) await q0.enqueue(run, tasks);
    const running = new Set<string>();
    const overlaps: string[] = [];
    let done = 0;
    await Promise.all(
      queues.map(async (q, w) => {
        while (done < 30) {
          const claims = await q.claim(`w${w}`, 4);
          if (!claims.length) {
            await sleep(2);
            continue;
          }
          for (const c of claims) {
            if (running.has(c.task)) overlaps.push(`${c.runId}/${c.task}`);
            running.add(c.task);
          }
          await sleep(20); // long enough for the others to claim meanwhile
          for (const c of claims) running.delete(c.task);
          const recorded = await q.completeMany(
            `w${w}`,
            claims.map((claim) => ({ claim, status: 'succeeded' as const })),
          );
          done += recorded.filter(Boolean).length;
        }
      }),
    );
    expect(overlaps).toEqual([]);
    expect(done).toBe(30);
  });

  it('completes a layered graph worked by six sessions, each task exactly once', async () => {
    const { q0, queues } = await sharedQueue(6);
    const tasks = layeredGraph();
    await q0.enqueue('g', tasks);
    const completed: string[] = [];
    const startedBeforeDeps: string[] = [];
    const done = new Set<string>();
    await Promise.all(
      queues.map(async (q, w) => {
        let idle = 0;
        while (idle < 20) {
          const claims = await q.claim(`w${w}`, 2);
          if (!claims.length) {
            idle++;
            await sleep(10);
            continue;
          }
          idle = 0;
          for (const c of claims) {
            const deps = tasks.find((t) => t.task === c.task)!.deps;
            if (deps.some((d) => !done.has(d))) startedBeforeDeps.push(c.task);
            if (await q.complete(`w${w}`, c, 'succeeded')) {
              completed.push(c.task);
              done.add(c.task);
            }
          }
        }
      }),
    );
    expect(startedBeforeDeps).toEqual([]);
    expect(completed).toHaveLength(300);
    expect(new Set(completed).size).toBe(300);
    expect(await q0.progress('g')).toMatchObject({ succeeded: 300 });
  }, 60_000);

  it('completes a layered graph worked by six sessions, each task exactly once (batched completions)', async () => {
    const { q0, queues } = await sharedQueue(6);
    const tasks = layeredGraph();
    await q0.enqueue('g', tasks);
    const completed: string[] = [];
    await Promise.all(
      queues.map(async (q, w) => {
        let idle = 0;
        while (idle < 20) {
          const claims = await q.claim(`w${w}`, 5);
          if (!claims.length) {
            idle++;
            await sleep(10);
            continue;
          }
          idle = 0;
          const recorded = await q.completeMany(
            `w${w}`,
            claims.map((claim) => ({ claim, status: 'succeeded' as const })),
          );
          claims.forEach((c, i) => {
            if (recorded[i]) completed.push(c.task);
          });
        }
      }),
    );
    // In dependency order by the database's clock: a batch's commit readies what it readies, so
    // what the test's own bookkeeping saw could trail another session's claim.
    const rows = Object.fromEntries((await q0.tasks('g')).map((t) => [t.task, t]));
    const early = tasks.filter((t) =>
      t.deps.some((d) => rows[t.task]!.startedAt! < rows[d]!.finishedAt!),
    );
    expect(early).toEqual([]);
    expect(completed).toHaveLength(300);
    expect(new Set(completed).size).toBe(300);
    expect(await q0.progress('g')).toMatchObject({ succeeded: 300 });
  }, 60_000);
});
