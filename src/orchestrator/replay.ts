/**
 * Replaying the dead-letter store's entries through the normal paths: an `event` entry (a
 * triggered run that failed or never started) runs its selection again through the runner, a
 * `notification` goes back to the Notifier, a `record` asks processing to check its waiting rows
 * again, or, from a sync, sends that one refused record again. The store's claim makes each
 * replay apply once. Writing entries is dead-letters.ts.
 */
import { TributaryError } from '../core/index.js';
import type { DeadLetter } from '../notify/index.js';
import { lakeKeys } from '../lake/index.js';
import type { RunEventPayload } from './dead-letters.js';
import { runPipeline } from './runner.js';
import { replaySyncDeadLetter } from './syncs.js';
import type { Workspace } from './workspace.js';

/** What a `record` dead letter (written by earlier versions) holds: rows refused for a parent. */
export interface ForeignKeyRowsPayload {
  /** The source table (`source.table`). */
  table: string;
  /** Quarantine file holding the rows (reason foreign_key). */
  quarantine: string;
  batch: string;
  rows: number;
}

/**
 * `record` entries were kept by earlier versions for rows refused for a missing parent. Such rows
 * are now checked again by processing itself whenever a parent changes, so replaying an entry
 * asks for that check now: the table's processing and what is downstream run, loading the rows
 * whose parent exists (once: they leave the quarantine as they load).
 */
async function replayForeignKeyRows(ws: Workspace, entry: DeadLetter): Promise<void> {
  const p = entry.payload as ForeignKeyRowsPayload;
  const table = ws.project.tables.find((t) => t.id === p.table);
  if (!table) {
    throw new TributaryError(`table ${p.table} is no longer in tributary.yml`, {
      code: 'CONFIG',
      hint: 'purge the entry: `tributary dlq purge <id>`',
    });
  }
  await ws.store.delete(lakeKeys.processedForeignKeyCheck(table.table));
  const result = await runPipeline(ws, {
    select: [`processed:${table.table}+`],
    command: `replay ${entry.id} (rows of ${table.id} waiting for a parent)`,
    trigger: 'replay',
  });
  const step = result.steps.find((x) => x.asset === `processed:${table.table}`);
  if (step?.status === 'failed') {
    throw new TributaryError(`processing ${table.id} failed: ${step.message ?? ''}`, {
      code: 'INPUT',
      hint: `\`tributary logs ${result.runId}\` shows why`,
    });
  }
}

/** Replays one dead letter through the normal path; throws (leaving it pending) when that fails. */
export async function replayDeadLetter(ws: Workspace, id: string): Promise<DeadLetter> {
  return ws.dlq.replay(id, {
    notification: async (entry) => {
      if (!ws.alerts) {
        throw new TributaryError('tributary.yml has no alerts: to send this notification through', {
          code: 'CONFIG',
          hint: 'add the channel back under alerts: channels:, or purge the entry',
        });
      }
      await ws.alerts.redeliver(entry);
    },
    record: (entry) =>
      entry.source.startsWith('sync:')
        ? replaySyncDeadLetter(ws, entry)
        : replayForeignKeyRows(ws, entry),
    event: async (entry) => {
      const p = entry.payload as RunEventPayload;
      const result = await runPipeline(ws, {
        select: p.select,
        exclude: p.exclude,
        command: `replay ${entry.id}${p.command ? ` (${p.command})` : ''}`,
        trigger: 'replay',
      });
      if (result.status !== 'succeeded') {
        throw new TributaryError(`the replayed run ${result.runId} ${result.status}`, {
          code: 'INPUT',
          hint: `\`tributary runs ${result.runId}\` shows why`,
        });
      }
    },
  });
}
