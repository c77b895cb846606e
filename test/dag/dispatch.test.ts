/**
 * The DAG executor on its own, with fake sleeps, a fake clock and controllable tasks: topological
 * order under a concurrency limit with a slot per running task, failures skipping what is
 * downstream (naming why) while other branches go on, retry policies with their exact backoff
 * sequence, timeouts (with and without a task that listens to its signal), stop and abort, step
 * outcomes that are answers rather than faults, and which errors count as transient.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TributaryError, isTransientError } from '../../src/core/index.js';
import { EngineError, openDuckDB } from '../../src/engines/index.js';
import {
  dispatch,
  sleep as realSleep,
  type DispatchTask,
  type RetryPolicy,
  type TaskContext,
  type TaskResult,
} from '../../src/dag/index.js';

type Out = { status?: string };

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending callbacks and I/O run. */
const turn = () => new Promise<void>((r) => setImmediate(r));
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await turn();
};

/** Waits until `cond` holds, a turn at a time (fails after a few thousand turns). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 5000; i++) {
    if (cond()) return;
    await turn();
  }
  throw new Error('condition never became true');
}

/** A sleep that records each wait and returns at once. */
function fakeSleep() {
  const waits: number[] = [];
  return {
    waits,
    sleep: (ms: number) => {
      waits.push(ms);
      return Promise.resolve();
    },
  };
}

const retry = (p: Partial<RetryPolicy>): RetryPolicy => ({
  attempts: 3,
  backoff: 100,
  max_backoff: 300_000,
  jitter: false,
  on: 'transient',
  ...p,
});

const transient = (m = 'connection lost') => new TributaryError(m, { transient: true });

const byKey = <O>(results: TaskResult<O>[]) => new Map(results.map((r) => [r.key, r]));

/** A task that rejects with the signal's reason as soon as its signal aborts. */
const untilAborted = (ctx: TaskContext) =>
  new Promise<Out>((_, reject) => {
    if (ctx.signal.aborted) reject(ctx.signal.reason);
    ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
  });

describe('order and concurrency', () => {
  /** A wide, layered graph: 4 roots, then layers whose tasks each depend on two of the layer above. */
  function layered(): DispatchTask[] {
    const tasks: DispatchTask[] = [];
    for (let layer = 0; layer < 4; layer++)
      for (let i = 0; i < 6; i++) {
        const deps = layer === 0 ? [] : [`t${layer - 1}_${i}`, `t${layer - 1}_${(i + 1) % 6}`];
        tasks.push({ key: `t${layer}_${i}`, deps });
      }
    return tasks;
  }

  it('starts each task after its upstream tasks finished and never runs more than the limit at once', async () => {
    const tasks = layered();
    const deps = new Map(tasks.map((t) => [t.key, t.deps]));
    const finished = new Set<string>();
    const early: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const results = await dispatch<Out>(
      tasks,
      {
        execute: async (key) => {
          for (const d of deps.get(key)!) if (!finished.has(d)) early.push(`${key} before ${d}`);
          running++;
          maxRunning = Math.max(maxRunning, running);
          // Tasks take different numbers of turns, so they finish out of order.
          await turns(1 + ((key.charCodeAt(1) * 7 + key.charCodeAt(3) * 3) % 5));
          running--;
          finished.add(key);
          return { status: 'succeeded' };
        },
      },
      { concurrency: 3 },
    );
    expect(early).toEqual([]);
    expect(maxRunning).toBe(3);
    expect(results.map((r) => r.key)).toEqual(tasks.map((t) => t.key));
    expect(results.every((r) => r.status === 'succeeded' && r.attempts === 1)).toBe(true);
  });

  it('holds a running task in place until it finishes, counting it against the limit', async () => {
    const gates = new Map<string, Deferred<Out>>();
    const started: string[] = [];
    const done = dispatch<Out>(
      ['a', 'b', 'c', 'd'].map((key) => ({ key, deps: [] })),
      {
        execute: (key) => {
          started.push(key);
          const g = deferred<Out>();
          gates.set(key, g);
          return g.promise;
        },
      },
      { concurrency: 2 },
    );
    await until(() => started.length === 2);
    await turns(5);
    expect(started).toEqual(['a', 'b']);
    gates.get('b')!.resolve({});
    await until(() => started.length === 3);
    expect(started).toEqual(['a', 'b', 'c']);
    gates.get('a')!.resolve({});
    gates.get('c')!.resolve({});
    await until(() => started.length === 4);
    gates.get('d')!.resolve({});
    expect((await done).map((r) => r.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
  });

  it('picks ready tasks in the order given, one at a time with concurrency 1', async () => {
    const started: string[] = [];
    await dispatch<Out>(
      [
        { key: 'c', deps: [] },
        { key: 'a', deps: [] },
        { key: 'z', deps: ['c'] },
        { key: 'b', deps: [] },
      ],
      {
        execute: async (key) => {
          started.push(key);
          return {};
        },
      },
    );
    // z becomes ready once c is done and comes before b in the given order.
    expect(started).toEqual(['c', 'a', 'z', 'b']);
  });

  it('counts upstream keys outside the task list as done, and ignores a task naming itself', async () => {
    const results = await dispatch<Out>(
      [
        { key: 'a', deps: ['elsewhere'] },
        { key: 'b', deps: ['b', 'a'] },
      ],
      { execute: async () => ({}) },
    );
    expect(results.map((r) => [r.key, r.status])).toEqual([
      ['a', 'succeeded'],
      ['b', 'succeeded'],
    ]);
  });

  it('ends instead of hanging on tasks that wait on each other, leaving them unrun', async () => {
    let calls = 0;
    const results = await dispatch<Out>(
      [
        { key: 'free', deps: [] },
        { key: 'p', deps: ['q'] },
        { key: 'q', deps: ['p'] },
      ],
      {
        execute: async () => {
          calls++;
          return {};
        },
      },
    );
    expect(calls).toBe(1);
    expect(results.map((r) => [r.key, r.status, r.attempts])).toEqual([
      ['free', 'succeeded', 1],
      ['p', 'cancelled', 0],
      ['q', 'cancelled', 0],
    ]);
  });

  it('gives each running task a slot no other running task holds, below the limit, kept across its retries', async () => {
    const { sleep } = fakeSleep();
    const held = new Map<number, string>();
    const clashes: string[] = [];
    const slotsOf = new Map<string, Set<number>>();
    await dispatch<Out>(
      Array.from({ length: 12 }, (_, i) => ({ key: `t${i}`, deps: i < 3 ? [] : [`t${i - 3}`] })),
      {
        execute: async (key, ctx) => {
          const other = held.get(ctx.slot);
          if (other !== undefined && other !== key) clashes.push(`${key} and ${other}`);
          held.set(ctx.slot, key);
          (slotsOf.get(key) ?? slotsOf.set(key, new Set()).get(key)!).add(ctx.slot);
          await turns(1 + (key.length % 3));
          held.delete(ctx.slot);
          if (key === 't4' && ctx.attempt === 1) throw transient();
          return {};
        },
        policy: () => ({ retry: retry({ attempts: 2 }) }),
      },
      { concurrency: 3, sleep },
    );
    expect(clashes).toEqual([]);
    const all = [...slotsOf.values()].flatMap((s) => [...s]);
    expect(new Set(all)).toEqual(new Set([0, 1, 2]));
    expect(slotsOf.get('t4')!.size).toBe(1);
  });

  it('runs a serial dispatch on slot 0 only', async () => {
    const slots = new Set<number>();
    await dispatch<Out>(
      ['a', 'b', 'c'].map((key) => ({ key, deps: [] })),
      {
        execute: async (_k, ctx) => {
          slots.add(ctx.slot);
          return {};
        },
      },
    );
    expect([...slots]).toEqual([0]);
  });

  it('resolves at once with no results for no tasks', async () => {
    expect(await dispatch<Out>([], { execute: () => Promise.reject(new Error('never')) })).toEqual(
      [],
    );
  });
});

describe('failures', () => {
  it('skips everything downstream of a failed task, naming it, while an independent branch still runs', async () => {
    //   a → b → c → d          x → y
    //   a → e,  c also needs e
    const tasks: DispatchTask[] = [
      { key: 'a', deps: [] },
      { key: 'x', deps: [] },
      { key: 'b', deps: ['a'] },
      { key: 'e', deps: ['a'] },
      { key: 'c', deps: ['b', 'e'] },
      { key: 'y', deps: ['x'] },
      { key: 'd', deps: ['c'] },
    ];
    const ran: string[] = [];
    const results = byKey(
      await dispatch<Out>(
        tasks,
        {
          execute: async (key) => {
            ran.push(key);
            if (key === 'b') throw new Error('boom in b');
            return {};
          },
        },
        { concurrency: 2 },
      ),
    );
    expect(results.get('b')).toMatchObject({ status: 'failed', attempts: 1 });
    expect((results.get('b')!.error as Error).message).toBe('boom in b');
    expect(results.get('b')!.retriesExhausted).toBeUndefined();
    expect(results.get('c')).toMatchObject({ status: 'skipped', attempts: 0 });
    expect(results.get('c')!.message).toBe('skipped: upstream b did not succeed');
    expect(results.get('d')).toMatchObject({ status: 'skipped', attempts: 0 });
    expect(results.get('d')!.message).toMatch(/upstream c\b/);
    for (const k of ['a', 'e', 'x', 'y']) expect(results.get(k)!.status).toBe('succeeded');
    expect(ran).not.toContain('c');
    expect(ran).not.toContain('d');
    expect(ran).toEqual(expect.arrayContaining(['x', 'y', 'e']));
  });

  it('fails a task whose output says failed, without retrying it', async () => {
    const { sleep, waits } = fakeSleep();
    let calls = 0;
    const results = byKey(
      await dispatch<Out & { rowsRejected?: number }>(
        [
          { key: 'a', deps: [] },
          { key: 'b', deps: ['a'] },
        ],
        {
          execute: async (key) => {
            calls++;
            return key === 'a' ? { status: 'failed', rowsRejected: 3 } : {};
          },
          policy: () => ({ retry: retry({ attempts: 3, on: 'all' }) }),
        },
        { sleep },
      ),
    );
    expect(results.get('a')).toMatchObject({
      status: 'failed',
      attempts: 1,
      output: { status: 'failed', rowsRejected: 3 },
    });
    expect(results.get('b')!.status).toBe('skipped');
    expect(calls).toBe(1);
    expect(waits).toEqual([]);
  });

  it('counts an output as the outcome hook says, a failed one skipping downstream without a retry', async () => {
    const { sleep, waits } = fakeSleep();
    type Node = { status: string };
    const results = byKey(
      await dispatch<Node>(
        [
          { key: 'test', deps: [] },
          { key: 'model', deps: ['test'] },
          { key: 'warned', deps: [] },
        ],
        {
          execute: async (key) => ({ status: key === 'test' ? 'fail' : 'warn' }),
          outcome: (o) => (o.status === 'fail' || o.status === 'error' ? 'failed' : 'succeeded'),
          policy: () => ({ retry: retry({ attempts: 3, on: 'all' }) }),
        },
        { sleep },
      ),
    );
    expect(results.get('test')).toMatchObject({ status: 'failed', output: { status: 'fail' } });
    expect(results.get('model')!.status).toBe('skipped');
    expect(results.get('warned')).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(waits).toEqual([]);
  });

  it('names on a skipped task every upstream task that failed or was skipped, in its deps order', async () => {
    const results = byKey(
      await dispatch<Out>(
        [
          { key: 'ok', deps: [] },
          { key: 'bad', deps: [] },
          { key: 'worse', deps: [] },
          { key: 'mid', deps: ['bad'] },
          { key: 'end', deps: ['ok', 'mid', 'worse'] },
        ],
        {
          execute: async (key) => {
            if (key === 'bad' || key === 'worse') throw new Error(key);
            return {};
          },
        },
      ),
    );
    expect(results.get('mid')!.blockedBy).toEqual(['bad']);
    expect(results.get('end')).toMatchObject({
      status: 'skipped',
      blockedBy: ['mid', 'worse'],
      message: 'skipped: upstream mid, worse did not succeed',
    });
    expect(results.get('bad')!.blockedBy).toBeUndefined();
  });

  it('keeps an up_to_date output as up_to_date, and its downstream still runs', async () => {
    const results = byKey(
      await dispatch<Out>(
        [
          { key: 'a', deps: [] },
          { key: 'b', deps: ['a'] },
        ],
        { execute: async (key) => (key === 'a' ? { status: 'up_to_date' } : {}) },
      ),
    );
    expect(results.get('a')!.status).toBe('up_to_date');
    expect(results.get('b')!.status).toBe('succeeded');
  });

  it('fails a task whose execute throws before returning a promise, as if it had rejected', async () => {
    for (const options of [{}, { abort: new AbortController().signal }, { timeoutMs: 1000 }]) {
      const results = byKey(
        await dispatch<Out>(
          [
            { key: 'a', deps: [] },
            { key: 'b', deps: ['a'] },
          ],
          {
            execute: (key) => {
              if (key === 'a') throw new Error('thrown at once');
              return Promise.resolve({});
            },
            policy: () => ('timeoutMs' in options ? { timeoutMs: options.timeoutMs } : {}),
          },
          'abort' in options ? { abort: options.abort } : {},
        ),
      );
      expect(results.get('a')).toMatchObject({ status: 'failed', attempts: 1 });
      expect((results.get('a')!.error as Error).message).toBe('thrown at once');
      expect(results.get('b')!.status).toBe('skipped');
    }
  });

  it('rejects when a hook throws, instead of hanging', async () => {
    await expect(
      dispatch<Out>([{ key: 'a', deps: [] }], {
        execute: async () => ({}),
        onFinish: () => {
          throw new Error('hook broke');
        },
      }),
    ).rejects.toThrow('hook broke');
  });
});

describe('retries', () => {
  it('retries a transient error with the exact backoff sequence, then succeeds on the third attempt', async () => {
    const { sleep, waits } = fakeSleep();
    const retried: [string, number, string, number][] = [];
    const started: number[] = [];
    const attemptsSeen: number[] = [];
    const [r] = await dispatch<Out>(
      [{ key: 'a', deps: [] }],
      {
        execute: async (_key, ctx) => {
          attemptsSeen.push(ctx.attempt);
          if (ctx.attempt < 3) throw transient(`lost ${ctx.attempt}`);
          return { status: 'succeeded' };
        },
        policy: () => ({ retry: retry({ attempts: 3, backoff: 100 }) }),
        onStart: (_key, attempt) => started.push(attempt),
        onRetry: (key, attempt, error, delay) =>
          retried.push([key, attempt, (error as Error).message, delay]),
      },
      { sleep },
    );
    expect(r).toMatchObject({ key: 'a', status: 'succeeded', attempts: 3 });
    expect(r!.retriesExhausted).toBeUndefined();
    expect(waits).toEqual([100, 200]);
    expect(retried).toEqual([
      ['a', 1, 'lost 1', 100],
      ['a', 2, 'lost 2', 200],
    ]);
    expect(started).toEqual([1, 2, 3]);
    expect(attemptsSeen).toEqual([1, 2, 3]);
  });

  it('caps the backoff at max_backoff and fails with retriesExhausted when attempts run out', async () => {
    const { sleep, waits } = fakeSleep();
    const delays: number[] = [];
    let calls = 0;
    const [r] = await dispatch<Out>(
      [{ key: 'a', deps: [] }],
      {
        execute: async () => {
          calls++;
          throw transient(`lost ${calls}`);
        },
        policy: () => ({ retry: retry({ attempts: 5, backoff: 100, max_backoff: 250 }) }),
        onRetry: (_k, _a, _e, delay) => delays.push(delay),
      },
      { sleep },
    );
    expect(calls).toBe(5);
    expect(waits).toEqual([100, 200, 250, 250]);
    expect(delays).toEqual(waits);
    expect(r).toMatchObject({ status: 'failed', attempts: 5, retriesExhausted: true });
    expect((r!.error as Error).message).toBe('lost 5');
  });

  it('takes 50–100% of the backoff with jitter, from the random source given', async () => {
    for (const [random, expected] of [
      [() => 1, [100, 200]],
      [() => 0, [50, 100]],
      [() => 0.5, [75, 150]],
    ] as const) {
      const { sleep, waits } = fakeSleep();
      await dispatch<Out>(
        [{ key: 'a', deps: [] }],
        {
          execute: async (_k, ctx) => {
            if (ctx.attempt < 3) throw transient();
            return {};
          },
          policy: () => ({ retry: retry({ attempts: 3, backoff: 100, jitter: true }) }),
        },
        { sleep, random },
      );
      expect(waits).toEqual(expected);
    }
  });

  it('does not retry an error that is not transient under on: transient', async () => {
    const { sleep, waits } = fakeSleep();
    let calls = 0;
    const [r] = await dispatch<Out>(
      [{ key: 'a', deps: [] }],
      {
        execute: async () => {
          calls++;
          throw new Error('syntax error at or near "selec"');
        },
        policy: () => ({ retry: retry({ attempts: 3, on: 'transient' }) }),
      },
      { sleep },
    );
    expect(calls).toBe(1);
    expect(waits).toEqual([]);
    expect(r).toMatchObject({ status: 'failed', attempts: 1 });
    expect(r!.retriesExhausted).toBeUndefined();
  });

  it('retries any error under on: all', async () => {
    const { sleep, waits } = fakeSleep();
    const [r] = await dispatch<Out>(
      [{ key: 'a', deps: [] }],
      {
        execute: async (_k, ctx) => {
          if (ctx.attempt < 2) throw new Error('syntax error');
          return {};
        },
        policy: () => ({ retry: retry({ attempts: 3, on: 'all' }) }),
      },
      { sleep },
    );
    expect(r).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(waits).toEqual([100]);
  });

  it('stops retrying at a permanent error after a transient one, without claiming retries ran out', async () => {
    const { sleep, waits } = fakeSleep();
    const [r] = await dispatch<Out>(
      [{ key: 'a', deps: [] }],
      {
        execute: async (_k, ctx) => {
          throw ctx.attempt === 1 ? transient() : new Error('permission denied');
        },
        policy: () => ({ retry: retry({ attempts: 5 }) }),
      },
      { sleep },
    );
    expect(waits).toEqual([100]);
    expect(r).toMatchObject({ status: 'failed', attempts: 2 });
    expect((r!.error as Error).message).toBe('permission denied');
    // Three tries were left: the policy did not give up, the error was not worth retrying.
    expect(r!.retriesExhausted).toBeUndefined();
  });

  it('uses each task its own policy; a task without one is tried once', async () => {
    const { sleep } = fakeSleep();
    const calls = new Map<string, number>();
    const results = byKey(
      await dispatch<Out>(
        [
          { key: 'with', deps: [] },
          { key: 'without', deps: [] },
        ],
        {
          execute: async (key) => {
            calls.set(key, (calls.get(key) ?? 0) + 1);
            throw transient();
          },
          policy: (key) => (key === 'with' ? { retry: retry({ attempts: 4 }) } : {}),
        },
        { sleep },
      ),
    );
    expect(calls.get('with')).toBe(4);
    expect(calls.get('without')).toBe(1);
    expect(results.get('with')!.retriesExhausted).toBe(true);
    expect(results.get('without')!.retriesExhausted).toBeUndefined();
  });
});

describe('timeouts', () => {
  // The clock is vitest's: timeouts fire when the test moves time, not when the machine gets to it.
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }));
  afterEach(() => vi.useRealTimers());

  it('fails a task that runs past its timeout, aborting its signal with a transient "timed out" error', async () => {
    const reasons: unknown[] = [];
    const done = dispatch<Out>([{ key: 'slow', deps: [] }], {
      execute: (_k, ctx) => {
        ctx.signal.addEventListener('abort', () => reasons.push(ctx.signal.reason));
        return untilAborted(ctx);
      },
      policy: () => ({ timeoutMs: 50 }),
    });
    await vi.advanceTimersByTimeAsync(49);
    expect(reasons).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    const [r] = await done;
    expect(r!.status).toBe('failed');
    expect(r!.error).toBeInstanceOf(TributaryError);
    expect((r!.error as Error).message).toMatch(/^timed out after /);
    expect(isTransientError(r!.error)).toBe(true);
    expect(reasons).toEqual([r!.error]);
  });

  it('retries a timed-out task under on: transient, never beside the attempt it replaces', async () => {
    const { sleep, waits } = fakeSleep();
    const log: string[] = [];
    const done = dispatch<Out>(
      [{ key: 'slow', deps: [] }],
      {
        execute: async (_k, ctx) => {
          log.push(`start ${ctx.attempt}`);
          if (ctx.attempt === 2) return {};
          try {
            await untilAborted(ctx);
          } catch {
            await new Promise((res) => setTimeout(res, 30)); // winds down for a while
            log.push(`end ${ctx.attempt}`);
          }
          throw new Error('interrupted');
        },
        policy: () => ({ timeoutMs: 20, retry: retry({ attempts: 2, backoff: 5 }) }),
      },
      { sleep, graceMs: 5000 },
    );
    await vi.advanceTimersByTimeAsync(20 + 29);
    expect(log).toEqual(['start 1']); // timed out, still winding down: no second attempt yet
    await vi.advanceTimersByTimeAsync(1);
    const [r] = await done;
    expect(r).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(waits).toEqual([5]);
    expect(log).toEqual(['start 1', 'end 1', 'start 2']);
  });

  it('leaves a timed-out task that ignores its signal after graceMs', async () => {
    const hung = deferred<Out>();
    let settled = false;
    const done = dispatch<Out>(
      [{ key: 'stuck', deps: [] }],
      { execute: () => hung.promise, policy: () => ({ timeoutMs: 20 }) },
      { graceMs: 30 },
    ).finally(() => (settled = true));
    try {
      await vi.advanceTimersByTimeAsync(20 + 29);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      const [r] = await done;
      expect(r!.status).toBe('failed');
      expect((r!.error as Error).message).toMatch(/timed out after/);
    } finally {
      hung.resolve({});
    }
  });

  it('does not time out a task that finishes in time', async () => {
    const done = dispatch<Out>([{ key: 'quick', deps: [] }], {
      execute: async (_k, ctx) => {
        await new Promise((res) => setTimeout(res, 999));
        expect(ctx.signal.aborted).toBe(false);
        return {};
      },
      policy: () => ({ timeoutMs: 1000 }),
    });
    await vi.advanceTimersByTimeAsync(999);
    const [r] = await done;
    expect(r!.status).toBe('succeeded');
    expect(vi.getTimerCount()).toBe(0); // the timeout's timer is cleared, not left to fire
  });
});

describe('stop and abort', () => {
  it('on stop lets running tasks finish and cancels every task not started, downstream ones too', async () => {
    const stop = new AbortController();
    const gate = deferred<Out>();
    const started: string[] = [];
    let signalOfA: AbortSignal | undefined;
    const done = dispatch<Out>(
      [
        { key: 'a', deps: [] },
        { key: 'b', deps: ['a'] },
        { key: 'c', deps: ['b'] },
        { key: 'x', deps: [] },
      ],
      {
        execute: (key, ctx) => {
          started.push(key);
          if (key === 'a') {
            signalOfA = ctx.signal;
            return gate.promise;
          }
          return Promise.resolve({});
        },
      },
      { concurrency: 1, stop: stop.signal },
    );
    await until(() => started.length === 1);
    stop.abort();
    await turns(3);
    expect(signalOfA!.aborted).toBe(false); // a stop does not interrupt running work
    gate.resolve({});
    const results = byKey(await done);
    expect(started).toEqual(['a']);
    expect(results.get('a')).toMatchObject({ status: 'succeeded', attempts: 1 });
    for (const k of ['b', 'c', 'x']) {
      expect(results.get(k), k).toMatchObject({ status: 'cancelled', attempts: 0 });
      expect(results.get(k)!.message).toMatch(/cancelled before it started/);
    }
  });

  it('on abort aborts the signal of running tasks, which end cancelled, and cancels the rest', async () => {
    const abort = new AbortController();
    const started: string[] = [];
    const done = dispatch<Out>(
      [
        { key: 'a', deps: [] },
        { key: 'b', deps: [] },
        { key: 'a2', deps: ['a'] },
        { key: 'c', deps: [] },
      ],
      {
        execute: (key, ctx) => {
          started.push(key);
          return untilAborted(ctx);
        },
      },
      { concurrency: 2, abort: abort.signal },
    );
    await until(() => started.length === 2);
    abort.abort(new Error('second SIGTERM'));
    const results = byKey(await done);
    expect(started).toEqual(['a', 'b']);
    for (const k of ['a', 'b']) {
      expect(results.get(k), k).toMatchObject({ status: 'cancelled', attempts: 1 });
      expect(results.get(k)!.message).toBe('cancelled: the run was aborted');
    }
    for (const k of ['a2', 'c'])
      expect(results.get(k), k).toMatchObject({ status: 'cancelled', attempts: 0 });
  });

  it('on abort cancels a task waiting to retry, without another attempt', async () => {
    const abort = new AbortController();
    let calls = 0;
    let sleeping = false;
    const done = dispatch<Out>(
      [{ key: 'a', deps: [] }],
      {
        execute: async () => {
          calls++;
          throw transient();
        },
        policy: () => ({ retry: retry({ attempts: 3, backoff: 60_000 }) }),
      },
      {
        abort: abort.signal,
        // A sleep that only ends when the run is aborted.
        sleep: (_ms, signal) =>
          new Promise<void>((resolve) => {
            sleeping = true;
            signal.addEventListener('abort', () => resolve(), { once: true });
          }),
      },
    );
    await until(() => sleeping);
    abort.abort();
    const [r] = await done;
    expect(calls).toBe(1);
    expect(r).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(r!.message).toBe('cancelled while waiting to retry');
  });

  it('on stop ends a wait to retry at once and starts no other attempt', async () => {
    const stop = new AbortController();
    let calls = 0;
    let sleeping = false;
    const done = dispatch<Out>(
      [{ key: 'a', deps: [] }],
      {
        execute: async () => {
          calls++;
          throw transient();
        },
        policy: () => ({ retry: retry({ attempts: 3, backoff: 300_000 }) }),
      },
      {
        stop: stop.signal,
        sleep: (_ms, signal) =>
          new Promise<void>((resolve) => {
            sleeping = true;
            signal.addEventListener('abort', () => resolve(), { once: true });
          }),
      },
    );
    await until(() => sleeping);
    stop.abort();
    const [r] = await done;
    expect(calls).toBe(1);
    expect(r).toMatchObject({ status: 'cancelled', attempts: 1 });
  });

  it('still calls downstream of a failure skipped when the run was stopped meanwhile', async () => {
    const stop = new AbortController();
    const results = byKey(
      await dispatch<Out>(
        [
          { key: 'a', deps: [] },
          { key: 'b', deps: ['a'] },
        ],
        {
          execute: async () => {
            stop.abort();
            throw new Error('boom');
          },
        },
        { stop: stop.signal },
      ),
    );
    expect(results.get('a')!.status).toBe('failed');
    expect(results.get('b')).toMatchObject({
      status: 'skipped',
      message: 'skipped: upstream a did not succeed',
    });
  });

  it('starts nothing when stopped before it begins', async () => {
    const stop = new AbortController();
    stop.abort();
    let calls = 0;
    const results = await dispatch<Out>(
      [
        { key: 'a', deps: [] },
        { key: 'b', deps: ['a'] },
      ],
      {
        execute: async () => {
          calls++;
          return {};
        },
      },
      { stop: stop.signal },
    );
    expect(calls).toBe(0);
    expect(results.map((r) => r.status)).toEqual(['cancelled', 'cancelled']);
  });
});

describe('the default sleep', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }));
  afterEach(() => vi.useRealTimers());

  /** Whether a promise has settled once pending callbacks have run. */
  const settledNow = async (p: Promise<unknown>) => {
    let settled = false;
    void p.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(0);
    return settled;
  };

  it('waits the given time', async () => {
    const waiting = realSleep(20, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(19);
    expect(await settledNow(waiting)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settledNow(waiting)).toBe(true);
  });

  it('ends early, without throwing, when its signal aborts, and clears its timer', async () => {
    const ctl = new AbortController();
    const waiting = realSleep(60_000, ctl.signal);
    expect(await settledNow(waiting)).toBe(false);
    ctl.abort();
    expect(await settledNow(waiting)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('returns at once when its signal has already aborted', async () => {
    const ctl = new AbortController();
    ctl.abort();
    expect(await settledNow(realSleep(60_000, ctl.signal))).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('isTransientError', () => {
  const withCode = (code: string) => Object.assign(new Error(`failed: ${code}`), { code });

  it('counts lost connections and database conflicts by their code', () => {
    expect(isTransientError(withCode('ECONNRESET'))).toBe(true);
    expect(isTransientError(withCode('40001'))).toBe(true); // serialization failure
    expect(isTransientError(withCode('40P01'))).toBe(true); // deadlock
    expect(isTransientError(withCode('ER_LOCK_DEADLOCK'))).toBe(true);
    expect(isTransientError({ code: 'ECONNREFUSED' })).toBe(true);
  });

  it('does not count other codes', () => {
    expect(isTransientError(withCode('ENOENT'))).toBe(false);
    expect(isTransientError(withCode('42601'))).toBe(false); // syntax error
    expect(isTransientError({ code: 40001 })).toBe(false); // a number is no SQLSTATE
  });

  it('counts a TimeoutError by name (AbortSignal.timeout)', () => {
    const err = new Error('The operation was aborted due to timeout');
    err.name = 'TimeoutError';
    expect(isTransientError(err)).toBe(true);
    expect(isTransientError(new DOMException('timeout', 'TimeoutError'))).toBe(true);
  });

  it('looks through cause chains', () => {
    const root = withCode('ECONNRESET');
    const wrapped = new Error('query failed', { cause: new Error('pool', { cause: root }) });
    expect(isTransientError(wrapped)).toBe(true);
    expect(
      isTransientError(new TributaryError('extract failed', { cause: transient('lost') })),
    ).toBe(true);
    expect(isTransientError(new Error('query failed', { cause: new Error('no') }))).toBe(false);
  });

  it('stops after a bounded depth and survives a cause cycle', () => {
    const a: Error & { cause?: unknown } = new Error('a');
    const b: Error & { cause?: unknown } = new Error('b', { cause: a });
    a.cause = b;
    expect(isTransientError(a)).toBe(false);
  });

  it('follows the TributaryError transient flag', () => {
    expect(isTransientError(new TributaryError('x', { transient: true }))).toBe(true);
    expect(isTransientError(new TributaryError('x'))).toBe(false);
    expect(isTransientError(new TributaryError('x', { transient: false }))).toBe(false);
  });

  it('does not count a plain Error, a string or nothing', () => {
    expect(isTransientError(new Error('boom'))).toBe(false);
    expect(isTransientError('ECONNRESET')).toBe(false);
    expect(isTransientError(undefined)).toBe(false);
    expect(isTransientError(null)).toBe(false);
  });

  it('counts a conflict as the engine classified it, never by its message', async () => {
    // The words alone are not enough: what a failure means is decided once, by the engine.
    expect(isTransientError(new Error('IO Error: Could not set lock on file "x.duckdb"'))).toBe(
      false,
    );
    const engine = await openDuckDB({ path: ':memory:' });
    const other = await engine.fork();
    try {
      await engine.exec(
        'CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER); INSERT INTO t VALUES (1, 0)',
      );
      await engine.exec('BEGIN TRANSACTION');
      await other.exec('BEGIN TRANSACTION');
      await engine.exec('UPDATE t SET v = 1 WHERE id = 1');
      const conflict = await other.exec('UPDATE t SET v = 2 WHERE id = 1').then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(conflict).toBeInstanceOf(EngineError);
      expect((conflict as EngineError).kind).toBe('conflict');
      expect(isTransientError(conflict)).toBe(true);
      // Wrapped by a caller that keeps the cause, it stays transient.
      expect(isTransientError(new TributaryError('step failed', { cause: conflict }))).toBe(true);
      // A statement's own mistake is not.
      const wrong = await engine.query('SELECT nope FROM t').catch((err: unknown) => err);
      expect((wrong as EngineError).kind).toBe('statement');
      expect(isTransientError(wrong)).toBe(false);
    } finally {
      await other.close();
      await engine.close();
    }
  });
});
