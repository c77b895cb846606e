/**
 * What a run is made of and what it comes to: its planned steps, each step's result, the run's
 * result and its alerts. Shared by the in-process runner (runner.ts) and runs through the work
 * queue (queued-runs.ts), which both build them.
 */
import { describeError } from '../core/index.js';
import type { TaskResult } from '../dag/index.js';
import type {
  AlertEvent,
  FailureEvent,
  RefusedFilesEvent,
  RetriesExhaustedEvent,
  StreamGapEvent,
  SuccessEvent,
} from '../notify/index.js';
import type { LostRange } from '../sources/index.js';
import type { RunStatus, StepStatus } from '../state/index.js';
import type { RefusedFile, StepOutcome } from './executors.js';
import type { AssetKind } from './graph.js';
import type { Workspace } from './workspace.js';

export type RunAlert =
  FailureEvent | RetriesExhaustedEvent | SuccessEvent | RefusedFilesEvent | StreamGapEvent;

/** Where runs report failures, exhausted retries and successes (notify's Notifier). */
export interface AlertSink {
  notify(event: AlertEvent): Promise<unknown>;
}

export interface StepResult {
  asset: string;
  kind: AssetKind;
  status: Exclude<StepStatus, 'running'>;
  durationMs: number;
  attempts?: number;
  rowsIn?: number;
  rowsOut?: number;
  rowsRejected?: number;
  reasons?: Record<string, number>;
  message?: string;
  /** The partition a partition run built. */
  partition?: string;
  /** Files the step refused whole (processed steps). */
  refusedFiles?: RefusedFile[];
  /** Stream records lost to retention before this landing step reached them (raw steps). */
  streamGaps?: LostRange[];
}

export interface RunResult {
  runId: string;
  status: Exclude<RunStatus, 'running'>;
  durationMs: number;
  steps: StepResult[];
  resumedFrom?: string;
  /**
   * Files refused whole in this run, by processed asset: the run went on without them (a data
   * problem, reported and alerted on, not a failed step); `run --retry-rejected` reads them again.
   */
  refusedFiles: (RefusedFile & { asset: string })[];
}

/** A planned step: the asset, and for partition runs the partition and its vars. */
export interface PlannedStep {
  /** Key in run history: the asset key, or `<asset>@<partition>` for a partition. */
  key: string;
  asset: string;
  deps: string[];
  partition?: { key: string; vars: Record<string, unknown> };
}

export function toStepResult(
  ws: Workspace,
  step: PlannedStep,
  r: TaskResult<StepOutcome>,
): StepResult {
  const asset = ws.graph.assets.get(step.asset)!;
  const durationMs = r.startedAt === undefined ? 0 : Math.round(r.finishedAt - r.startedAt);
  const base = {
    asset: step.key,
    kind: asset.kind,
    durationMs,
    ...(r.attempts ? { attempts: r.attempts } : {}),
    ...(step.partition ? { partition: step.partition.key } : {}),
  };
  if (r.output && (r.status === 'succeeded' || r.status === 'up_to_date')) {
    return { ...base, ...r.output, status: r.output.status };
  }
  if (r.status === 'failed' && r.output) return { ...base, ...r.output, status: 'failed' };
  const message =
    r.message ??
    (r.error !== undefined
      ? `${describeError(r.error)}${r.attempts > 1 ? ` (after ${r.attempts} attempts)` : ''}`
      : undefined);
  return {
    ...base,
    status: r.status === 'up_to_date' ? 'succeeded' : r.status,
    ...(message ? { message } : {}),
  };
}

/**
 * A finished run's status from its steps': failed when any step failed, else cancelled when any
 * was, else succeeded (up to date and skipped steps do not fail a run). The in-process and the
 * queued run are both finished with it.
 */
export function runStatusOf(stepStatuses: Iterable<string>): RunResult['status'] {
  const seen = new Set(stepStatuses);
  if (seen.has('failed')) return 'failed';
  return seen.has('cancelled') ? 'cancelled' : 'succeeded';
}

/** One line per step for logs: status, asset, time and what happened. */
export function formatStep(step: StepResult): string {
  const time =
    step.durationMs >= 1000 ? `${(step.durationMs / 1000).toFixed(1)}s` : `${step.durationMs}ms`;
  const first = step.message?.split('\n')[0];
  const tries = step.attempts && step.attempts > 1 ? `, ${step.attempts} attempts` : '';
  return `${step.status.padEnd(10)} ${step.asset} (${time}${tries})${first ? `  ${first}` : ''}`;
}

/**
 * A finished run's own alerts (its steps' exhausted retries are sent as they happen): failure or
 * success, files refused, and stream records lost before landing. `assetName` gives a step's
 * table name for stream gaps.
 */
export function runAlerts(
  run: {
    runId: string;
    command: string;
    status: RunResult['status'];
    steps: StepResult[];
    durationMs: number;
  },
  assetName: (stepKey: string) => string,
): RunAlert[] {
  const { runId, command, status, steps, durationMs } = run;
  const alerts: RunAlert[] = [];
  const at = new Date().toISOString();
  if (status === 'failed') {
    const failedSteps = steps
      .filter((s) => s.status === 'failed')
      .map((s) => ({ asset: s.asset, message: s.message ?? 'failed' }));
    alerts.push({ type: 'failure', runId, command, failedSteps, at });
  } else if (status === 'succeeded') {
    alerts.push({ type: 'success', runId, command, durationMs, at });
  }
  const files = refusedFilesOf(steps);
  if (files.length) alerts.push({ type: 'refused_files', runId, command, files, at });
  for (const s of steps)
    for (const gap of s.streamGaps ?? [])
      alerts.push({ type: 'stream_gap', table: assetName(s.asset), ...gap, at });
  return alerts;
}

/** The files a run's steps refused whole, each with its step. */
export function refusedFilesOf(steps: readonly StepResult[]): RunResult['refusedFiles'] {
  return steps.flatMap((s) => (s.refusedFiles ?? []).map((f) => ({ asset: s.asset, ...f })));
}
