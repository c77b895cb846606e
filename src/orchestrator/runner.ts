/**
 * Runs a selection of the asset graph in topological order. A failed asset marks everything
 * downstream of it as skipped while independent branches go on; every run and step is written
 * to the state store as it happens, so history survives a crash mid-run.
 */
import { describeError, newId, silentProgress, type ProgressReporter } from '../core/index.js';
import type { StepStatus } from '../state/index.js';
import { executeAsset, type StepOutcome } from './executors.js';
import { selectAssets, type AssetKind } from './graph.js';
import type { Workspace } from './workspace.js';

export interface RunOptions {
  select?: string[];
  exclude?: string[];
  progress?: ProgressReporter;
  /** Re-read files that an earlier run rejected whole. */
  retryRejected?: boolean;
  command?: string;
  /** The clock, for tests. */
  now?: Date;
}

export interface StepResult {
  asset: string;
  kind: AssetKind;
  status: Exclude<StepStatus, 'running'>;
  durationMs: number;
  rowsIn?: number;
  rowsOut?: number;
  rowsRejected?: number;
  reasons?: Record<string, number>;
  message?: string;
}

export interface RunResult {
  runId: string;
  status: 'succeeded' | 'failed';
  durationMs: number;
  steps: StepResult[];
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

/** Runs the selected assets of an open workspace and records the run. */
export async function runPipeline(ws: Workspace, options: RunOptions = {}): Promise<RunResult> {
  const progress = options.progress ?? silentProgress;
  const selected = selectAssets(ws.graph, options.select ?? [], options.exclude ?? []);
  const order = ws.graph.order.filter((k) => selected.has(k));
  const runId = newId('run_');
  const started = performance.now();
  await ws.state.startRun(runId, options.command ?? 'run');
  const steps: StepResult[] = [];
  const broken = new Set<string>(); // failed or skipped in this run
  const writes = new WriteBehind();
  const later = (write: Promise<unknown>) => writes.add(write);
  const viewsRegistered = new Set<string>();
  try {
    for (const [i, key] of order.entries()) {
      const asset = ws.graph.assets.get(key)!;
      progress.update({ label: key, done: i, total: order.length, unit: 'assets' });
      const blockedBy = asset.deps.filter((d) => broken.has(d));
      later(ws.state.startStep(runId, key, asset.kind));
      if (blockedBy.length) {
        broken.add(key);
        const message = `skipped: upstream ${blockedBy.join(', ')} did not succeed`;
        later(ws.state.finishStep(runId, key, { status: 'skipped', message }));
        steps.push({ asset: key, kind: asset.kind, status: 'skipped', durationMs: 0, message });
        continue;
      }
      const t0 = performance.now();
      let outcome: StepOutcome;
      try {
        outcome = await executeAsset(
          {
            ws,
            progress,
            later,
            viewsRegistered,
            retryRejected: options.retryRejected ?? false,
            now: options.now ?? new Date(),
          },
          asset,
        );
      } catch (err) {
        outcome = { status: 'failed', message: describeError(err) };
      }
      const step: StepResult = {
        asset: key,
        kind: asset.kind,
        durationMs: Math.round(performance.now() - t0),
        ...outcome,
      };
      if (outcome.status === 'failed') broken.add(key);
      later(ws.state.finishStep(runId, key, outcome));
      steps.push(step);
      progress.log(formatStep(step));
    }
  } finally {
    await writes.flush();
    const failed = steps.some((s) => s.status === 'failed');
    await ws.state.finishRun(runId, failed ? 'failed' : 'succeeded');
  }
  progress.update({ label: 'done', done: order.length, total: order.length, unit: 'assets' });
  return {
    runId,
    status: steps.some((s) => s.status === 'failed') ? 'failed' : 'succeeded',
    durationMs: Math.round(performance.now() - started),
    steps,
  };
}

/** One line per step for logs: status, asset, time and what happened. */
export function formatStep(step: StepResult): string {
  const time =
    step.durationMs >= 1000 ? `${(step.durationMs / 1000).toFixed(1)}s` : `${step.durationMs}ms`;
  const first = step.message?.split('\n')[0];
  return `${step.status.padEnd(10)} ${step.asset} (${time})${first ? `  ${first}` : ''}`;
}
