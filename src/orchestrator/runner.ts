/**
 * Runs a selection of the asset graph in topological order. A failed asset marks everything
 * downstream of it as skipped while independent branches go on; every run and step is written
 * to the state store as it happens, so history survives a crash mid-run.
 */
import { describeError, newId, silentProgress, type ProgressReporter } from '../core/index.js';
import type { StepStatus } from '../state/index.js';
import { DbtSession } from '../models/index.js';
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
  /** How many assets may run at once (default DEFAULT_CONCURRENCY). */
  concurrency?: number;
  /** Rebuild incremental models and snapshots' targets from scratch (dbt's --full-refresh). */
  fullRefresh?: boolean;
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

/** How many assets run at once by default: the landing of one file overlaps SQL of another. */
export const DEFAULT_CONCURRENCY = 2;

/**
 * Runs the selected assets of an open workspace and records the run. Up to `concurrency`
 * assets run at once, each on its own warehouse session, picked in topological order as their
 * upstream assets finish.
 */
export async function runPipeline(ws: Workspace, options: RunOptions = {}): Promise<RunResult> {
  const progress = options.progress ?? silentProgress;
  const selected = selectAssets(ws.graph, options.select ?? [], options.exclude ?? []);
  const order = ws.graph.order.filter((k) => selected.has(k));
  const position = new Map(order.map((k, i) => [k, i]));
  const limit = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY));
  const runId = newId('run_');
  const started = performance.now();
  await ws.state.startRun(runId, options.command ?? 'run');
  const steps: StepResult[] = [];
  const finished = new Set<string>();
  const broken = new Set<string>(); // failed or skipped in this run
  const writes = new WriteBehind();
  const later = (write: Promise<unknown>) => writes.add(write);
  const viewsRegistered = new Map<string, Promise<void>>();
  const dbt = new DbtSession(ws.models, {
    fullRefresh: Boolean(options.fullRefresh),
    which: 'run',
    now: options.now ?? new Date(),
    log: (m) => progress.log(m),
  });
  const running = new Map<string, Promise<void>>();
  const waiting = [...order];

  const execute = async (key: string): Promise<void> => {
    const asset = ws.graph.assets.get(key)!;
    later(ws.state.startStep(runId, key, asset.kind));
    const blockedBy = asset.deps.filter((d) => broken.has(d));
    let step: StepResult;
    if (blockedBy.length) {
      const message = `skipped: upstream ${blockedBy.join(', ')} did not succeed`;
      step = { asset: key, kind: asset.kind, status: 'skipped', durationMs: 0, message };
      later(ws.state.finishStep(runId, key, { status: 'skipped', message }));
    } else {
      const t0 = performance.now();
      let outcome: StepOutcome;
      const engine = await ws.warehouse.fork();
      try {
        outcome = await executeAsset(
          {
            ws,
            engine,
            progress,
            later,
            viewsRegistered,
            dbt,
            retryRejected: options.retryRejected ?? false,
            now: options.now ?? new Date(),
          },
          asset,
        );
      } catch (err) {
        outcome = { status: 'failed', message: describeError(err) };
      } finally {
        await engine.close();
      }
      step = {
        asset: key,
        kind: asset.kind,
        durationMs: Math.round(performance.now() - t0),
        ...outcome,
      };
      later(ws.state.finishStep(runId, key, outcome));
      progress.log(formatStep(step));
    }
    if (step.status === 'failed' || step.status === 'skipped') broken.add(key);
    steps.push(step);
    finished.add(key);
  };

  try {
    while (waiting.length || running.size) {
      // Start every asset whose selected upstream has finished, in topological order, up to the limit.
      for (let i = 0; i < waiting.length && running.size < limit;) {
        const key = waiting[i]!;
        const ready = ws.graph.assets
          .get(key)!
          .deps.every((d) => !position.has(d) || finished.has(d));
        if (!ready) {
          i++;
          continue;
        }
        waiting.splice(i, 1);
        running.set(
          key,
          execute(key).finally(() => running.delete(key)),
        );
      }
      progress.update({
        label: [...running.keys()].join(', '),
        done: finished.size,
        total: order.length,
        unit: 'assets',
      });
      await Promise.race(running.values());
    }
  } finally {
    await Promise.allSettled(running.values());
    await writes.flush();
    const failed = steps.some((s) => s.status === 'failed');
    await ws.state.finishRun(runId, failed ? 'failed' : 'succeeded');
  }
  progress.update({ label: 'done', done: order.length, total: order.length, unit: 'assets' });
  steps.sort((x, y) => position.get(x.asset)! - position.get(y.asset)!);
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
