/**
 * Dispatches a graph of tasks: each starts once its upstream tasks have finished, up to a
 * concurrency limit, picked in the order given (topological, so runs are repeatable). Each task
 * has a retry policy and a timeout; a failure skips everything downstream of it while other
 * branches go on; a stop lets running tasks finish and cancels the rest, an abort also cancels
 * the running ones. Nothing here knows what a task does: the pipeline runner, backfills, dbt
 * verbs (one task per node, one slot per thread) and the benchmark all run through it.
 *
 * Ready tasks wait in a binary heap keyed by position and each completion only visits its own
 * downstream tasks, so dispatching n tasks costs O(n log n + edges), not a scan per completion.
 */
import {
  TributaryError,
  backoffDelay,
  formatDuration,
  isTransientError,
  type BackoffPolicy,
} from '../core/index.js';

/** How often a task is tried and on which errors (tributary.yml `retry:` has this shape). */
export interface RetryPolicy extends BackoffPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** `transient`: only errors isTransientError accepts; `all`: any error. */
  on: 'transient' | 'all';
}

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
  /**
   * Which of the `concurrency` slots the task holds (0-based), the same for all its attempts and
   * held by no other running task: a dbt thread, or a session per slot. A timed-out attempt left
   * behind after `graceMs` may still be running when its slot is given to another task.
   */
  slot: number;
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
  /** For a skipped task: its upstream tasks that failed or were skipped, in its deps' order. */
  blockedBy?: string[];
  /** performance.now() when the task became ready (its upstream done) and when it started. */
  readyAt: number;
  startedAt?: number;
  finishedAt: number;
}

/** What a task's output counts as; the default reads `status` (`failed`, `up_to_date`). */
export type OutputStatus = 'succeeded' | 'up_to_date' | 'failed';

export interface DispatchHooks<O> {
  /** Runs one attempt; throws to fail it. An output with status up_to_date is kept as such. */
  execute(key: string, ctx: TaskContext): Promise<O>;
  /**
   * What an output counts as, when its `status` does not say it (a dbt node's `error` or `fail`).
   * A failed output is an answer about the data, not a fault: it is not retried.
   */
  outcome?(output: O): OutputStatus;
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
  return new Dispatcher(tasks, hooks, options).run();
}

/** Why a finished task's downstream cannot run: it failed or was skipped, or it was cancelled. */
const FAILED = 1;
const CANCELLED = 2;

/** One dispatch: the graph as arrays by task position, the ready heap and the free slots. */
class Dispatcher<O extends { status?: string }> {
  private readonly limit: number;
  private readonly graceMs: number;
  private readonly position = new Map<string, number>();
  /** By position: upstream tasks not finished yet, and the tasks downstream. */
  private readonly waitingOn: Int32Array;
  private readonly downstream: number[][];
  private readonly results: (TaskResult<O> | undefined)[];
  /** By position: 0, FAILED or CANCELLED once finished. */
  private readonly broken: Uint8Array;
  private readonly readyAt: Float64Array;
  private readonly ready = new PositionHeap();
  /** Slots no running task holds, the lowest on top (so one slot serves a serial run). */
  private readonly freeSlots: number[] = [];
  private running = 0;
  private settled = false;
  private resolve: (results: TaskResult<O>[]) => void = () => undefined;
  private reject: (err: unknown) => void = () => undefined;

  constructor(
    private readonly tasks: readonly DispatchTask[],
    private readonly hooks: DispatchHooks<O>,
    private readonly options: DispatchOptions,
  ) {
    const n = tasks.length;
    this.limit = Math.max(1, Math.floor(options.concurrency ?? 1));
    this.graceMs = options.graceMs ?? 30_000;
    for (let s = this.limit - 1; s >= 0; s--) this.freeSlots.push(s);
    tasks.forEach((t, i) => this.position.set(t.key, i));
    this.waitingOn = new Int32Array(n);
    this.downstream = Array.from({ length: n }, () => []);
    for (let i = 0; i < n; i++) {
      for (const d of tasks[i]!.deps) {
        const j = this.position.get(d);
        if (j === undefined || j === i) continue;
        this.waitingOn[i]++;
        this.downstream[j]!.push(i);
      }
    }
    this.results = new Array<TaskResult<O> | undefined>(n);
    this.broken = new Uint8Array(n);
    this.readyAt = new Float64Array(n);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      if (this.waitingOn[i] === 0) {
        this.readyAt[i] = t0;
        this.ready.push(i);
      }
    }
  }

  run(): Promise<TaskResult<O>[]> {
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.pump();
    });
  }

  private stopped(): boolean {
    return Boolean(this.options.stop?.aborted || this.options.abort?.aborted);
  }

  private fail(err: unknown): void {
    if (!this.settled) {
      this.settled = true;
      this.reject(err);
    }
  }

  /** Starts ready tasks while slots are free; resolves once nothing is running or ready. */
  private pump(): void {
    if (this.settled) return;
    while (this.ready.size && this.running < this.limit) {
      const i = this.ready.pop();
      const unrunnable = this.unrunnable(i);
      if (unrunnable) this.complete(i, unrunnable);
      else this.start(i);
    }
    if (this.running === 0 && !this.ready.size) {
      // Every task is reached once its upstream finished, so this only fills in tasks that are
      // part of a cycle (the asset graph refuses cycles; a caller's task list might not).
      for (let i = 0; i < this.tasks.length; i++)
        this.results[i] ??= this.notStarted(i, 'cancelled', 'the run was stopped');
      this.settled = true;
      this.resolve(this.results as TaskResult<O>[]);
    }
  }

  /** The result of a ready task that must not start: skipped or cancelled; else undefined. */
  private unrunnable(i: number): TaskResult<O> | undefined {
    const deps = this.tasks[i]!.deps;
    let blockedBy: string[] | undefined;
    let upstreamCancelled = false;
    for (const d of deps) {
      const j = this.position.get(d);
      if (j === undefined) continue;
      if (this.broken[j] === FAILED) (blockedBy ??= []).push(d);
      else if (this.broken[j] === CANCELLED) upstreamCancelled = true;
    }
    if (blockedBy) {
      return {
        ...this.notStarted(i, 'skipped', `upstream ${blockedBy.join(', ')} did not succeed`),
        blockedBy,
      };
    }
    // Downstream of a cancelled task is cancelled too (not skipped: nothing upstream failed).
    if (this.stopped() || upstreamCancelled)
      return this.notStarted(i, 'cancelled', 'the run was stopped');
    return undefined;
  }

  private notStarted(i: number, status: 'skipped' | 'cancelled', why: string): TaskResult<O> {
    return {
      key: this.tasks[i]!.key,
      status,
      attempts: 0,
      message: status === 'skipped' ? `skipped: ${why}` : `cancelled before it started: ${why}`,
      readyAt: this.readyAt[i]!,
      finishedAt: performance.now(),
    };
  }

  private start(i: number): void {
    this.running++;
    const slot = this.freeSlots.pop()!;
    this.runTask(i, slot).then(
      (result) => {
        this.running--;
        this.freeSlots.push(slot);
        this.complete(i, result);
        this.pump();
      },
      (err: unknown) => this.fail(err),
    );
  }

  /** Records a finished task and makes ready the downstream tasks it was the last one of. */
  private complete(i: number, result: TaskResult<O>): void {
    this.results[i] = result;
    if (result.status === 'failed' || result.status === 'skipped') this.broken[i] = FAILED;
    else if (result.status === 'cancelled') this.broken[i] = CANCELLED;
    const now = result.finishedAt;
    for (const k of this.downstream[i]!) {
      if (--this.waitingOn[k] === 0) {
        this.readyAt[k] = now;
        this.ready.push(k);
      }
    }
    try {
      this.hooks.onFinish?.(result);
    } catch (err) {
      this.fail(err);
    }
  }

  /** A task's attempts under its retry policy, ending in its result. */
  private async runTask(i: number, slot: number): Promise<TaskResult<O>> {
    const key = this.tasks[i]!.key;
    const policy = this.hooks.policy?.(key) ?? {};
    const retry = policy.retry ?? NO_RETRY;
    const readyAt = this.readyAt[i]!;
    const startedAt = performance.now();
    for (let attempt = 1; ; attempt++) {
      this.hooks.onStart?.(key, attempt);
      let error: unknown;
      try {
        const output = await this.attempt(key, attempt, slot, policy.timeoutMs);
        // A step may end failed without throwing (rows that fail a test, a file refused whole):
        // that is an answer about the data, not a fault, so it is not retried.
        const status = this.hooks.outcome ? this.hooks.outcome(output) : defaultOutcome(output);
        return {
          key,
          status,
          attempts: attempt,
          output,
          readyAt,
          startedAt,
          finishedAt: performance.now(),
        };
      } catch (e) {
        error = e;
      }
      const base = { key, attempts: attempt, error, readyAt, startedAt };
      if (this.options.abort?.aborted) {
        return {
          ...base,
          status: 'cancelled',
          message: 'cancelled: the run was aborted',
          finishedAt: performance.now(),
        };
      }
      if (attempt >= retry.attempts || !(retry.on === 'all' || isTransientError(error))) {
        return {
          ...base,
          status: 'failed',
          // Exhausted only when the policy ran out of tries, not when a later try failed with an
          // error that is not worth retrying.
          ...(attempt > 1 && attempt >= retry.attempts ? { retriesExhausted: true } : {}),
          finishedAt: performance.now(),
        };
      }
      const delay = backoffDelay(retry, attempt, this.options.random ?? Math.random);
      this.hooks.onRetry?.(key, attempt, error, delay);
      // A stop (or abort) ends the wait: no new attempt starts once the run is stopping.
      await (this.options.sleep ?? sleep)(delay, this.stopSignal());
      if (this.stopped()) {
        return {
          ...base,
          status: 'cancelled',
          message: 'cancelled while waiting to retry',
          finishedAt: performance.now(),
        };
      }
    }
  }

  /**
   * One attempt, under the task's timeout; the run's abort reaches it through its signal. (Not
   * async: without a timeout or an abort signal it is the task's own promise, no extra layers.)
   */
  private attempt(
    key: string,
    attempt: number,
    slot: number,
    timeoutMs: number | undefined,
  ): Promise<O> {
    const controller = new LazyAbortController();
    const run = () => this.hooks.execute(key, new AttemptContext(attempt, slot, controller));
    const abort = this.options.abort;
    if (!abort) return withTimeout(run, timeoutMs, controller, this.graceMs);
    const onAbort = () => controller.abort(abort.reason);
    const done = () => abort.removeEventListener('abort', onAbort);
    abort.addEventListener('abort', onAbort, { once: true });
    try {
      return withTimeout(run, timeoutMs, controller, this.graceMs).finally(done);
    } catch (err) {
      done(); // execute threw before returning a promise
      throw err;
    }
  }

  /** Fires on stop or abort: what a wait between retries listens to. */
  private stopSignal(): AbortSignal {
    const signals = [this.options.stop, this.options.abort].filter((x): x is AbortSignal => !!x);
    return signals.length ? AbortSignal.any(signals) : new AbortController().signal;
  }
}

/**
 * An AbortController made when its signal is first read or it is aborted: most executors never
 * read the signal (dbt's compile, 3,000 nodes), and making one per attempt was 1–2% of a compile.
 */
class LazyAbortController {
  private controller: AbortController | undefined;
  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }
  abort(reason?: unknown): void {
    (this.controller ??= new AbortController()).abort(reason);
  }
}

/** A TaskContext whose signal is the attempt's lazily made controller's. */
class AttemptContext implements TaskContext {
  constructor(
    readonly attempt: number,
    readonly slot: number,
    private readonly controller: LazyAbortController,
  ) {}
  get signal(): AbortSignal {
    return this.controller.signal;
  }
}

function defaultOutcome(output: { status?: string }): OutputStatus {
  return output.status === 'failed'
    ? 'failed'
    : output.status === 'up_to_date'
      ? 'up_to_date'
      : 'succeeded';
}

/**
 * Runs `fn` with a time limit. On timeout the task's signal fires and the task gets `graceMs` to
 * wind down (an engine statement is interrupted through the signal) before it is left behind.
 */
function withTimeout<T>(
  fn: () => Promise<T>,
  timeoutMs: number | undefined,
  controller: LazyAbortController,
  graceMs: number,
): Promise<T> {
  return timeoutMs ? raceTimeout(fn(), timeoutMs, controller, graceMs) : fn();
}

/** The timed part of withTimeout: the work against its timer, then its grace to wind down. */
async function raceTimeout<T>(
  work: Promise<T>,
  timeoutMs: number,
  controller: LazyAbortController,
  graceMs: number,
): Promise<T> {
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
