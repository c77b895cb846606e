/**
 * Runs through the shared work queue (shared mode: state and warehouse on PostgreSQL). A run's
 * steps are tasks any worker process claims with a lease; each step runs on the worker holding
 * it through the same per-step execution as an in-process run (runner.ts's PlanRun, behind
 * QueuedRunSteps here), which writes the step's history before completing the task.
 *
 * Finishing a run needs no particular process: the worker that completes a run's last task
 * finishes it (status from its tasks, history for the steps the queue skipped or cancelled, the
 * run's alerts), and any worker or run starter that finds a run whose tasks are all done but
 * whose history says running (its finisher died) finishes it too. finishRunIfRunning makes the
 * finishing happen once, whoever gets there first.
 */
import { hostname } from 'node:os';
import { newId } from '../core/index.js';
import {
  runQueueWorker,
  type QueueTaskOutcome,
  type QueueWorkerStats,
  type TaskQueue,
} from '../dag/index.js';
import type { LostRange } from '../sources/index.js';
import type {
  Claim,
  RunRecord,
  StepStatus,
  StepWrite,
  WorkQueue,
  WorkTask,
} from '../state/index.js';
import type { RefusedFile } from './executors.js';
import {
  refusedFilesOf,
  runAlerts,
  runStatusOf,
  type AlertSink,
  type PlannedStep,
  type RunResult,
  type StepResult,
} from './run-result.js';
import type { Workspace } from './workspace.js';

/** What any worker needs to run a queued run's steps (stored with the run in the queue). */
export interface QueuedRunPayload {
  command: string;
  resumedFrom?: string;
  steps: PlannedStep[];
  fullRefresh: boolean;
  retryRejected: boolean;
  forecastBacktestOnly: boolean;
  /** The run's clock (ISO), the same for every worker. */
  now: string;
}

/** What a completed step hands back for the run's result and alerts (a task's output). */
export interface QueuedStepOutput {
  refusedFiles?: RefusedFile[];
  streamGaps?: LostRange[];
}

/** A queued run's steps, as one worker runs them (runner.ts's PlanRun). */
export interface QueuedRunSteps {
  runTask(task: string, claimAttempt: number, signal: AbortSignal): Promise<QueueTaskOutcome>;
  /** Releases what running its steps held (warehouse sessions). */
  close(): Promise<void>;
}

export type OpenQueuedRun = (runId: string, payload: QueuedRunPayload) => QueuedRunSteps;

/** How often a worker renews its leases: a sixth of the lease, so a few beats may be lost. */
export function heartbeatEvery(queue: WorkQueue): number {
  return Math.max(200, Math.floor(queue.leaseMs / 6));
}

/** A worker's name in the queue: unique across the fleet, and says where it runs. */
export function workerName(): string {
  return `${hostname()}-${process.pid}-${newId()}`;
}

/**
 * Runs claimed tasks for a worker: each run's steps through one QueuedRunSteps (opened from the
 * run's payload on its first task here), and finishes a run when its last task is completed.
 */
export class QueueStepExecutor {
  private readonly runs = new Map<string, QueuedRunSteps>();

  constructor(
    private readonly ws: Workspace,
    private readonly queue: WorkQueue,
    private readonly open: OpenQueuedRun,
    private readonly sink?: AlertSink,
  ) {}

  /** Runs `runId`'s tasks through `steps` (the run starter's own PlanRun). */
  adopt(runId: string, steps: QueuedRunSteps): void {
    this.runs.set(runId, steps);
  }

  readonly execute = async (claim: Claim, signal: AbortSignal): Promise<QueueTaskOutcome> => {
    let steps = this.runs.get(claim.runId);
    if (!steps) {
      const payload = (await this.queue.runPayload(claim.runId)) as QueuedRunPayload | undefined;
      if (!payload) return { status: 'failed', message: `run ${claim.runId} has no payload` };
      const unknown = payload.steps.filter((s) => !this.ws.graph.assets.has(s.asset));
      if (unknown.length)
        return {
          status: 'failed',
          message: `this worker's project has no ${unknown.map((s) => s.asset).join(', ')} (is it the same version as the run's?)`,
        };
      steps = this.open(claim.runId, payload);
      this.runs.set(claim.runId, steps);
    }
    return steps.runTask(claim.task, claim.attempt, signal);
  };

  /**
   * The queue, as the worker loop sees it (claims limited to `runId` when given): completing a
   * task also finishes its run when it was the run's last.
   */
  taskQueue(runId?: string): TaskQueue<Claim> {
    const { queue } = this;
    return {
      claim: (worker, limit) => queue.claim(worker, limit, runId),
      heartbeat: (worker, claims) => queue.heartbeat(worker, claims),
      release: (worker, claims) => queue.release(worker, claims),
      complete: async (worker, claim, status, message, output) => {
        const recorded = await queue.complete(worker, claim, status, message, output);
        if (recorded) await this.afterTask(claim.runId);
        return recorded;
      },
    };
  }

  /** Finishes the run if nothing of it is left, and lets go of what its steps held here. */
  private async afterTask(runId: string): Promise<void> {
    // A failure to finish it now is not the task's: the reaper finishes it later.
    const left = await finishQueuedRun(this.ws, this.queue, runId, this.sink).catch(() => 1);
    if (left === 0) {
      const steps = this.runs.get(runId);
      this.runs.delete(runId);
      await steps?.close();
    }
  }

  async close(): Promise<void> {
    const all = [...this.runs.values()];
    this.runs.clear();
    for (const steps of all) await steps.close();
  }
}

/** A task's state as a step's status in history. */
function stepStatusOf(task: WorkTask): Exclude<StepStatus, 'running'> {
  if (task.state === 'succeeded' || task.state === 'up_to_date') return task.state;
  if (task.state === 'skipped' || task.state === 'cancelled') return task.state;
  return 'failed';
}

/**
 * Finishes a queued run when none of its tasks is left: writes history for the steps the queue
 * finished without a worker (skipped below a failure, cancelled, or failed after losing its
 * worker too often), marks the run finished from its tasks' states and, when this call was the
 * one that did (finishRunIfRunning), sends the run's alerts. Returns how many tasks are left.
 */
export async function finishQueuedRun(
  ws: Workspace,
  queue: WorkQueue,
  runId: string,
  sink?: AlertSink,
): Promise<number> {
  const left = await queue.unfinished(runId);
  if (left) return left;
  const run = await ws.state.getRun(runId);
  if (!run || run.status !== 'running') return 0;
  const tasks = await queue.tasks(runId);
  const recorded = new Map((await ws.state.listSteps(runId)).map((s) => [s.asset, s]));
  const payload = (await queue.runPayload(runId)) as QueuedRunPayload | undefined;
  const byKey = new Map((payload?.steps ?? []).map((s) => [s.key, s]));
  const now = new Date().toISOString();
  const missing: StepWrite[] = [];
  for (const t of tasks) {
    const step = recorded.get(t.task);
    if (step && step.status !== 'running') continue;
    const asset = ws.graph.assets.get(byKey.get(t.task)?.asset ?? t.task);
    missing.push({
      runId,
      asset: t.task,
      kind: step?.kind ?? asset?.kind ?? 'unknown',
      status: stepStatusOf(t),
      startedAt: step?.startedAt ?? now,
      finishedAt: now,
      ...(t.message ? { message: t.message } : {}),
      ...(t.attempt ? { attempts: t.attempt } : {}),
    });
  }
  if (missing.length) await ws.state.upsertSteps(missing);
  const status = runStatusOf(tasks.map(stepStatusOf));
  if (!(await ws.state.finishRunIfRunning(runId, status))) return 0;
  if (sink) {
    const result = await queuedRunResult(ws, queue, runId, payload?.steps ?? []);
    const durationMs = Date.now() - Date.parse(run.startedAt);
    const assetName = (key: string) => {
      const step = byKey.get(key);
      return (step && ws.graph.assets.get(step.asset)?.name) ?? key;
    };
    const alerts = runAlerts(
      { runId, command: run.command, status, steps: result.steps, durationMs },
      assetName,
    );
    // Alerts never fail the run: what cannot be delivered goes to the dead-letter store.
    for (const a of alerts) await sink.notify(a).catch(() => undefined);
  }
  return 0;
}

/**
 * Finishes the runs whose tasks are all done but whose history still says running: their
 * finisher died between completing the last task and finishing the run. Fails the runs that
 * have no tasks at all a lease after they started: a run is recorded with its tasks in one
 * transaction, so such a run was left by an earlier version whose starter died in between.
 */
export async function reapFinishedRuns(
  ws: Workspace,
  queue: WorkQueue,
  sink?: AlertSink,
): Promise<void> {
  for (const run of await ws.state.runningRuns()) {
    const [first] = await queue.tasks(run.runId, 1);
    if (first) await finishQueuedRun(ws, queue, run.runId, sink);
    else if (Date.now() - Date.parse(run.startedAt) > queue.leaseMs)
      await failUnqueuedRun(ws, queue, run, sink);
  }
}

/** Why a run with nothing queued was failed (each of its planned steps says so). */
export const NEVER_QUEUED =
  'never ran: the process that started the run stopped before its steps were queued';

/** Fails a running run that has no tasks (and no payload) in the queue; see reapFinishedRuns. */
async function failUnqueuedRun(
  ws: Workspace,
  queue: WorkQueue,
  run: RunRecord,
  sink?: AlertSink,
): Promise<void> {
  if ((await queue.runPayload(run.runId)) !== undefined) return;
  const now = new Date().toISOString();
  const plan = run.plan ?? [];
  await ws.state.upsertSteps(
    plan.map((key) => ({
      runId: run.runId,
      asset: key,
      kind: ws.graph.assets.get(key)?.kind ?? 'unknown',
      status: 'failed' as const,
      startedAt: now,
      finishedAt: now,
      message: NEVER_QUEUED,
    })),
  );
  if (!(await ws.state.finishRunIfRunning(run.runId, 'failed')) || !sink) return;
  const steps: StepResult[] = plan.map((key) => ({
    asset: key,
    kind: (ws.graph.assets.get(key)?.kind ?? 'model') as StepResult['kind'],
    status: 'failed',
    durationMs: 0,
    message: NEVER_QUEUED,
  }));
  const durationMs = Date.now() - Date.parse(run.startedAt);
  const alerts = runAlerts(
    { runId: run.runId, command: run.command, status: 'failed', steps, durationMs },
    (key) => ws.graph.assets.get(key)?.name ?? key,
  );
  for (const a of alerts) await sink.notify(a).catch(() => undefined);
}

/** A queued run's result as history has it, with what its steps handed back. */
export async function queuedRunResult(
  ws: Workspace,
  queue: WorkQueue,
  runId: string,
  planned: readonly PlannedStep[],
): Promise<RunResult> {
  const run = await ws.state.getRun(runId);
  const records = new Map((await ws.state.listSteps(runId)).map((s) => [s.asset, s]));
  const outputs = new Map(
    (await queue.tasks(runId)).map((t) => [
      t.task,
      t.output ? (JSON.parse(t.output) as QueuedStepOutput) : {},
    ]),
  );
  const steps: StepResult[] = [];
  for (const p of planned) {
    const r = records.get(p.key);
    if (!r) continue;
    const durationMs = r.finishedAt ? Date.parse(r.finishedAt) - Date.parse(r.startedAt) : 0;
    steps.push({
      asset: p.key,
      kind: ws.graph.assets.get(p.asset)?.kind ?? (r.kind as StepResult['kind']),
      status: r.status === 'running' ? 'failed' : r.status,
      durationMs,
      ...(r.attempts ? { attempts: r.attempts } : {}),
      ...(r.rowsIn !== null ? { rowsIn: r.rowsIn } : {}),
      ...(r.rowsOut !== null ? { rowsOut: r.rowsOut } : {}),
      ...(r.rowsRejected !== null ? { rowsRejected: r.rowsRejected } : {}),
      ...(r.message !== null ? { message: r.message } : {}),
      ...(p.partition ? { partition: p.partition.key } : {}),
      ...outputs.get(p.key),
    });
  }
  const status = run?.status === 'running' || !run ? 'failed' : run.status;
  const durationMs =
    run?.finishedAt && run.startedAt ? Date.parse(run.finishedAt) - Date.parse(run.startedAt) : 0;
  return { runId, status, durationMs, steps, refusedFiles: refusedFilesOf(steps) };
}

/**
 * The run starter's part: works on its own run's tasks (beside any workers) until the run is
 * finished, by whichever process completed its last task. `stop` cancels the steps not yet
 * started (running ones finish); `abort` also gives back this process's running steps, then
 * waits for the other workers' running steps to end.
 */
export async function driveQueuedRun(
  ws: Workspace,
  queue: WorkQueue,
  executor: QueueStepExecutor,
  runId: string,
  options: { slots: number; stop?: AbortSignal; abort?: AbortSignal; sink?: AlertSink },
): Promise<QueueWorkerStats> {
  const cancel = () => void queue.cancel(runId, 'the run was stopped').catch(() => undefined);
  options.stop?.addEventListener('abort', cancel, { once: true });
  options.abort?.addEventListener('abort', cancel, { once: true });
  if (options.stop?.aborted || options.abort?.aborted) cancel();
  const finished = async () => {
    const run = await ws.state.getRun(runId);
    if (run && run.status !== 'running') return true;
    await finishQueuedRun(ws, queue, runId, options.sink);
    return false;
  };
  try {
    const stats = await runQueueWorker(executor.taskQueue(runId), {
      worker: workerName(),
      slots: options.slots,
      execute: executor.execute,
      stop: new AbortController().signal,
      heartbeatMs: heartbeatEvery(queue),
      ...(options.abort ? { abort: options.abort } : {}),
      onIdle: finished,
    });
    // Aborted: what this process gave back is cancelled; the rest ends on other workers.
    if (options.abort?.aborted) await queue.cancel(runId, 'the run was aborted');
    while (!(await finished())) await new Promise((r) => setTimeout(r, 200));
    return stats;
  } finally {
    options.stop?.removeEventListener('abort', cancel);
    options.abort?.removeEventListener('abort', cancel);
  }
}
