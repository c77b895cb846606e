/**
 * Syncs as the CLI, the API and the UI see them: run one sync through the runner (so run history,
 * the project lock and retries apply, and a dry run is a recorded run that sent nothing), list the
 * project's syncs with their last run, and read one sync's history.
 */
import { findSync, type SyncDefinition } from '../project/index.js';
import type { SyncOutcome } from '../sync/index.js';
import { executeAsset } from './executors.js';
import { runPipeline, type RunOptions, type RunResult } from './runner.js';
import { SyncHistory, type SyncRunRecord } from './sync-history.js';
import { TributaryError } from '../core/index.js';
import { runSyncStep, syncDisabledReason } from './syncs.js';
import type { Workspace } from './workspace.js';
import type { ProgressReporter } from '../core/index.js';

export interface SyncCommandOptions {
  dryRun?: boolean;
  fullResync?: boolean;
  progress?: ProgressReporter;
  /** What started it: `cli` (default), `api`. */
  trigger?: string;
}

export interface SyncCommandResult {
  run: RunResult;
  /** What the sync did (or, dry run, would do); absent when the step failed before sending. */
  outcome?: SyncOutcome;
}

/** One sync's run, prepared: the run options to queue or run, and what its step reported. */
export interface SyncRunPlan {
  sync: SyncDefinition;
  options: RunOptions & { select: string[]; command: string; trigger: string };
  /** What the sync did (or, dry run, would do), once its step has run. */
  outcome(): SyncOutcome | undefined;
}

/**
 * The run of one sync (only it: its model is read as built), for the CLI to run here or the API to
 * queue on the server's executor. A sync that is turned off is refused with where to turn it on.
 */
export function planSyncRun(
  ws: Workspace,
  name: string,
  options: SyncCommandOptions = {},
): SyncRunPlan {
  const sync = findSync(ws.syncs, name);
  const disabled = syncDisabledReason(ws, sync);
  if (disabled)
    throw new TributaryError(`sync ${sync.name} was not run: ${disabled}`, {
      code: 'CONFIG',
      hint:
        sync.enabled === false
          ? `set enabled: true in ${sync.file} (or remove the line)`
          : `once the destination is configured (base_url, token), set destinations.${sync.destination}.enabled: true in tributary.yml, or the environment variable its enabled: reads`,
    });
  let outcome: SyncOutcome | undefined;
  const flags = [options.dryRun && '--dry-run', options.fullResync && '--full-resync'].filter(
    Boolean,
  );
  return {
    sync,
    outcome: () => outcome,
    options: {
      select: [`sync:${sync.name}`],
      command: ['sync', sync.name, ...flags].join(' '),
      trigger: options.trigger ?? 'cli',
      ...(options.progress ? { progress: options.progress } : {}),
      executor: (ctx, asset) =>
        asset.kind === 'sync'
          ? runSyncStep(ctx, asset, {
              dryRun: Boolean(options.dryRun),
              fullResync: Boolean(options.fullResync),
              onOutcome: (_s, o) => {
                outcome = o;
              },
            })
          : executeAsset(ctx, asset),
    },
  };
}

/** Runs one sync (only it: its model is read as built) as a run of its own, here. */
export async function runOneSync(
  ws: Workspace,
  name: string,
  options: SyncCommandOptions = {},
): Promise<SyncCommandResult> {
  const plan = planSyncRun(ws, name, options);
  const run = await runPipeline(ws, plan.options);
  const outcome = plan.outcome();
  return { run, ...(outcome ? { outcome } : {}) };
}

/** A sync as listed: its definition's gist and its last run that sent. */
export interface SyncSummary {
  name: string;
  file: string;
  description: string | null;
  /** `ref('x')` or `sql`. */
  source: string;
  destination: string;
  /** The destination's type (hubspot, salesforce, webhook, postgres). */
  destinationType: string;
  object: string;
  mode: SyncDefinition['mode'];
  lastRun: SyncRunRecord | null;
  /** Records of this sync waiting in the dead-letter store. */
  pendingDeadLetters: number;
  /** Why the sync is skipped (it or its destination is turned off); null when it runs. */
  disabled: string | null;
}

/** Every sync of the project with its last run and its waiting dead letters. */
export async function listSyncs(ws: Workspace): Promise<SyncSummary[]> {
  const history = await SyncHistory.open(ws.state.engine);
  const latest = await history.latest();
  const pending = await ws.dlq.list({ kind: 'record', status: 'pending', limit: 100_000 });
  return ws.syncs.map((s) => ({
    name: s.name,
    file: s.file,
    description: s.description ?? null,
    source: s.source.ref !== undefined ? `ref('${s.source.ref}')` : 'sql',
    destination: s.destination,
    destinationType: ws.project.config.destinations[s.destination]?.type ?? 'unknown',
    object: s.object,
    mode: s.mode,
    lastRun: latest.get(s.name) ?? null,
    pendingDeadLetters: pending.filter((d) => d.source === `sync:${s.name}`).length,
    disabled: syncDisabledReason(ws, s) ?? null,
  }));
}

/** One sync's runs, newest first (dry runs included, marked). */
export async function syncRunHistory(
  ws: Workspace,
  name: string,
  limit = 50,
): Promise<SyncRunRecord[]> {
  const sync = findSync(ws.syncs, name);
  return (await SyncHistory.open(ws.state.engine)).runs(sync.name, limit);
}
