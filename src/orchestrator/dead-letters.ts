/**
 * Dead letters of the orchestrator (the seeds' SQS dead-letter queue behind the S3 → Lambda
 * trigger): a triggered run that failed, or could not start, is kept as an `event` entry with what
 * it was asked to run; replaying it runs that selection again through the normal runner. Alert
 * notifications that could not be delivered are `notification` entries, replayed by the
 * Notifier. The store's claim makes each replay apply once.
 */
import { TributaryError, describeError } from '../core/index.js';
import type { DeadLetter } from '../notify/index.js';
import type { SourceTable } from '../project/index.js';
import { RawBatchWriter, commitRawBatches } from '../sources/index.js';
import { runPipeline, type RunResult } from './runner.js';
import type { RunRequest } from './scheduler.js';
import type { Workspace } from './workspace.js';

/** What an `event` dead letter holds: the run a trigger asked for. */
export interface RunEventPayload {
  trigger: string;
  select: string[];
  exclude: string[];
  command?: string;
  /** The run that failed, when one started. */
  runId?: string;
}

/** Keeps a triggered run that failed (or never started) for replay. */
export async function deadLetterRun(
  ws: Workspace,
  req: RunRequest,
  outcome: { result?: RunResult; error?: unknown },
): Promise<DeadLetter> {
  const payload: RunEventPayload = {
    trigger: req.trigger,
    select: req.select ?? [],
    exclude: req.exclude ?? [],
    ...(req.command ? { command: req.command } : {}),
    ...(outcome.result?.runId ? { runId: outcome.result.runId } : {}),
  };
  const error = outcome.result
    ? `run ${outcome.result.runId} ${outcome.result.status}: ${outcome.result.steps
        .filter((s) => s.status === 'failed')
        .map((s) => `${s.asset}: ${(s.message ?? 'failed').split('\n')[0]}`)
        .join('; ')}`
    : `the run could not start: ${describeError(outcome.error)}`;
  return ws.dlq.add({ kind: 'event', source: req.trigger, payload, error, attempts: 1 });
}

/** What a `record` dead letter holds: rows of one batch refused for a missing parent. */
export interface ForeignKeyRowsPayload {
  /** The source table (`source.table`). */
  table: string;
  /** Quarantine file holding the rows (reason foreign_key). */
  quarantine: string;
  batch: string;
  rows: number;
}

/** Keeps the rows of a batch refused for a foreign key, to be tried again once parents exist. */
export async function deadLetterForeignKeyRows(
  ws: Workspace,
  table: SourceTable,
  quarantine: string,
  batch: string,
  rows: number,
): Promise<DeadLetter> {
  const columns = table.contract.columns
    .filter((c) => c.references)
    .map((c) => `${c.name} → ${c.references}`);
  const payload: ForeignKeyRowsPayload = { table: table.id, quarantine, batch, rows };
  return ws.dlq.add({
    kind: 'record',
    source: `processed:${table.table}`,
    payload,
    error: `${rows} row(s) reference a parent not loaded yet (${columns.join(', ')})`,
    attempts: 1,
    dedupeKey: `foreign_key:${quarantine}`,
  });
}

/**
 * Sends rows a foreign key refused through the normal path again: they are written as a new raw
 * batch of their table (CSV, in the contract's field names, with the text they arrived with) and
 * the table and what is downstream run. The batch is addressed by its content, so the same rows
 * land once; rows whose parent is still missing are quarantined again, as a new dead letter.
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
  if (table.kind === 'rest' || (table.format !== undefined && table.format !== 'csv')) {
    throw new TributaryError(
      `rows of ${table.id} cannot be replayed: only CSV tables (files and databases) are, and it reads ${table.format ?? 'JSON'}`,
      { code: 'CONFIG', hint: 'fix the parents and drop the records again as a new file' },
    );
  }
  if (table.disposition === 'replace') {
    throw new TributaryError(
      `rows of ${table.id} cannot be replayed: its disposition is replace, and a batch of replayed rows would replace the table`,
      {
        code: 'CONFIG',
        hint: 'the next full extract brings the rows again once their parents exist',
      },
    );
  }
  const q = ws.warehouse.dialect.quoteIdentifier;
  const s = ws.warehouse.dialect.quoteString;
  const columns = table.contract.columns;
  const { rows } = await ws.warehouse.query(
    `SELECT ${columns.map((c) => `CAST(${q(c.name)} AS VARCHAR) AS ${q(c.name)}`).join(', ')}
       FROM read_parquet(${s(ws.store.readableLocation(p.quarantine))})
      WHERE _reason = 'foreign_key' ORDER BY _record`,
  );
  if (!rows.length) return;
  const { delimiter, quote } = table.csv;
  const field = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    const text = String(v);
    return text.includes(delimiter) || text.includes(quote) || /[\r\n]/.test(text) || text === ''
      ? `${quote}${text.split(quote).join(quote + quote)}${quote}`
      : text;
  };
  const writer = await RawBatchWriter.open({
    store: ws.store,
    tmpDir: ws.project.paths.tmp,
    source: table.source,
    table: table.table,
    ext: '.csv',
    now: new Date(),
    // Processing tells a batch's format by its name's extension.
    originalName: `${table.table}.replay-${entry.id}.csv`,
  });
  try {
    await writer.write(`${columns.map((c) => field(c.from ?? c.name)).join(delimiter)}\n`);
    for (const r of rows)
      await writer.write(`${columns.map((c) => field(r[c.name])).join(delimiter)}\n`);
    writer.countRecords(rows.length);
  } catch (err) {
    await writer.abort();
    throw err;
  }
  const batch = await writer.finish();
  if (batch) await commitRawBatches(ws.store, table.source, table.table, [batch]);
  const result = await runPipeline(ws, {
    select: [`processed:${table.table}+`],
    command: `replay ${entry.id} (${rows.length} rows of ${table.id})`,
    trigger: 'replay',
  });
  const step = result.steps.find((x) => x.asset === `processed:${table.table}`);
  if (step?.status === 'failed') {
    throw new TributaryError(`processing the replayed rows failed: ${step.message ?? ''}`, {
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
    record: (entry) => replayForeignKeyRows(ws, entry),
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
