/**
 * Exactly once from the log into the raw zone. A stream table's raw manifest holds, as its
 * cursor, the last sequence number flushed from each shard. One flush reads every shard after
 * its cursor, cuts a micro-batch (the table's `buffer`: at most `max_bytes`, cut once the oldest
 * record waiting is `max_age` old, or now when forced), writes it as ONE raw NDJSON batch and
 * commits the batch and the advanced cursor in one manifest swap (commitRawBatches). A crash
 * before the swap leaves the cursor where it was: the next flush reads the same records again
 * and cuts the same batch (lines depend only on their records, so the bytes and the content
 * address are the same); a crash after it leaves a committed batch the next flush reads past.
 * Nothing is duplicated or dropped. One flusher per table at a time: the caller serialises
 * (StreamFlusher), and the process owning the log (its lock, the project lock) is the only one.
 */
import { TributaryError, faultPoint } from '../../core/index.js';
import type { ObjectStore, RawBatch } from '../../lake/index.js';
import type { StreamSourceTable } from '../../project/index.js';
import { RawBatchWriter, commitRawBatches, readRawManifest } from '../../sources/index.js';
import type { LogRecord, ReadPosition, StreamLog } from '../log.js';
import { lineOf } from './lines.js';

/** The raw manifest's cursor for a stream table. */
export interface StreamCursor {
  /** Last sequence number flushed, per shard id. */
  shards: Record<string, string>;
  /** Ranges retention removed before they were flushed, as found (kept so the loss stays on record). */
  gaps?: RetentionGap[];
}

/** Records retention removed before the flusher read them: lost, and said so. */
export interface RetentionGap {
  table: string;
  stream: string;
  shardId: string;
  /** The last sequence number flushed before the gap. */
  after: string;
  /** The oldest sequence number still in the log: everything between was removed. */
  before: string;
  detectedAt: string;
}

export interface FlushContext {
  store: ObjectStore;
  /** Local folder for the batch while it is written (the project's .tributary/tmp). */
  tmpDir: string;
  log: StreamLog;
  /** Milliseconds since the epoch (tests move theirs). */
  now?: () => number;
}

export interface FlushResult {
  /** The batch committed by this flush; undefined when nothing was cut. */
  batch?: RawBatch;
  records: number;
  /** Records landed with reject marks (not JSON, not an object), for quarantine. */
  rejected: number;
  /** Records still waiting after this flush (only counted up to the table's max_bytes a shard). */
  waiting: { records: number; bytes: number; oldestArrivalMs?: number };
  /** Retention gaps found by this flush. */
  gaps: RetentionGap[];
  /** Set when the log has no stream of the table's name (yet). */
  missingStream?: boolean;
}

/** A record read and turned into its line, before the batch is cut. */
interface Pending {
  record: LogRecord;
  text: string;
  bytes: number;
  rejected: boolean;
}

/** How many records one log read returns at most. */
const READ_RECORDS = 10_000;

/**
 * Lines already rendered for records that were read but not yet cut, per log and table. A table
 * is looked at every second until its batch is due, and rendering (a JSON.parse of every event)
 * was the flusher's largest cost when repeated each look (bench/RESULTS.md, bench:stream). Keyed
 * by shard, sequence number and arrival time, so a stream deleted and made again cannot match;
 * after each flush only the records still waiting stay, so it never holds more than one
 * batch's worth per shard. Losing it (a restart) only costs the rendering again.
 */
const renderedLines = new WeakMap<StreamLog, Map<string, Map<string, Pending>>>();

function lineCacheOf(log: StreamLog, tableId: string): Map<string, Pending> {
  let tables = renderedLines.get(log);
  if (!tables) renderedLines.set(log, (tables = new Map()));
  let lines = tables.get(tableId);
  if (!lines) tables.set(tableId, (lines = new Map()));
  return lines;
}

/** Keeps exactly the records still waiting as the table's rendered lines. */
function keepWaiting(log: StreamLog, tableId: string, waiting: readonly Pending[]): void {
  const lines = lineCacheOf(log, tableId);
  lines.clear();
  for (const p of waiting) lines.set(renderKey(p.record), p);
}

const renderKey = (record: LogRecord) =>
  `${record.shardId}/${record.sequenceNumber}/${record.arrivalMs}`;

/**
 * Flushes at most one micro-batch of a stream table: cut when `force`, when what waits reaches
 * the table's max_bytes, or when the oldest record waiting is max_age old.
 */
export async function flushOnce(
  ctx: FlushContext,
  table: StreamSourceTable,
  options: { force: boolean },
): Promise<FlushResult> {
  const now = ctx.now?.() ?? Date.now();
  const description = await ctx.log.describeStream(table.stream);
  const empty = { records: 0, rejected: 0, waiting: { records: 0, bytes: 0 }, gaps: [] };
  if (!description) return { ...empty, missingStream: true };
  const manifest = await readRawManifest(ctx.store, table.source, table.table);
  const cursor = cursorOf(manifest.cursor);
  const gaps: RetentionGap[] = [];
  const shards: Pending[][] = [];
  for (const shard of description.shards) {
    const read = await readShard(
      ctx.log,
      table,
      shard.shardId,
      cursor.shards[shard.shardId],
      lineCacheOf(ctx.log, table.id),
    );
    // A gap is told once: the cursor keeps it from the flush that found it on.
    if (read.gap && !cursor.gaps?.some((g) => sameGap(g, read.gap!)))
      gaps.push({ ...read.gap, detectedAt: new Date(now).toISOString() });
    shards.push(read.pending);
  }
  const allGaps = [...(cursor.gaps ?? []), ...gaps];
  const all = mergeByArrival(shards);
  const totalBytes = all.reduce((n, p) => n + p.bytes, 0);
  const oldest = all[0]?.record.arrivalMs;
  const due =
    all.length > 0 &&
    (options.force ||
      totalBytes >= table.buffer.maxBytes ||
      now - oldest! >= table.buffer.maxAgeMs);
  if (!due) {
    const waiting = {
      records: all.length,
      bytes: totalBytes,
      ...(oldest !== undefined ? { oldestArrivalMs: oldest } : {}),
    };
    // A gap is committed with the cursor so it stays on record even when no batch follows it.
    if (gaps.length)
      await commitRawBatches(ctx.store, table.source, table.table, [], { gaps: allGaps });
    keepWaiting(ctx.log, table.id, all);
    return { ...empty, waiting, gaps };
  }
  const cut = cutBatch(all, table.buffer.maxBytes);
  const rest = all.slice(cut.length);
  // Forget everything before the batch is written: if the commit fails, the next look renders
  // the same records again (lines depend only on their records), which is merely slower.
  keepWaiting(ctx.log, table.id, []);
  const batch = await writeBatch(ctx, table, cut);
  const advanced = { ...cursor.shards };
  for (const p of cut) advanced[p.record.shardId] = p.record.sequenceNumber;
  faultPoint(`flush-before-commit:${table.table}`);
  const next: StreamCursor = { shards: advanced, ...(allGaps.length ? { gaps: allGaps } : {}) };
  await commitRawBatches(ctx.store, table.source, table.table, [batch], { ...next });
  keepWaiting(ctx.log, table.id, rest);
  faultPoint(`flush-after-commit:${table.table}`);
  return {
    batch,
    records: cut.length,
    rejected: cut.filter((p) => p.rejected).length,
    waiting: {
      records: rest.length,
      bytes: rest.reduce((n, p) => n + p.bytes, 0),
      ...(rest[0] ? { oldestArrivalMs: rest[0].record.arrivalMs } : {}),
    },
    gaps,
  };
}

/** The cursor as committed (an empty one before the first batch). */
export function cursorOf(raw: Record<string, unknown> | undefined): StreamCursor {
  const shards = raw?.shards;
  const gaps = raw?.gaps;
  return {
    shards: shards && typeof shards === 'object' ? { ...(shards as Record<string, string>) } : {},
    ...(Array.isArray(gaps) ? { gaps: gaps as RetentionGap[] } : {}),
  };
}

function sameGap(
  a: Omit<RetentionGap, 'detectedAt'>,
  b: Omit<RetentionGap, 'detectedAt'>,
): boolean {
  return a.shardId === b.shardId && a.after === b.after && a.before === b.before;
}

/**
 * Reads one shard after its cursor, up to the table's max_bytes of lines (what one batch can
 * take), and tells a retention gap: records after the cursor that are no longer in the log.
 */
async function readShard(
  log: StreamLog,
  table: StreamSourceTable,
  shardId: string,
  after: string | undefined,
  rendered: ReadonlyMap<string, Pending>,
): Promise<{ pending: Pending[]; gap?: Omit<RetentionGap, 'detectedAt'> }> {
  let position: ReadPosition = after
    ? { type: 'after', sequenceNumber: after }
    : { type: 'oldest' };
  const pending: Pending[] = [];
  let bytes = 0;
  let gap: Omit<RetentionGap, 'detectedAt'> | undefined;
  for (;;) {
    const result = await log.read(table.stream, shardId, position, {
      maxRecords: READ_RECORDS,
      maxBytes: Math.max(1, table.buffer.maxBytes - bytes),
    });
    if (result.trimmedBefore !== undefined && after !== undefined && pending.length === 0) {
      gap = {
        table: table.id,
        stream: table.stream,
        shardId,
        after,
        before: result.trimmedBefore,
      };
    }
    for (const record of result.records) {
      const known = rendered.get(renderKey(record));
      if (known) {
        pending.push({ ...known, record });
        bytes += known.bytes;
        continue;
      }
      const line = lineOf(record);
      const size = Buffer.byteLength(line.text);
      pending.push({ record, text: line.text, bytes: size, rejected: line.rejected !== undefined });
      bytes += size;
    }
    if (!result.records.length || bytes >= table.buffer.maxBytes) break;
    position = result.next;
  }
  return { pending, ...(gap ? { gap } : {}) };
}

/**
 * The shards' records in one order: by arrival, then shard, then sequence. Each shard's records
 * stay in sequence order (a k-way merge of the shards' lists), so any prefix of the merged list
 * is a prefix of every shard, and one cursor per shard says exactly what was taken.
 */
function mergeByArrival(shards: Pending[][]): Pending[] {
  const heads = shards.map(() => 0);
  const out: Pending[] = [];
  for (;;) {
    let best = -1;
    for (let i = 0; i < shards.length; i++) {
      const candidate = shards[i]![heads[i]!];
      if (!candidate) continue;
      if (best < 0 || candidate.record.arrivalMs < shards[best]![heads[best]!]!.record.arrivalMs)
        best = i;
    }
    if (best < 0) return out;
    out.push(shards[best]![heads[best]!]!);
    heads[best]!++;
  }
}

/** The longest prefix within max_bytes (at least one record: a batch always moves on). */
function cutBatch(all: Pending[], maxBytes: number): Pending[] {
  let bytes = 0;
  let n = 0;
  while (n < all.length && (n === 0 || bytes + all[n]!.bytes <= maxBytes)) bytes += all[n++]!.bytes;
  return all.slice(0, n);
}

/** Writes the cut records as one raw NDJSON batch (stored, not yet committed). */
async function writeBatch(
  ctx: FlushContext,
  table: StreamSourceTable,
  cut: Pending[],
): Promise<RawBatch> {
  const writer = await RawBatchWriter.open({
    store: ctx.store,
    tmpDir: ctx.tmpDir,
    source: table.source,
    table: table.table,
    ext: '.ndjson',
    now: new Date(ctx.now?.() ?? Date.now()),
    originalName: batchName(table, cut),
  });
  try {
    for (const p of cut) await writer.write(p.text);
    writer.countRecords(cut.length);
    faultPoint(`flush-before-store:${table.table}`);
    const batch = await writer.finish();
    if (!batch)
      throw new TributaryError('a stream batch was cut with no records', { code: 'INTERNAL' });
    return batch;
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

/** The batch's name in messages and quarantine rows: the stream and each shard's sequence range. */
function batchName(table: StreamSourceTable, cut: Pending[]): string {
  const ranges = new Map<string, { first: string; last: string }>();
  for (const { record } of cut) {
    const range = ranges.get(record.shardId);
    if (range) range.last = record.sequenceNumber;
    else ranges.set(record.shardId, { first: record.sequenceNumber, last: record.sequenceNumber });
  }
  const parts = [...ranges].map(([shard, r]) => `${shard} ${r.first}..${r.last}`);
  const shown =
    parts.length > 3 ? [...parts.slice(0, 3), `${parts.length - 3} more shards`] : parts;
  return `stream ${table.stream} (${shown.join(', ')})`;
}
