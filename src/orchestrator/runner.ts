/**
 * Runs a selection of the asset graph (or a resumed run, or partitions of one asset) through the
 * dispatcher: topological order, a concurrency limit, each asset's retry policy and timeout. A
 * failed asset skips everything downstream while independent branches go on. Every run, step,
 * attempt and log line is written to the state store as it happens, so history survives a crash
 * and `--resume` knows what is left.
 */
import {
  TributaryError,
  describeError,
  faultPoint,
  formatDuration,
  newId,
  silentProgress,
  type ProgressReporter,
} from '../core/index.js';
import type { Engine } from '../engines/index.js';
import type { StateStore, StepLogLine, StepWrite, WorkQueue } from '../state/index.js';
import { DbtSession } from '../models/index.js';
import type { AlertEvent, FreshnessEvent } from '../notify/index.js';
import {
  dispatch,
  type QueueTaskOutcome,
  type TaskContext,
  type TaskResult,
} from '../dag/index.js';
import { executeAsset, type ExecContext, type StepOutcome } from './executors.js';
import { selectAssets, type Asset } from './graph.js';
import { resolvePolicies, type AssetPolicies } from './policy.js';
import {
  QueueStepExecutor,
  driveQueuedRun,
  queuedRunResult,
  type OpenQueuedRun,
  type QueuedRunPayload,
  type QueuedRunSteps,
  type QueuedStepOutput,
} from './queued-runs.js';
import {
  formatStep,
  refusedFilesOf,
  runAlerts,
  runStatusOf,
  toStepResult,
  type AlertSink,
  type PlannedStep,
  type RunAlert,
  type RunResult,
} from './run-result.js';
import type { Workspace } from './workspace.js';

export type { AlertEvent, AlertSink, PlannedStep, RunResult };
export type { StepResult } from './run-result.js';
export type FreshnessAlert = FreshnessEvent;

export interface RunOptions {
  select?: string[];
  exclude?: string[];
  progress?: ProgressReporter;
  /** Re-read files that an earlier run rejected whole. */
  retryRejected?: boolean;
  command?: string;
  /** What started the run: `cli` (default), `schedule:<name>`, `trigger:<name>`, `replay`. */
  trigger?: string;
  /** The clock, for tests. */
  now?: Date;
  /** How many assets may run at once (default: tributary.yml `concurrency`). */
  concurrency?: number;
  /** Rebuild incremental models and snapshots' targets from scratch (dbt's --full-refresh). */
  fullRefresh?: boolean;
  /** Run only the steps of this earlier run that failed or never ran. */
  resume?: string;
  /** Stop starting steps (running ones finish); abort cancels the running ones too. */
  stop?: AbortSignal;
  abort?: AbortSignal;
  /** Where failures, exhausted retries and (opt-in) successes are reported. */
  alerts?: AlertSink;
  /** Told the run's id as soon as it is recorded. */
  onStart?: (runId: string) => void;
  /** Waits between retries and their jitter, for tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Forecast steps write their backtest and methods tables only, not the forecasts. */
  forecastBacktestOnly?: boolean;
  /** What running an asset means (default executeAsset); benchmarks pass a no-op. */
  executor?: (ctx: ExecContext, asset: Asset) => Promise<StepOutcome>;
  /**
   * The schedule tick this run is for: claimed in the transaction that records the run, so a
   * tick is claimed exactly when its run is recorded. When the tick was already handled (by
   * another scheduler sharing the state), nothing is recorded and the run throws TickHandled.
   */
  tick?: RunTick;
}

/** A schedule's tick (ISO time), as a run claims it (StateStore.claimTick). */
export interface RunTick {
  schedule: string;
  at: string;
}

/** A run for a tick that was already handled did not start: another scheduler ran the tick. */
/** Sequence numbers set aside for each claim of a queued step's log lines (see `runTask`). */
const LOG_LINES_PER_CLAIM = 1_000_000;

export class TickHandled extends TributaryError {
  constructor(readonly tick: RunTick) {
    super(
      `${tick.schedule}: tick ${tick.at} was already handled (by another scheduler sharing the state)`,
      {
        code: 'CONFLICT',
      },
    );
  }
}

/**
 * Claims a run's tick (if it has one) on `state`, a transaction's store: throws TickHandled
 * when the tick was handled already, which rolls back the run's record with it.
 */
export async function claimRunTick(state: StateStore, tick: RunTick | undefined): Promise<void> {
  if (!tick) return;
  if (!(await state.claimTick(tick.schedule, tick.at))) throw new TickHandled(tick);
  faultPoint(`tick-claimed:${tick.schedule}`);
}

/**
 * State writes issued without waiting for them, so run history costs no time on the critical
 * path. The state engine runs its statements in order, so reads issued later still see them;
 * everything is flushed before the run is marked finished, and the first failure is rethrown.
 */
class WriteBehind {
  private readonly pending = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  add(write: Promise<unknown>): void {
    const tracked: Promise<void> = write.then(
      () => {
        this.pending.delete(tracked);
      },
      (error: unknown) => {
        this.pending.delete(tracked);
        this.failure ??= { error };
      },
    );
    this.pending.add(tracked);
  }

  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
    if (this.failure) throw this.failure.error;
  }
}

/**
 * Step records and log lines, written in batches: every 50 ms, or at once when 500 are waiting.
 * One statement per step costs a commit each (milliseconds), which at thousands of small steps
 * was most of a run's time; a batch is one multi-row statement. A step's record reaches the
 * state store at most 50 ms after it changed, so a crash loses at most that much history (and
 * `--resume` reruns a step whose start was not recorded: every step is idempotent).
 */
class StepJournal {
  private readonly steps = new Map<string, StepWrite>();
  private logs: (StepLogLine & { runId: string })[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Resolved once the batch of steps being gathered is in the state store. */
  private batch: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(
    private readonly state: StateStore,
    private readonly later: (write: Promise<unknown>) => void,
  ) {}

  put(step: StepWrite): void {
    this.steps.set(step.asset, step);
    this.schedule();
  }

  /** Resolves once the steps put so far are written (never, if writing them fails). */
  written(): Promise<void> {
    if (!this.batch) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.batch = { promise, resolve };
    }
    return this.batch.promise;
  }

  /** A step's lines, numbered from `after` + 1 (the lines an earlier claim of it wrote). */
  addLogs(runId: string, asset: string, lines: { at: string; line: string }[], after = 0): void {
    lines.forEach((l, i) =>
      this.logs.push({ runId, asset, seq: after + i + 1, at: l.at, line: l.line }),
    );
    this.schedule();
  }

  private schedule(): void {
    if (this.steps.size + this.logs.length >= 500) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), 50);
  }

  /** Hands what is waiting to the write-behind queue (which keeps statements in order). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.steps.size) {
      const batch = [...this.steps.values()];
      this.steps.clear();
      const write = this.state.upsertSteps(batch);
      this.later(write);
      const gathered = this.batch;
      this.batch = undefined;
      if (gathered) write.then(gathered.resolve, () => undefined);
    }
    if (this.logs.length) {
      const batch = this.logs;
      this.logs = [];
      this.later(this.state.insertStepLogs(batch));
    }
  }
}

/** Runs the selected assets of an open workspace (or what is left of an earlier run). */
export async function runPipeline(ws: Workspace, options: RunOptions = {}): Promise<RunResult> {
  let keys: string[];
  if (options.resume) {
    keys = await resumablePlan(ws, options.resume);
  } else {
    const selected = selectAssets(ws.graph, options.select ?? [], options.exclude ?? []);
    // Dashboards are in the graph for lineage; they are served, not built.
    keys = ws.graph.order.filter(
      (k) => selected.has(k) && ws.graph.assets.get(k)!.kind !== 'dashboard',
    );
  }
  const steps: PlannedStep[] = keys.map((k) => ({
    key: k,
    asset: k,
    deps: ws.graph.assets.get(k)!.deps,
  }));
  return runPlan(ws, steps, options);
}

/** The steps of an earlier run that did not succeed, in its order; an error when none are left. */
async function resumablePlan(ws: Workspace, runId: string): Promise<string[]> {
  const run = await ws.state.getRun(runId);
  if (!run) {
    throw new TributaryError(`no run ${runId}`, {
      code: 'NOT_FOUND',
      hint: '`tributary runs` lists run ids',
    });
  }
  if (run.status === 'running') {
    throw new TributaryError(`run ${runId} is still running`, {
      code: 'USAGE',
      hint: 'wait for it to finish, or stop the process running it',
    });
  }
  const done = new Set(
    (await ws.state.listSteps(runId))
      .filter((s) => s.status === 'succeeded' || s.status === 'up_to_date')
      .map((s) => s.asset),
  );
  const plan = run.plan ?? (await ws.state.listSteps(runId)).map((s) => s.asset);
  const missing = plan.filter((k) => !ws.graph.assets.has(k));
  if (missing.length) {
    throw new TributaryError(
      `run ${runId} cannot be resumed: the project no longer has ${missing.join(', ')}`,
      { code: 'USAGE', hint: 'start a new run with `tributary run`' },
    );
  }
  const left = plan.filter((k) => !done.has(k));
  if (!left.length) {
    throw new TributaryError(`run ${runId} has nothing left to run: every step succeeded`, {
      code: 'USAGE',
    });
  }
  return ws.graph.order.filter((k) => left.includes(k));
}

/** Runs planned steps (assets or partitions) and records the run. */
export async function runPlan(
  ws: Workspace,
  planned: PlannedStep[],
  options: RunOptions = {},
): Promise<RunResult> {
  const run = new PlanRun(ws, planned, options);
  if (ws.queue) return runThroughQueue(ws, ws.queue, run, planned, options);
  await run.record();
  const results = await run.dispatchSteps();
  return run.finish(results);
}

/**
 * Shared mode: the run's steps go into the work queue, and this process works on them beside
 * any `tributary worker` (so a run finishes with none running). The worker that completes the
 * last step finishes the run; this process waits for that and returns the result as today.
 */
async function runThroughQueue(
  ws: Workspace,
  queue: WorkQueue,
  run: PlanRun,
  planned: PlannedStep[],
  options: RunOptions,
): Promise<RunResult> {
  const started = performance.now();
  const progress = options.progress ?? silentProgress;
  const now = (options.now ?? new Date()).toISOString();
  const payload: QueuedRunPayload = {
    command: options.command ?? 'run',
    ...(options.resume ? { resumedFrom: options.resume } : {}),
    steps: planned,
    fullRefresh: Boolean(options.fullRefresh),
    retryRejected: Boolean(options.retryRejected),
    forecastBacktestOnly: Boolean(options.forecastBacktestOnly),
    now,
  };
  if (!queue.usesEngine(ws.state.engine))
    throw new TributaryError('the work queue is not in the state database', { code: 'INTERNAL' });
  // The run and its tasks commit together: a starter that dies in between leaves neither, so
  // no run stays `running` with nothing queued to finish it.
  await run.record((state) =>
    queue.enqueueIn(
      state.engine,
      run.runId,
      planned.map((p) => ({ task: p.key, deps: p.deps })),
      payload,
    ),
  );
  const sink = options.alerts ?? ws.alerts;
  const executor = new QueueStepExecutor(ws, queue, queuedRunOpener(ws, options), sink);
  executor.adopt(run.runId, run);
  try {
    await driveQueuedRun(ws, queue, executor, run.runId, {
      slots: run.limit,
      ...(sink ? { sink } : {}),
      ...(options.stop ? { stop: options.stop } : {}),
      ...(options.abort ? { abort: options.abort } : {}),
    });
  } finally {
    await executor.close();
  }
  const result = await queuedRunResult(ws, queue, run.runId, planned);
  const total = planned.length;
  progress.update({ label: 'done', done: total, total, unit: 'assets' });
  return {
    ...result,
    durationMs: Math.round(performance.now() - started),
    ...(options.resume ? { resumedFrom: options.resume } : {}),
  };
}

/**
 * How a worker runs the steps of a queued run: a PlanRun of its payload (the same per-step
 * execution as in-process runs: sessions, retries, timeouts, history, logs, partitions, alerts).
 */
export function queuedRunOpener(
  ws: Workspace,
  options: Pick<RunOptions, 'progress' | 'executor' | 'sleep' | 'random'> = {},
): OpenQueuedRun {
  return (runId, payload) =>
    new PlanRun(
      ws,
      payload.steps,
      {
        command: payload.command,
        fullRefresh: payload.fullRefresh,
        retryRejected: payload.retryRejected,
        forecastBacktestOnly: payload.forecastBacktestOnly,
        now: new Date(payload.now),
        ...(options.progress ? { progress: options.progress } : {}),
        ...(options.executor ? { executor: options.executor } : {}),
        ...(options.sleep ? { sleep: options.sleep } : {}),
        ...(options.random ? { random: options.random } : {}),
      },
      runId,
    );
}

/**
 * One run of planned steps, in named steps: record the run, dispatch its steps (starting,
 * retrying and finishing each, with its record, log lines and alerts), then finish it.
 */
class PlanRun implements QueuedRunSteps {
  private readonly progress: ProgressReporter;
  private readonly policies: AssetPolicies;
  /** How many steps run at once, and so how many warehouse sessions are open. */
  readonly limit: number;
  readonly runId: string;
  private readonly command: string;
  private readonly started = performance.now();
  private readonly byKey: Map<string, PlannedStep>;
  private readonly writes = new WriteBehind();
  private readonly later = (write: Promise<unknown>) => this.writes.add(write);
  private readonly journal: StepJournal;
  /** When each step started (its record is rewritten whole at every change). */
  private readonly startedAt = new Map<string, string>();
  /** Steps started and not finished, for the `running` line once their start is recorded. */
  private readonly running = new Set<string>();
  private readonly viewsRegistered = new Map<string, Promise<void>>();
  private readonly now: Date;
  private readonly sessionOptions: {
    fullRefresh: boolean;
    which: string;
    now: Date;
    log: (m: string) => void;
  };
  private readonly dbt: DbtSession;
  /** Log lines of each step, written to state when the step ends. */
  private readonly logs = new Map<string, { at: string; line: string }[]>();
  /**
   * The last line number an earlier claim of a queued step wrote (its worker was lost after
   * writing the step's log): this claim's lines follow it, where they would collide and be lost.
   */
  private readonly logsAfter = new Map<string, number>();
  private readonly alerts: RunAlert[] = [];
  private done = 0;
  /** Warehouse sessions, reused from step to step: opening one costs more than a small step. */
  private readonly idle: Engine[] = [];
  private readonly opened: Engine[] = [];
  private readonly executor: (ctx: ExecContext, asset: Asset) => Promise<StepOutcome>;

  constructor(
    private readonly ws: Workspace,
    private readonly planned: PlannedStep[],
    private readonly options: RunOptions,
    runId?: string,
  ) {
    this.runId = runId ?? newId('run_');
    this.progress = options.progress ?? silentProgress;
    this.policies = resolvePolicies(ws.graph, ws.project.config.assets);
    this.limit = Math.max(1, Math.floor(options.concurrency ?? ws.project.config.concurrency));
    this.command = options.command ?? 'run';
    this.byKey = new Map(planned.map((p) => [p.key, p]));
    this.journal = new StepJournal(ws.state, this.later);
    this.now = options.now ?? new Date();
    this.sessionOptions = {
      fullRefresh: Boolean(options.fullRefresh),
      which: 'run',
      now: this.now,
      log: (m: string) => this.progress.log(m),
    };
    this.dbt = new DbtSession(ws.models, this.sessionOptions);
    this.executor = options.executor ?? executeAsset;
  }

  /**
   * Writes the run (with its plan) to history before any step starts, in one transaction with
   * its tick's claim (options.tick) and `alsoWrite` (a shared run's tasks in the work queue).
   */
  async record(alsoWrite?: (state: StateStore) => Promise<void>): Promise<void> {
    const trigger = this.options.trigger ?? 'cli';
    await this.ws.state.atomically(async (state) => {
      await claimRunTick(state, this.options.tick);
      await state.startRun(this.runId, this.command, {
        plan: this.planned.map((p) => p.key),
        ...(this.options.resume ? { resumedFrom: this.options.resume } : {}),
        trigger,
      });
      faultPoint(`run-recorded:${trigger}`);
      await alsoWrite?.(state);
    });
    this.options.onStart?.(this.runId);
  }

  /** Runs the steps through the DAG executor; history is flushed whatever happens. */
  async dispatchSteps(): Promise<TaskResult<StepOutcome>[]> {
    try {
      // Sessions are opened before the first step, not by the first steps while they wait.
      for (let i = 0; i < Math.min(this.limit, this.planned.length); i++) {
        const forked = await this.ws.warehouse.fork();
        this.opened.push(forked);
        this.idle.push(forked);
      }
      const { stop, abort, sleep, random } = this.options;
      return await dispatch<StepOutcome>(
        this.planned.map((p) => ({ key: p.key, deps: p.deps })),
        {
          execute: (key, ctx) => this.execute(key, ctx),
          policy: (key) => this.taskPolicy(key),
          onStart: (key, attempt) => this.stepStarted(key, attempt),
          onRetry: (key, attempt, error, delay) => this.stepRetrying(key, attempt, error, delay),
          onFinish: (r) => this.stepFinished(r),
        },
        {
          concurrency: this.limit,
          ...(stop ? { stop } : {}),
          ...(abort ? { abort } : {}),
          ...(sleep ? { sleep } : {}),
          ...(random ? { random } : {}),
        },
      );
    } finally {
      this.journal.flush();
      await Promise.all(this.opened.map((e) => e.close()));
      await this.writes.flush().catch(() => undefined);
    }
  }

  /**
   * One step of a queued run, claimed by this process: run through the DAG executor alone (so
   * its retry policy and timeout apply as in-process), its history written before the queue
   * hears of its outcome (whoever finishes the run reads it), its exhausted retries alerted.
   * `signal` aborts it (the lease was lost, or the worker was told to abort).
   */
  async runTask(
    task: string,
    claimAttempt: number,
    signal: AbortSignal,
  ): Promise<QueueTaskOutcome> {
    if (claimAttempt > 1) {
      // Each claim numbers its lines in a range of its own: a lost worker's last insert may
      // commit after this read (the statement was in flight when it was killed), and lines are
      // inserted with ON CONFLICT DO NOTHING, so sharing numbers would drop this claim's lines.
      const earlier = await this.ws.state.stepLogs(this.runId, task);
      const claimRange = (claimAttempt - 1) * LOG_LINES_PER_CLAIM;
      this.logsAfter.set(task, Math.max(claimRange, ...earlier.map((l) => l.seq)));
      this.logLine(task, `claim ${claimAttempt}: the worker that had this step before was lost`);
    }
    const { sleep, random } = this.options;
    const [r] = await dispatch<StepOutcome>(
      [{ key: task, deps: [] }],
      {
        execute: (key, ctx) => this.execute(key, ctx),
        policy: (key) => this.taskPolicy(key),
        onStart: (key, attempt) => this.stepStarted(key, attempt),
        onRetry: (key, attempt, error, delay) => this.stepRetrying(key, attempt, error, delay),
        onFinish: (result) => this.stepFinished(result),
      },
      { concurrency: 1, abort: signal, ...(sleep ? { sleep } : {}), ...(random ? { random } : {}) },
    );
    this.journal.flush();
    await this.writes.flush();
    const sink = this.options.alerts ?? this.ws.alerts;
    const alerts = this.alerts.splice(0);
    if (sink) for (const a of alerts) await sink.notify(a);
    const step = toStepResult(this.ws, this.byKey.get(task)!, r!);
    const output: QueuedStepOutput = {
      ...(step.refusedFiles?.length ? { refusedFiles: step.refusedFiles } : {}),
      ...(step.streamGaps?.length ? { streamGaps: step.streamGaps } : {}),
    };
    return {
      status:
        step.status === 'failed' || step.status === 'cancelled'
          ? 'failed'
          : r!.status === 'up_to_date'
            ? 'up_to_date'
            : 'succeeded',
      ...(step.message !== undefined ? { message: step.message } : {}),
      ...(Object.keys(output).length ? { output: JSON.stringify(output) } : {}),
    };
  }

  /** Closes the warehouse sessions the run's queued steps opened. */
  async close(): Promise<void> {
    const sessions = this.opened.splice(0);
    this.idle.length = 0;
    await Promise.all(sessions.map((e) => e.close()));
  }

  /** Marks the run finished in history, sends its alerts and returns its result. */
  async finish(results: TaskResult<StepOutcome>[]): Promise<RunResult> {
    const steps = results.map((r) => toStepResult(this.ws, this.byKey.get(r.key)!, r));
    const status = runStatusOf(steps.map((s) => s.status));
    await this.writes.flush();
    await this.ws.state.finishRun(this.runId, status);
    const total = this.planned.length;
    this.progress.update({ label: 'done', done: total, total, unit: 'assets' });
    const durationMs = Math.round(performance.now() - this.started);
    const refusedFiles = refusedFilesOf(steps);
    this.alerts.push(
      ...runAlerts({ runId: this.runId, command: this.command, status, steps, durationMs }, (k) =>
        this.assetName(k),
      ),
    );
    // Alerts never fail the run: what cannot be delivered goes to the dead-letter store.
    const sink = this.options.alerts ?? this.ws.alerts;
    if (sink) for (const a of this.alerts) await sink.notify(a);
    return {
      runId: this.runId,
      status,
      durationMs,
      steps,
      ...(this.options.resume ? { resumedFrom: this.options.resume } : {}),
      refusedFiles,
    };
  }

  /** The graph name of a step's asset (`raw:web.clickstream` is `web.clickstream`). */
  private assetName(stepKey: string): string {
    const step = this.byKey.get(stepKey);
    return step ? this.ws.graph.assets.get(step.asset)!.name : stepKey;
  }

  private taskPolicy(key: string) {
    const p = this.policies.get(this.byKey.get(key)!.asset);
    return {
      ...(p?.retry ? { retry: p.retry } : {}),
      ...(p?.timeout ? { timeoutMs: p.timeout } : {}),
    };
  }

  private logLine(key: string, line: string): void {
    let list = this.logs.get(key);
    if (!list) this.logs.set(key, (list = []));
    list.push({ at: new Date().toISOString(), line });
  }

  private async takeSession(): Promise<Engine> {
    const e = this.idle.pop();
    if (e) return e;
    // Only when a timed-out step was left running on its session.
    const forked = await this.ws.warehouse.fork();
    this.opened.push(forked);
    return forked;
  }

  /** One attempt of a step: a warehouse session, interrupted on timeout or abort. */
  private async execute(key: string, ctx: TaskContext): Promise<StepOutcome> {
    const { signal } = ctx;
    const step = this.byKey.get(key)!;
    const engine = await this.takeSession();
    // A timeout or abort interrupts the statement in flight, so the step ends promptly.
    const onAbort = () => void engine.interrupt().catch(() => undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    const progress: ProgressReporter = {
      ...this.progress,
      log: (m) => {
        this.logLine(key, m);
        this.progress.log(m);
      },
    };
    try {
      if (signal.aborted) throw signal.reason;
      const dbt = step.partition
        ? new DbtSession(this.ws.models, {
            ...this.sessionOptions,
            vars: step.partition.vars,
            tempSuffix: `_${step.partition.key.replace(/\W/g, '')}`,
          })
        : this.dbt;
      const context: ExecContext = {
        ws: this.ws,
        engine,
        progress,
        later: this.later,
        viewsRegistered: this.viewsRegistered,
        dbt,
        retryRejected: this.options.retryRejected ?? false,
        now: this.now,
        signal,
        ...(step.partition ? { partition: step.partition.key } : {}),
        ...(this.options.forecastBacktestOnly ? { forecastBacktestOnly: true } : {}),
        attempt: ctx.attempt,
        runId: this.runId,
      };
      return await this.executor(context, this.ws.graph.assets.get(step.asset)!);
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.idle.push(engine);
    }
  }

  /**
   * A step's first attempt writes its `running` record; once history has it, a step still
   * running gets a `running` line (so a line on the console is a step history knows about).
   */
  private stepStarted(key: string, attempt: number): void {
    const step = this.byKey.get(key)!;
    if (attempt === 1) {
      const at = new Date().toISOString();
      this.startedAt.set(key, at);
      this.running.add(key);
      this.journal.put({
        runId: this.runId,
        asset: key,
        kind: this.ws.graph.assets.get(step.asset)!.kind,
        status: 'running',
        startedAt: at,
      });
      void this.journal.written().then(() => {
        if (this.running.has(key)) this.progress.log(`${'running'.padEnd(10)} ${key}`);
      });
      if (step.partition)
        this.later(
          this.ws.state.setPartition(step.asset, step.partition.key, 'running', this.runId),
        );
    } else this.logLine(key, `attempt ${attempt}`);
    this.progress.update({
      label: key,
      done: this.done,
      total: this.planned.length,
      unit: 'assets',
    });
  }

  private stepRetrying(key: string, attempt: number, error: unknown, delay: number): void {
    const line = `attempt ${attempt} failed: ${describeError(error).split('\n')[0]}; retrying in ${formatDuration(delay)}`;
    this.logLine(key, line);
    this.progress.log(`retry      ${key}  ${line}`);
  }

  /** A finished (or skipped, or cancelled) step: its record, log lines, partition and alert. */
  private stepFinished(r: TaskResult<StepOutcome>): void {
    this.done++;
    this.running.delete(r.key);
    const step = this.byKey.get(r.key)!;
    const result = toStepResult(this.ws, step, r);
    // Every step's log ends with its outcome, so even a quiet step has a line to show.
    this.logLine(r.key, formatStep(result));
    if (result.message?.includes('\n')) this.logLine(r.key, result.message);
    this.journal.put({
      runId: this.runId,
      asset: r.key,
      kind: result.kind,
      status: result.status,
      startedAt: this.startedAt.get(r.key) ?? new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      ...(result.rowsIn !== undefined ? { rowsIn: result.rowsIn } : {}),
      ...(result.rowsOut !== undefined ? { rowsOut: result.rowsOut } : {}),
      ...(result.rowsRejected !== undefined ? { rowsRejected: result.rowsRejected } : {}),
      ...(result.message !== undefined ? { message: result.message } : {}),
      attempts: r.attempts,
    });
    const lines = this.logs.get(r.key);
    if (lines) this.journal.addLogs(this.runId, r.key, lines, this.logsAfter.get(r.key));
    this.logs.delete(r.key);
    if (step.partition && result.status !== 'up_to_date') {
      const status = result.status === 'succeeded' ? 'succeeded' : result.status;
      this.later(
        this.ws.state.setPartition(
          step.asset,
          step.partition.key,
          status,
          this.runId,
          result.message,
        ),
      );
    }
    if (r.retriesExhausted) {
      this.alerts.push({
        type: 'retries_exhausted',
        runId: this.runId,
        asset: r.key,
        attempts: r.attempts,
        error: result.message ?? 'failed',
        at: new Date().toISOString(),
      });
    }
    if (r.attempts > 0 || r.status !== 'cancelled') this.progress.log(formatStep(result));
    this.progress.update({
      label: r.key,
      done: this.done,
      total: this.planned.length,
      unit: 'assets',
    });
  }
}
