/**
 * Table manifests: the commit point of every lake write. Data files are written first under
 * names no reader looks at; a table's contents are exactly the files its manifest lists, and a
 * commit is one atomic swap of the manifest. A crash before the swap leaves the old table intact.
 */
import { createHash } from 'node:crypto';
import type { ObjectStore } from './store.js';

export interface DataFile {
  key: string;
  rows: number;
  bytes: number;
  /** Hive-style partition values, e.g. `{ order_ts_month: '2025-01' }`. */
  partition?: Record<string, string>;
  /** The batch (raw file hash) that produced this file. */
  batch: string;
  /**
   * `schemaHash` of the columns the file was written with (absent in files written before it was
   * kept): a file whose schema is not the table's current one is read aligned by name.
   */
  schema?: string;
}

export interface QuarantineFile extends DataFile {
  /** Rejected rows by reason code. */
  reasons: Record<string, number>;
}

export interface BatchRecord {
  /** Raw-zone key of the batch's original bytes. */
  raw: string;
  rowsIn: number;
  rowsOut: number;
  rowsRejected: number;
  committedAt: string;
}

export interface RejectedBatch {
  raw: string;
  error: string;
  rejectedAt: string;
}

export interface ColumnSchema {
  name: string;
  type: string;
  /** The field in the raw data, when it differs from the name (columns added by schema evolution). */
  from?: string;
}

/** A processed table: its typed Parquet files, the quarantine files beside them, and what was read. */
export interface TableManifest {
  format: 1;
  table: string;
  version: number;
  updatedAt: string;
  columns: ColumnSchema[];
  partitionBy?: string;
  files: DataFile[];
  quarantine: QuarantineFile[];
  batches: Record<string, BatchRecord>;
  /** Whole files refused (not UTF-8, wrong header, truncated…): kept so a re-run does not retry them blindly. */
  rejected: Record<string, RejectedBatch>;
  /**
   * The columns of the latest raw batch as found in the file (the raw zone's catalog entry),
   * committed with the batch so a run after a crash can still write the entry it missed.
   */
  rawColumns?: { name: string; type: string }[];
}

/** A raw table: the original files landed, addressed by content hash. */
export interface RawManifest {
  format: 1;
  source: string;
  table: string;
  version: number;
  updatedAt: string;
  batches: RawBatch[];
  /**
   * Incremental state of a connector (API cursor, database high-water mark), committed in the same
   * swap as the batches it covers, so it never runs ahead of landed data.
   */
  cursor?: Record<string, unknown>;
}

export interface RawBatch {
  /**
   * The batch id: the SHA-256 of the bytes, or, for a stream batch, of its sequence ranges (which
   * determine its bytes; src/stream/flush/flusher.ts). The same batch always has the same id.
   */
  id: string;
  key: string;
  originalName: string;
  bytes: number;
  ingestedAt: string;
}

/**
 * The column every processed row carries: when its batch was committed to the processed zone (a
 * row loaded from quarantine later carries that later time). Incremental models filter on it to
 * pick up every new batch whatever its event dates.
 */
export const LOADED_AT = '_loaded_at';

/** A short fingerprint of a schema (column names and types, in order). */
export function schemaHash(columns: readonly ColumnSchema[]): string {
  return createHash('sha256')
    .update(JSON.stringify(columns.map((c) => [c.name, c.type])))
    .digest('hex')
    .slice(0, 16);
}

/**
 * The `read_parquet(...)` relation over a table's data files (there must be at least one). When
 * every file has the table's current schema, the plain read; otherwise (a column was added or
 * widened since some were written) the files are aligned by name, missing columns reading NULL.
 */
export function parquetScan(
  store: ObjectStore,
  files: readonly DataFile[],
  columns: readonly ColumnSchema[],
  quoteString: (s: string) => string,
): string {
  const current = schemaHash(columns);
  const aligned = files.some((f) => f.schema !== current);
  const list = files.map((f) => quoteString(store.readableLocation(f.key))).join(', ');
  return `read_parquet([${list}], hive_partitioning = false${aligned ? ', union_by_name = true' : ''})`;
}

/** Reads a JSON manifest, or undefined when the table has never been committed. */
export async function readManifest<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  const bytes = await store.get(key);
  if (!bytes) return undefined;
  return JSON.parse(bytes.toString('utf8')) as T;
}

/** Commits a manifest: one atomic put that makes every file it lists visible at once. */
export async function commitManifest<T extends { version: number; updatedAt: string }>(
  store: ObjectStore,
  key: string,
  manifest: T,
): Promise<T> {
  const next = { ...manifest, version: manifest.version + 1, updatedAt: new Date().toISOString() };
  await store.put(key, JSON.stringify(next, null, 1));
  return next;
}
