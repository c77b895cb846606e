/**
 * The diff of a sync: one SQL query in the warehouse between the mapped, hashed source and the
 * sync's state. A source key missing from the state is `new`, one whose hash differs is
 * `changed`, a state key missing from the source is `gone` (sent in mirror mode only),
 * the rest is `same`. What a mode sends: upsert and update send new and changed keys, insert only
 * new ones, mirror new, changed and gone. A full resync treats every key in the state as changed
 * (insert mode: reads no state at all, so every source row is new and the runner looks each batch
 * up in the destination before inserting).
 *
 * The rows to send are materialized in `<sync>__pending`, read page by page in key order; the
 * rows that need nothing are only counted.
 */
import type { Engine, Row } from '../engines/types.js';
import type { SyncRecord, WriteOperation } from './destination.js';
import { mappedSelect, toSyncRecord, type CompiledMapping } from './mapping.js';
import { SYNC_SCHEMA, type SyncTables } from './state.js';
import type { SyncMode, SyncSamples } from './types.js';

export type Change = 'new' | 'changed' | 'gone';

export interface DiffOptions {
  mode: SyncMode;
  fullResync: boolean;
  /** Whether the state table exists (a dry run of a sync never run has none). */
  stateAvailable: boolean;
}

export interface DiffCounts {
  new: number;
  changed: number;
  gone: number;
  /** Source rows that need nothing. */
  same: number;
}

/** The changes a mode sends, in the order they are sent. */
export function changesSent(mode: SyncMode): Change[] {
  if (mode === 'insert') return ['new'];
  if (mode === 'mirror') return ['new', 'changed', 'gone'];
  return ['new', 'changed'];
}

/** The destination operation a change becomes in a mode. */
export function operationFor(mode: SyncMode, change: Change): WriteOperation {
  if (change === 'gone') return 'delete';
  if (mode === 'insert') return 'insert';
  if (mode === 'update') return 'update';
  return 'upsert';
}

/** The operations a mode needs from the destination. */
export function operationsOf(mode: SyncMode): WriteOperation[] {
  return [...new Set(changesSent(mode).map((c) => operationFor(mode, c)))];
}

/** Whether the diff reads the state (insert mode's full resync trusts none of it). */
function readsState(options: DiffOptions): boolean {
  return options.stateAvailable && !(options.mode === 'insert' && options.fullResync);
}

/** The SELECT of every source or state key with its change, hash and mapped columns. */
function diffQuery(
  engine: Engine,
  tables: SyncTables,
  mapping: CompiledMapping,
  sourceRelation: string,
  options: DiffOptions,
): string {
  const text = engine.dialect.typeName('string');
  const state = readsState(options)
    ? tables.state
    : `(SELECT CAST(NULL AS ${text}) AS key, CAST(NULL AS ${text}) AS hash WHERE 1 = 0)`;
  const changed = options.fullResync ? 'TRUE' : 'h.hash <> st.hash';
  const fields = mapping.columns.map((c) => `h.${c.column}`);
  return `WITH mapped AS (${mappedSelect(mapping, sourceRelation)}),
    hashed AS (SELECT m.*, ${mapping.hashExpression('m')} AS hash FROM mapped AS m)
    SELECT COALESCE(h.key, st.key) AS key,
      CASE WHEN st.key IS NULL THEN 'new' WHEN h.key IS NULL THEN 'gone'
           WHEN ${changed} THEN 'changed' ELSE 'same' END AS change,
      ${['h.hash', ...fields].join(', ')}
    FROM hashed AS h FULL OUTER JOIN ${state} AS st ON st.key = h.key`;
}

/** SQL list of quoted change names. */
const changeList = (changes: Change[]) => changes.map((c) => `'${c}'`).join(', ');

/**
 * Rebuilds `<sync>__pending` with the rows the mode sends (key, change, hash, f_0…) plus the gone
 * keys (only sent in mirror mode, kept for counting), and returns the counts of each change.
 * Unchanged rows are never materialized: every state key is in the source (same or changed) or
 * gone, so `same` is the state's size less the changed and gone keys (insert mode counts its
 * changed keys as same: it does not send them).
 */
export async function materializeDiff(
  engine: Engine,
  tables: SyncTables,
  mapping: CompiledMapping,
  sourceRelation: string,
  options: DiffOptions,
): Promise<DiffCounts> {
  const kept = [...new Set<Change>([...changesSent(options.mode), 'gone'])];
  await engine.dropRelation(SYNC_SCHEMA, tables.names.pending);
  await engine.exec(
    `CREATE TABLE ${tables.pending} AS SELECT * FROM (${diffQuery(engine, tables, mapping, sourceRelation, options)}) AS d
      WHERE ${kept.length === 3 ? `change <> 'same'` : `change IN (${changeList(kept)})`}`,
  );
  const { rows } = await engine.query(
    `SELECT change, CAST(COUNT(*) AS INTEGER) AS n FROM ${tables.pending} GROUP BY change`,
  );
  const counts: DiffCounts = { new: 0, changed: 0, gone: 0, same: 0 };
  for (const r of rows) counts[r.change as Change] = Number(r.n);
  const statePart = readsState(options)
    ? Number((await engine.query(`SELECT COUNT(*) AS n FROM ${tables.state}`)).rows[0]!.n)
    : 0;
  counts.same = Math.max(0, statePart - counts.changed - counts.gone);
  if (options.mode !== 'mirror') counts.gone = 0;
  return counts;
}

/** One page of pending rows of a change, in key order, after `afterKey`. */
export async function readPending(
  engine: Engine,
  tables: SyncTables,
  change: Change,
  afterKey: string | undefined,
  limit: number,
): Promise<Row[]> {
  const params: unknown[] = [change];
  let filter = '';
  if (afterKey !== undefined) {
    params.push(afterKey);
    filter = ' AND key > $2';
  }
  const { rows } = await engine.query(
    `SELECT * FROM ${tables.pending} WHERE change = $1${filter} ORDER BY key LIMIT ${Math.floor(limit)}`,
    params,
  );
  return rows;
}

/** A pending row as the record sent (deletes carry only the key). */
export function pendingRecord(mapping: CompiledMapping, row: Row): SyncRecord {
  return row.change === 'gone' ? { key: String(row.key), fields: {} } : toSyncRecord(mapping, row);
}

export interface DryRunDiff {
  counts: DiffCounts;
  samples: SyncSamples;
}

/**
 * The diff without writing anything: counts of each change and up to `sampleSize` records of
 * each operation, in key order, in one query.
 */
export async function dryRunDiff(
  engine: Engine,
  tables: SyncTables,
  mapping: CompiledMapping,
  sourceRelation: string,
  options: DiffOptions,
  sampleSize = 5,
): Promise<DryRunDiff> {
  const sent = changesSent(options.mode);
  const { rows } = await engine.query(
    `SELECT * FROM (
       SELECT d.*, COUNT(*) OVER (PARTITION BY change) AS n,
              ROW_NUMBER() OVER (PARTITION BY change ORDER BY key) AS rn
         FROM (${diffQuery(engine, tables, mapping, sourceRelation, options)}) AS d) AS ranked
      WHERE rn <= ${Math.floor(sampleSize)} ORDER BY change, key`,
  );
  const counts: DiffCounts = { new: 0, changed: 0, gone: 0, same: 0 };
  const samples: SyncSamples = { insert: [], update: [], delete: [] };
  for (const r of rows) {
    const change = String(r.change) as Change | 'same';
    const sends = change !== 'same' && sent.includes(change);
    if (!sends) {
      if (change !== 'gone') counts.same += Number(r.rn) === 1 ? Number(r.n) : 0;
      continue;
    }
    if (Number(r.rn) === 1) counts[change] = Number(r.n);
    const bucket = sampleBucket(options.mode, change);
    samples[bucket].push(pendingRecord(mapping, r));
  }
  return { counts, samples };
}

/** Which sample list a change belongs to: upsert's new keys are inserts, changed ones updates. */
function sampleBucket(mode: SyncMode, change: Change): keyof SyncSamples {
  if (change === 'gone') return 'delete';
  if (change === 'new' && mode !== 'update') return 'insert';
  return 'update';
}
