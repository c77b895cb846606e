/**
 * Dispatches a graph of tasks: each starts once its upstream tasks have finished, up to a
 * concurrency limit, picked in the order given (topological, so runs are repeatable). Each task
 * has a retry policy and a timeout; a failure skips everything downstream of it while other
 * branches go on; a stop lets running tasks finish and cancels the rest, an abort also cancels
 * the running ones. Nothing here knows what a task does: the pipeline runner, backfills and the
 * benchmark all run through it.
 *
 * Ready tasks wait in a binary heap keyed by position and each completion only visits its own
 * downstream tasks, so dispatching n tasks costs O(n log n + edges), not a scan per completion.
 */
import { TributaryError, backoffDelay, formatDuration, isTransientError } from '../core/index.js';
import type { RetryPolicy } from '../project/index.js';

export type TaskStatus = 'succeeded' | 'up_to_date' | 'failed' | 'skipped' | 'cancelled';

export interface DispatchTask {
  key: string;
  /** Upstream keys; keys outside the task list count as done (not selected, or done earlier). */
  deps: readonly string[];
}

export interface TaskPolicy {
  retry?: RetryPolicy;
  /** Longest one attempt may take, in ms. */
  timeoutMs?: number;
}

export interface TaskContext {
  attempt: number;
  /** Aborted on timeout or when the run is aborted; executors pass it to what they wait on. */
  signal: AbortSignal;
}

export interface TaskResult<O> {
  key: string;
  status: TaskStatus;
  attempts: number;
  output?: O;
  error?: unknown;
  /** Failed after more than one attempt with every try of its retry policy used. */
  retriesExhausted?: boolean;
  message?: string;
  /** performance.now() when the task became ready (its upstream done) and when it started. */
  readyAt: number;
  startedAt?: number;
  finishedAt: number;
}

export interface DispatchHooks<O> {
  /** Runs one attempt; throws to fail it. An output with status up_to_date is kept as such. */
  execute(key: string, ctx: TaskContext): Promise<O>;
  policy?(key: string): TaskPolicy;
  onStart?(key: string, attempt: number): void;
  onRetry?(key: string, attempt: number, error: unknown, delayMs: number): void;
  onFinish?(result: TaskResult<O>): void;
}

export interface DispatchOptions {
  concurrency?: number;
  /** Stop starting tasks; running ones finish (SIGTERM). */
  stop?: AbortSignal;
  /** Cancel running tasks too (a second SIGTERM, or a timeout of the whole run). */
  abort?: AbortSignal;
  /** Waits between retries; tests pass a fake clock's. Resolves early when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  /** How long a timed-out task may take to wind down after its signal fired, before it is left. */
  graceMs?: number;
}

/** setTimeout as a promise that ends early (without throwing) when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Min-heap of task positions: the earliest ready task in the given order starts first. */
class PositionHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  push(v: number): void {
    const a = this.items;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= v) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = v;
  }
  pop(): number {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && a[r]! < a[l]! ? r : l;
        if (a[c]! >= last) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

const NO_RETRY: RetryPolicy = {
  attempts: 1,
  backoff: 0,
  max_backoff: 0,
  jitter: false,
  on: 'transient',
};

/** Runs the tasks and resolves with every task's result, in the order given. */
export async function dispatch<O extends { status?: string }>(
  tasks: readonly DispatchTask[],
  hooks: DispatchHooks<O>,
  options: DispatchOptions = {},
): Promise<TaskResult<O>[]> {
  const n = tasks.length;
  const limit = Math.max(1, Math.floor(options.concurrency ?? 1));
  const wait = options.sleep ?? sleep;
  const random = options.random ?? Math.random;
  const graceMs = options.graceMs ?? 30_000;
  const position = new Map<string, number>();
  tasks.forEach((t, i) => position.set(t.key, i));
  const waitingOn = new Int32Array(n);
  const downstream: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    for (const d of tasks[i]!.deps) {
      const j = position.get(d);
      if (j === undefined || j === i) continue;
      waitingOn[i]++;
      downstream[j]!.push(i);
    }
  }
  const results: (TaskResult<O> | undefined)[] = new Array(n);
  // Why a finished task's downstream cannot run: it failed or was skipped, or it was cancelled.
  const broken = new Uint8Array(n); // 0 ok, FAILED or CANCELLED
  const FAILED = 1;
  const CANCELLED = 2;
  const readyAt = new Float64Array(n);
  const ready = new PositionHeap();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    if (waitingOn[i] === 0) {
      readyAt[i] = t0;
      ready.push(i);
    }
  }
  let running = 0;
  const stopped = () => Boolean(options.stop?.aborted || options.abort?.aborted);

  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: unknown) => {
      if (!settled) {
        settled = true;
        reject(err);
      }
    };

    const complete = (i: number, result: TaskResult<O>) => {
      results[i] = result;
      if (result.status === 'failed' || result.status === 'skipped') broken[i] = FAILED;
      else if (result.status === 'cancelled') broken[i] = CANCELLED;
      const now = result.finishedAt;
      for (const k of downstream[i]!) {
        if (--waitingOn[k] === 0) {
          readyAt[k] = now;
          ready.push(k);
        }
      }
      try {
        hooks.onFinish?.(result);
      } catch (err) {
        fail(err);
      }
    };

    const pump = () => {
      if (settled) return;
      while (ready.size && running < limit) {
        const i = ready.pop();
        const task = tasks[i]!;
        const blockedBy = task.deps.filter((d) => {
          const j = position.get(d);
          return j !== undefined && broken[j] === FAILED;
        });
        // Downstream of a cancelled task is cancelled too (not skipped: nothing upstream failed).
        const upstreamCancelled = task.deps.some((d) => {
          const j = position.get(d);
          return j !== undefined && broken[j] === CANCELLED;
        });
        if (blockedBy.length) {
          complete(i, {
            key: task.key,
            status: 'skipped',
            attempts: 0,
            message: `skipped: upstream ${blockedBy.join(', ')} did not succeed`,
            readyAt: readyAt[i]!,
            finishedAt: performance.now(),
          });
          continue;
        }
        if (stopped() || upstreamCancelled) {
          complete(i, {
            key: task.key,
            status: 'cancelled',
            attempts: 0,
            message: 'cancelled before it started: the run was stopped',
            readyAt: readyAt[i]!,
            finishedAt: performance.now(),
          });
          continue;
        }
        running++;
        runTask(i).then(
          (result) => {
            running--;
            complete(i, result);
            pump();
          },
          (err: unknown) => fail(err),
        );
      }
      if (running === 0 && !ready.size) {
        // Every task is reached once its upstream finished, so this only fills in tasks that are
        // part of a cycle (the asset graph refuses cycles; a caller's task list might not).
        for (let i = 0; i < n; i++) {
          if (!results[i]) {
            results[i] = {
              key: tasks[i]!.key,
              status: 'cancelled',
              attempts: 0,
              message: 'cancelled before it started: the run was stopped',
              readyAt: readyAt[i]!,
              finishedAt: performance.now(),
            };
          }
        }
        settled = true;
        resolve(results as TaskResult<O>[]);
      }
    };

    const runTask = async (i: number): Promise<TaskResult<O>> => {
      const key = tasks[i]!.key;
      const policy = hooks.policy?.(key) ?? {};
      const retry = policy.retry ?? NO_RETRY;
      const startedAt = performance.now();
      for (let attempt = 1; ; attempt++) {
        hooks.onStart?.(key, attempt);
        const controller = new AbortController();
        const onAbort = () => controller.abort(options.abort?.reason);
        options.abort?.addEventListener('abort', onAbort, { once: true });
        try {
          const output = await withTimeout(
            () => hooks.execute(key, { attempt, signal: controller.signal }),
            policy.timeoutMs,
            controller,
            graceMs,
          );
          // A step may end failed without throwing (rows that fail a test, a file refused whole):
          // that is an answer about the data, not a fault, so it is not retried.
          return {
            key,
            status:
              output.status === 'failed'
                ? 'failed'
                : output.status === 'up_to_date'
                  ? 'up_to_date'
                  : 'succeeded',
            attempts: attempt,
            output,
            readyAt: readyAt[i]!,
            startedAt,
            finishedAt: performance.now(),
          };
        } catch (error) {
          const base = { key, attempts: attempt, error, readyAt: readyAt[i]!, startedAt };
          if (options.abort?.aborted) {
            return {
              ...base,
              status: 'cancelled',
              message: 'cancelled: the run was aborted',
              finishedAt: performance.now(),
            };
          }
          const retryable =
            attempt < retry.attempts && (retry.on === 'all' || isTransientError(error));
          if (!retryable) {
            return {
              ...base,
              status: 'failed',
              // Exhausted only when the policy ran out of tries, not when a later try failed
              // with an error that is not worth retrying.
              ...(attempt > 1 && attempt >= retry.attempts ? { retriesExhausted: true } : {}),
              finishedAt: performance.now(),
            };
          }
          const delay = backoffDelay(retry, attempt, random);
          hooks.onRetry?.(key, attempt, error, delay);
          // A stop (or abort) ends the wait: no new attempt starts once the run is stopping.
          const signals = [options.stop, options.abort].filter((x): x is AbortSignal => !!x);
          await wait(
            delay,
            signals.length ? AbortSignal.any(signals) : new AbortController().signal,
          );
          if (stopped()) {
            return {
              ...base,
              status: 'cancelled',
              message: 'cancelled while waiting to retry',
              finishedAt: performance.now(),
            };
          }
        } finally {
          options.abort?.removeEventListener('abort', onAbort);
        }
      }
    };

    pump();
  });
}

/**
 * Runs `fn` with a time limit. On timeout the task's signal fires and the task gets `graceMs` to
 * wind down (an engine statement is interrupted through the signal) before it is left behind.
 */
async function withTimeout<T>(
  fn: () => Promise<T>,
  timeoutMs: number | undefined,
  controller: AbortController,
  graceMs: number,
): Promise<T> {
  const work = fn();
  if (!timeoutMs) return work;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const first = await Promise.race([work, timedOut]);
    if (first !== 'timeout') return first;
  } finally {
    clearTimeout(timer);
  }
  const error = new TributaryError(`timed out after ${formatDuration(timeoutMs)}`, {
    code: 'INPUT',
    transient: true,
    hint: 'raise timeout: for this asset in tributary.yml (assets:), or find what made it slow',
  });
  controller.abort(error);
  // Wait for the task to stop, so a retry never runs beside the attempt it replaces.
  let grace: NodeJS.Timeout | undefined;
  await Promise.race([
    work.then(
      () => undefined,
      () => undefined,
    ),
    new Promise((resolve) => {
      grace = setTimeout(resolve, graceMs);
    }),
  ]);
  clearTimeout(grace);
  throw error;
}
