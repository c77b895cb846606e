/**
 * Running the asset `sync:<name>` (reverse ETL): resolve the source in the warehouse, open the
 * destination, check the mapping against the model's columns and the destination's schema (a
 * problem names the sync file's line, and nothing is sent), run the sync module's runSync, record
 * the run's counts in the sync history and alert when too much was rejected.
 */
import { TributaryError, describeError } from '../core/index.js';
import { DEFAULT_FAILED_SHARE, ProblemsError, type SyncDefinition } from '../project/index.js';
import type { DeadLetter } from '../notify/index.js';
import {
  openDestination,
  resendSyncRecord,
  runSync,
  syncRecordPayload,
  type DestinationField,
  type SyncDestination,
  type SyncOutcome,
} from '../sync/index.js';
import type { ProgressReporter } from '../core/index.js';
import type { Engine } from '../engines/index.js';
import type { Asset } from './graph.js';
import { checkSyncMapping, resolveSyncSource } from './sync-assets.js';
import { SyncHistory } from './sync-history.js';
import type { Workspace } from './workspace.js';

/** What a sync step uses of the executor's context (executors.ts's ExecContext has it all). */
export interface SyncStepContext {
  ws: Workspace;
  /** This step's own warehouse session. */
  engine: Engine;
  progress: ProgressReporter;
  runId: string;
  signal?: AbortSignal;
}

/** A sync step's result, as the runner records it (a StepOutcome). */
export interface SyncStepOutcome {
  status: 'succeeded' | 'up_to_date' | 'skipped';
  rowsIn: number;
  rowsOut: number;
  rowsRejected: number;
  message: string;
}

export interface SyncStepOptions {
  dryRun?: boolean;
  fullResync?: boolean;
  /** Told the outcome (the CLI prints a dry run's samples). */
  onOutcome?: (sync: SyncDefinition, outcome: SyncOutcome) => void;
}

export function findSyncDefinition(ws: Workspace, name: string): SyncDefinition {
  const sync = ws.syncs.find((s) => s.name === name);
  if (!sync) throw new TributaryError(`no sync named ${name}`, { code: 'NOT_FOUND' });
  return sync;
}

/**
 * Why a sync does not run, when it is turned off (`enabled: false` in its file, or on its
 * destination in tributary.yml), naming where to turn it on; undefined when it runs.
 */
export function syncDisabledReason(ws: Workspace, sync: SyncDefinition): string | undefined {
  if (sync.enabled === false)
    return `sync ${sync.name} is disabled (${sync.file}${sync.lines?.enabled ? ` line ${sync.lines.enabled}` : ''}: enabled: false)`;
  const destination = ws.project.config.destinations[sync.destination];
  if (destination && !destination.enabled)
    return `destination ${sync.destination} is disabled (tributary.yml destinations.${sync.destination}.enabled is false)`;
  return undefined;
}

/** Opens the sync's destination; an unreachable one fails this step only, with what to do. */
export async function openFor(ws: Workspace, sync: SyncDefinition): Promise<SyncDestination> {
  const config = ws.project.config.destinations[sync.destination]!;
  return openDestination(sync.destination, config, ws.project);
}

/** The destination object's fields; a destination that cannot be reached is named with its URL. */
export async function describeObject(
  sync: SyncDefinition,
  destination: SyncDestination,
  ws: Workspace,
): Promise<DestinationField[]> {
  try {
    return await destination.describe(sync.object);
  } catch (err) {
    if (err instanceof TributaryError && err.code !== 'UNAVAILABLE') throw err;
    const config = ws.project.config.destinations[sync.destination]!;
    const url =
      'base_url' in config
        ? config.base_url
        : 'url' in config && typeof config.url === 'string'
          ? config.url
          : undefined;
    throw new TributaryError(
      `sync ${sync.name}: destination ${sync.destination}${url ? ` at ${url}` : ''} cannot be reached: ${describeError(err).split('\n')[0]}`,
      {
        code: 'UNAVAILABLE',
        transient: true,
        location: { file: 'tributary.yml', path: `destinations.${sync.destination}` },
        hint: 'start it (the template’s CRM stand-in: npm run crm-api -- <project>) or fix its base_url; the rest of the run is unaffected',
        cause: err,
      },
    );
  }
}

/** Runs the asset `sync:<name>`: check, send what changed, record, alert. */
export async function runSyncStep(
  ctx: SyncStepContext,
  asset: Asset,
  options: SyncStepOptions = {},
): Promise<SyncStepOutcome> {
  const { ws } = ctx;
  const sync = findSyncDefinition(ws, asset.name);
  const disabled = syncDisabledReason(ws, sync);
  // Nothing is opened or read: a disabled destination may have no token and no server at all.
  if (disabled)
    return {
      status: 'skipped',
      rowsIn: 0,
      rowsOut: 0,
      rowsRejected: 0,
      message: `skipped: ${disabled}`,
    };
  const startedAt = new Date().toISOString();
  const source = await resolveSyncSource(ctx.engine, ws.models, sync);
  const destination = await openFor(ws, sync);
  const onWait = (ms: number, reason: string) =>
    ctx.progress.log(`waiting ${Math.ceil(ms / 1000)}s: ${reason}`);
  destination.setWaitListener?.(onWait);
  try {
    const fields = await describeObject(sync, destination, ws);
    const problems = checkSyncMapping(sync, source, fields, destination.capabilities);
    if (problems.length) throw new ProblemsError(problems);
    const dryRun = Boolean(options.dryRun);
    const fullResync = Boolean(options.fullResync);
    const outcome = await runSync({
      definition: sync,
      warehouse: ctx.engine,
      state: ws.state,
      destination,
      sourceRelation: source.sql,
      runId: ctx.runId,
      dryRun,
      fullResync,
      deadLetters: ws.dlq,
      progress: ctx.progress,
      onWait,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    options.onOutcome?.(sync, outcome);
    const history = await SyncHistory.open(ws.state.engine);
    await history.record({
      sync: sync.name,
      runId: ctx.runId,
      startedAt,
      finishedAt: new Date().toISOString(),
      status: 'succeeded',
      dryRun,
      fullResync,
      inserted: outcome.inserted,
      updated: outcome.updated,
      deleted: outcome.deleted,
      rejected: outcome.rejected,
      unchanged: outcome.unchanged,
      failedShare: outcome.failedShare,
      message: outcome.message,
    });
    if (!dryRun) await alertOnFailedShare(ws, ctx.runId, sync, outcome);
    const sent = outcome.inserted + outcome.updated + outcome.deleted;
    return {
      status: sent + outcome.rejected === 0 ? 'up_to_date' : 'succeeded',
      rowsIn: sent + outcome.rejected + outcome.unchanged,
      rowsOut: sent,
      rowsRejected: outcome.rejected,
      message: dryRun ? `dry run: ${outcome.message}` : outcome.message,
    };
  } catch (err) {
    await recordFailure(ws, ctx.runId, sync, startedAt, options, err);
    throw err;
  } finally {
    await destination.close();
  }
}

/** A failed run of a sync is history too (the UI shows it with its error). */
async function recordFailure(
  ws: Workspace,
  runId: string,
  sync: SyncDefinition,
  startedAt: string,
  options: SyncStepOptions,
  err: unknown,
): Promise<void> {
  const history = await SyncHistory.open(ws.state.engine);
  await history.record({
    sync: sync.name,
    runId,
    startedAt,
    finishedAt: new Date().toISOString(),
    status: 'failed',
    dryRun: Boolean(options.dryRun),
    fullResync: Boolean(options.fullResync),
    inserted: 0,
    updated: 0,
    deleted: 0,
    rejected: 0,
    unchanged: 0,
    failedShare: 0,
    message: describeError(err),
  });
}

/** Tells the alert channels when the destination rejected more than the sync's threshold. */
async function alertOnFailedShare(
  ws: Workspace,
  runId: string,
  sync: SyncDefinition,
  outcome: SyncOutcome,
): Promise<void> {
  const threshold = sync.alert.failedShare ?? DEFAULT_FAILED_SHARE;
  if (!ws.alerts || outcome.rejected === 0 || outcome.failedShare <= threshold) return;
  await ws.alerts.notify({
    type: 'sync_failures',
    runId,
    sync: sync.name,
    destination: sync.destination,
    sent: outcome.inserted + outcome.updated + outcome.deleted + outcome.rejected,
    rejected: outcome.rejected,
    failedShare: outcome.failedShare,
    threshold,
    at: new Date().toISOString(),
  });
}

/**
 * Replays one sync dead letter: that record alone is sent again (not the whole sync), its key's
 * state recorded on success; refused again, the error carries the destination's new message (the
 * dead-letter store keeps the letter pending with it). A sync that is now off is refused.
 */
export async function replaySyncDeadLetter(ws: Workspace, entry: DeadLetter): Promise<void> {
  const payload = syncRecordPayload(entry.payload, entry.id);
  const sync = ws.syncs.find((s) => s.name === payload.sync);
  if (!sync)
    throw new TributaryError(
      `dead letter ${entry.id}: the project has no sync ${payload.sync} now`,
      {
        code: 'NOT_FOUND',
        hint: 'purge the letter (tributary dlq purge)',
      },
    );
  const disabled = syncDisabledReason(ws, sync);
  if (disabled)
    throw new TributaryError(`dead letter ${entry.id} was not replayed: ${disabled}`, {
      code: 'CONFIG',
      hint: 'turn the sync and its destination on, then replay it',
    });
  const destination = await openFor(ws, sync);
  try {
    await resendSyncRecord({ definition: sync, warehouse: ws.warehouse, destination, payload });
  } finally {
    await destination.close();
  }
}
