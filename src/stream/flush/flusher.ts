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
 * (StreamFlusher), and the process owning the log (its lock, the project lock) is the only one;
 * in shared mode, where processes share a JetStream log, each flush holds the table's lock in
 * the state database (fence.ts).
 */
import { createHash } from 'node:crypto';
import { TributaryError, faultPoint, type SyncIo } from '../../core/index.js';
import type { ObjectStore, RawBatch } from '../../lake/index.js';
import type { StreamSourceTable } from '../../project/index.js';
import { RawBatchWriter, commitRawBatches, readRawManifest } from '../../sources/index.js';
import type { LogRecord, ReadPosition, StreamLog } from '../log.js';
import { releaseLine, renderLine, type LineSlab } from './lines.js';

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
  /** The batch writer's sync calls (tests record them); Node's by default. */
  syncIo?: SyncIo;
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

/**
 * A record read and turned into its line, before the batch is cut: what the cut and the cursor
 * need of it, not its data (the line holds that), so a waiting record does not keep the read's
 * buffers alive as well. One flat object, its line a range of its slab's buffer: records wait
 * up to a table's max_age (a second) for their batch, so every object kept per record lives long
 * enough to be copied by scavenges, promoted and marked by the thread's full collections; an
 * object for the record's fields and a Buffer view per line doubled what each waiting record
 * kept (garbage collection was the flusher thread's largest cost after the page faults, issue 15).
 */
interface Pending {
  shardId: string;
  sequenceNumber: string;
  arrivalMs: number;
  /** The record's NDJSON line, newline included, is `buffer`'s [start, start + length). */
  buffer: Buffer;
  start: number;
  length: number;
  rejected: boolean;
  /** The slab the line was cut from, released once the line is written into its batch. */
  slab: LineSlab | undefined;
}

/**
 * How many records one log read returns at most. Each read's records are rendered in one
 * synchronous stretch on the thread that also answers producers, so reads of the local log are
 * kept small (about 1 MB: a few milliseconds of rendering between requests); a read of another
 * log (JetStream) costs round trips to its server, so it takes more at a time.
 */
const readRecordsOf = (log: StreamLog) => (log.kind === 'local' ? 1_000 : 10_000);

/**
 * What the flusher read past a shard's cursor and has not cut yet, kept between looks so each
 * record is read and rendered once: a table is looked at every second until its batch is due,
 * and reading and rendering everything waiting again at each look was the flusher's largest cost
 * (bench/RESULTS.md, bench:stream). A tail continues only the cursor it was read from, of the
 * same stream (its creation time): when the committed cursor is anything else (a failed commit,
 * another flusher), the shard is read from the cursor again. It never holds more than the
 * table's max_bytes of lines a shard. Losing it (a restart) only costs the reading again.
 */
interface ShardTail {
  shardId: string;
  streamCreatedMs: number;
  /** The committed cursor the tail follows (undefined: the shard's start). */
  after: string | undefined;
  pending: Pending[];
  bytes: number;
  /** Where reading continues: after the last record read. */
  next: ReadPosition;
}

const tailsByLog = new WeakMap<StreamLog, Map<string, Map<string, ShardTail>>>();

/** The tails of a table's shards (by shard id). */
function tailsOf(log: StreamLog, tableId: string): Map<string, ShardTail> {
  let tables = tailsByLog.get(log);
  if (!tables) tailsByLog.set(log, (tables = new Map()));
  let tails = tables.get(tableId);
  if (!tails) tables.set(tableId, (tails = new Map()));
  return tails;
}

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
  const tails = tailsOf(ctx.log, table.id);
  const streamCreatedMs = description.createdAt.getTime();
  const reads: ShardTail[] = [];
  for (const shard of description.shards) {
    const after = cursor.shards[shard.shardId];
    const read = await readShard(ctx.log, table, shard.shardId, {
      after,
      streamCreatedMs,
      tail: tails.get(shard.shardId),
    });
    // A gap is told once: the cursor keeps it from the flush that found it on.
    if (read.gap && !cursor.gaps?.some((g) => sameGap(g, read.gap!)))
      gaps.push({ ...read.gap, detectedAt: new Date(now).toISOString() });
    reads.push(read.tail);
    // Kept at once: the list it continued is the kept tail's own (readShard), so should a later
    // shard's read fail, the map must not hold the old tail over the longer list.
    tails.set(shard.shardId, read.tail);
  }
  const allGaps = [...(cursor.gaps ?? []), ...gaps];
  const all = mergeByArrival(reads.map((r) => r.pending));
  const totalBytes = reads.reduce((n, r) => n + r.bytes, 0);
  const oldest = all[0]?.arrivalMs;
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
    return { ...empty, waiting, gaps };
  }
  const cutLength = cutLengthOf(all, table.buffer.maxBytes);
  const waitingAfter = all.length - cutLength;
  const oldestAfter = all[cutLength]?.arrivalMs;
  // The merged list is this flush's own: cut in place (a copy of tens of thousands of entries
  // per batch was fresh memory each time).
  all.length = cutLength;
  const cut = all;
  // Forget what was read before the batch is written: if the commit fails, the next look reads
  // the same records again from the committed cursor (lines depend only on their records).
  tails.clear();
  const batch = await writeBatch(ctx, table, cut);
  const advanced = { ...cursor.shards };
  for (const p of cut) advanced[p.shardId] = p.sequenceNumber;
  faultPoint(`flush-before-commit:${table.table}`);
  await refuseMovedCursor(ctx, table, cursor);
  const next: StreamCursor = { shards: advanced, ...(allGaps.length ? { gaps: allGaps } : {}) };
  await commitRawBatches(ctx.store, table.source, table.table, [batch], { ...next });
  const rest = restAfterCut(reads, cut, advanced);
  for (const read of rest) tails.set(read.shardId, read);
  faultPoint(`flush-after-commit:${table.table}`);
  return {
    batch,
    records: cut.length,
    rejected: cut.filter((p) => p.rejected).length,
    waiting: {
      records: waitingAfter,
      bytes: rest.reduce((n, r) => n + r.bytes, 0),
      ...(oldestAfter !== undefined ? { oldestArrivalMs: oldestAfter } : {}),
    },
    gaps,
  };
}

/**
 * Just before the commit: the cursor must still be the one this flush read. It always is under
 * one flusher (the process owning the log, or the fence's lock in shared mode); should another
 * have committed meanwhile (a fence whose connection was lost), committing would land records
 * twice, so this batch is left uncommitted and the next look reads from the new cursor.
 */
async function refuseMovedCursor(
  ctx: FlushContext,
  table: StreamSourceTable,
  read: StreamCursor,
): Promise<void> {
  const now = cursorOf((await readRawManifest(ctx.store, table.source, table.table)).cursor);
  if (JSON.stringify(sortedShards(now)) === JSON.stringify(sortedShards(read))) return;
  throw new TributaryError(
    `stream table ${table.id}: another flusher committed while this one was cutting a batch; the batch is left uncommitted and its records are read again from the new cursor`,
    {
      code: 'CONFLICT',
      hint: 'nothing is lost or doubled; in shared mode make sure every process uses the same state database',
    },
  );
}

const sortedShards = (cursor: StreamCursor): [string, string][] =>
  Object.entries(cursor.shards).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * Each shard's tail once `cut` is committed: the cut is a prefix of every shard's records
 * (mergeByArrival), so what stays is each shard's list without its first cut ones, following
 * the advanced cursor.
 */
function restAfterCut(
  reads: readonly ShardTail[],
  cut: readonly Pending[],
  advanced: Record<string, string>,
): ShardTail[] {
  const taken = new Map<string, number>();
  for (const p of cut) taken.set(p.shardId, (taken.get(p.shardId) ?? 0) + 1);
  return reads.map((read) => {
    const n = taken.get(read.shardId) ?? 0;
    if (n === 0) return read;
    const pending = read.pending.slice(n);
    return {
      ...read,
      after: advanced[read.shardId],
      pending,
      bytes: pending.reduce((sum, p) => sum + p.length, 0),
    };
  });
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
 * take), continuing the shard's tail from the last look when it follows the same cursor, and
 * tells a retention gap: records after the cursor that are no longer in the log.
 */
async function readShard(
  log: StreamLog,
  table: StreamSourceTable,
  shardId: string,
  from: { after: string | undefined; streamCreatedMs: number; tail: ShardTail | undefined },
): Promise<{ tail: ShardTail; gap?: Omit<RetentionGap, 'detectedAt'> }> {
  const { after, streamCreatedMs } = from;
  const kept =
    from.tail?.after === after && from.tail?.streamCreatedMs === streamCreatedMs
      ? from.tail
      : undefined;
  // The kept tail's list is continued in place (a copy of it at every look was fresh memory);
  // a read that fails half way, or starts over, cuts it back so the kept tail stays as it was.
  const keptLength = kept?.pending.length ?? 0;
  const restoreKept = () => void (kept && (kept.pending.length = keptLength));
  const tail: ShardTail = kept
    ? { ...kept }
    : {
        shardId,
        streamCreatedMs,
        after,
        pending: [],
        bytes: 0,
        next: after ? { type: 'after', sequenceNumber: after } : { type: 'oldest' },
      };
  let gap: Omit<RetentionGap, 'detectedAt'> | undefined;
  const maxBytes = table.buffer.maxBytes;
  try {
    while (tail.bytes < maxBytes) {
      const result = await log.read(table.stream, shardId, tail.next, {
        maxRecords: readRecordsOf(log),
        maxBytes: Math.max(1, maxBytes - tail.bytes),
      });
      if (result.trimmedBefore !== undefined) {
        // Retention removed records past what the last look kept: read again from the cursor,
        // which tells the gap as a first read does.
        if (kept) {
          restoreKept();
          return readShard(log, table, shardId, { ...from, tail: undefined });
        }
        if (after !== undefined && tail.pending.length === 0)
          gap = {
            table: table.id,
            stream: table.stream,
            shardId,
            after,
            before: result.trimmedBefore,
          };
      }
      renderInto(tail, result.records);
      if (!result.records.length) break;
      tail.next = result.next;
    }
  } catch (err) {
    restoreKept();
    throw err;
  }
  return { tail, ...(gap ? { gap } : {}) };
}

/**
 * Reads ahead into the tails a table's last look kept (new records of shards it already
 * follows), without cutting: the flusher thread does this as each group's frames arrive, so the
 * frame cache reads past them in milliseconds and gives the log's staging buffers back while
 * they are still warm (a look only once a second kept a second of them out of the log's pool,
 * and the log built later frames in fresh memory: page faults, issue 15). Only what a look
 * would read next is read, into the tail's own lists; the next look still checks that each tail
 * follows the committed cursor (and drops it if not), so this never decides what is cut. A shard
 * with no tail waits for the next look; a read that meets retention drops its tail (the look
 * reads from the cursor and tells the gap). The caller runs it between the table's flushes.
 */
export async function readAhead(log: StreamLog, table: StreamSourceTable): Promise<void> {
  const tails = tailsOf(log, table.id);
  const maxBytes = table.buffer.maxBytes;
  for (const [shardId, tail] of tails) {
    while (tail.bytes < maxBytes) {
      const result = await log.read(table.stream, shardId, tail.next, {
        maxRecords: readRecordsOf(log),
        maxBytes: Math.max(1, maxBytes - tail.bytes),
      });
      if (tails.get(shardId) !== tail) break;
      if (result.trimmedBefore !== undefined) {
        tails.delete(shardId);
        break;
      }
      if (!result.records.length) break;
      renderInto(tail, result.records);
      tail.next = result.next;
    }
  }
}

/** Renders records read after a tail's last one into its lines. */
function renderInto(tail: ShardTail, records: readonly LogRecord[]): void {
  for (const record of records) {
    const line = renderLine(record);
    const { bytes, slab } = line;
    tail.pending.push({
      shardId: record.shardId,
      sequenceNumber: record.sequenceNumber,
      arrivalMs: record.arrivalMs,
      // A slab's line is kept as its range of the slab (the view dies young); any other line is
      // a buffer of its own.
      buffer: slab ? slab.buffer : bytes,
      start: slab ? bytes.byteOffset - slab.buffer.byteOffset : 0,
      length: bytes.length,
      rejected: line.rejected !== undefined,
      slab,
    });
    tail.bytes += bytes.length;
  }
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
      if (best < 0 || candidate.arrivalMs < shards[best]![heads[best]!]!.arrivalMs) best = i;
    }
    if (best < 0) return out;
    out.push(shards[best]![heads[best]!]!);
    heads[best]!++;
  }
}

/** The length of the longest prefix within max_bytes (at least one record: a batch always moves on). */
function cutLengthOf(all: Pending[], maxBytes: number): number {
  let bytes = 0;
  let n = 0;
  while (n < all.length && (n === 0 || bytes + all[n]!.length <= maxBytes))
    bytes += all[n++]!.length;
  return n;
}

/**
 * A batch file is synced after every this many bytes as it is written. A batch runs up to 64 MB
 * at ~100 MB/s, and one fdatasync of all of it when it is stored held the disk for tens of ms
 * (an 80 MB sync took the stream log's small group-commit syncs on the same disk from p99 4 ms
 * to 60+ ms); a sync of 4 MiB costs about what the log's own p99 is, and at 100 MB/s it is 25
 * syncs a second, few next to the log's.
 */
const BATCH_SYNC_EVERY_BYTES = 4 * 1024 * 1024;

/** Writes the cut records as one raw NDJSON batch (stored, not yet committed). */
async function writeBatch(
  ctx: FlushContext,
  table: StreamSourceTable,
  cut: Pending[],
): Promise<RawBatch> {
  const ranges = rangesOf(cut);
  const writer = await RawBatchWriter.open({
    store: ctx.store,
    tmpDir: ctx.tmpDir,
    source: table.source,
    table: table.table,
    ext: '.ndjson',
    now: new Date(ctx.now?.() ?? Date.now()),
    originalName: batchName(table, ranges),
    id: batchIdOf(table, ranges),
    syncEveryBytes: BATCH_SYNC_EVERY_BYTES,
    io: ctx.syncIo,
  });
  try {
    await writeLines(writer, cut);
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

/** Lines go to the file in chunks of about this many bytes (one hash update and write each). */
const WRITE_CHUNK_BYTES = 1024 * 1024;
/** Chunks written at once: one filling while the other is being written. */
const CHUNKS_IN_FLIGHT = 2;
/** Write chunks kept for the next batches (per thread), at most this many. */
const SPARE_CHUNKS = 4;
const spareChunks: Buffer[] = [];

/**
 * A write chunk: a spare one once its write is done, or a new one. A fresh 1 MB buffer for every
 * MB of lines cost the flusher the kernel mapping and zeroing each page as the lines were copied
 * in (page faults were an eighth of the collector's CPU under bench:stream, issue 15).
 */
function takeChunk(): Buffer {
  return spareChunks.pop() ?? Buffer.allocUnsafe(WRITE_CHUNK_BYTES);
}

/** Writes the lines copied into chunks, rather than one write (and one hash update) per line. */
async function writeLines(writer: RawBatchWriter, cut: readonly Pending[]): Promise<void> {
  const writing: Promise<void>[] = [];
  const send = async (chunk: Buffer, used: number) => {
    const written = writer.writeOwned(chunk.subarray(0, used));
    // The chunk is reused only after its bytes are written; a failed write drops it.
    written.then(
      () => void (spareChunks.length < SPARE_CHUNKS && spareChunks.push(chunk)),
      () => undefined,
    );
    writing.push(written);
    if (writing.length >= CHUNKS_IN_FLIGHT) await writing.shift();
  };
  let chunk = takeChunk();
  let used = 0;
  try {
    for (const { buffer, start, length, slab } of cut) {
      if (used > 0 && used + length > chunk.length) {
        await send(chunk, used);
        chunk = takeChunk();
        used = 0;
      }
      if (length > chunk.length) await writer.write(buffer.subarray(start, start + length));
      else {
        buffer.copy(chunk, used, start, start + length);
        used += length;
      }
      // A cut's lines are written once and never read again (a failed batch is read and
      // rendered afresh): the line's slab may take new lines.
      if (slab) releaseLine(slab);
    }
    if (used > 0) await send(chunk, used);
    else if (spareChunks.length < SPARE_CHUNKS) spareChunks.push(chunk);
  } finally {
    // Every write settles before the batch is finished (or aborted on a failure).
    await Promise.allSettled(writing);
  }
  await Promise.all(writing);
}

/** Each shard's first and last sequence number in a cut, by shard, in the order first seen. */
type SequenceRanges = Map<string, { first: string; last: string }>;

function rangesOf(cut: Pending[]): SequenceRanges {
  const ranges: SequenceRanges = new Map();
  for (const { shardId, sequenceNumber } of cut) {
    const range = ranges.get(shardId);
    if (range) range.last = sequenceNumber;
    else ranges.set(shardId, { first: sequenceNumber, last: sequenceNumber });
  }
  return ranges;
}

/**
 * The batch's id: the SHA-256 of its table and its shards' sequence ranges, not of its bytes.
 * The ranges determine the bytes (a cut holds every record of each range, in one order, and a
 * line depends only on its record), so a batch cut again after a crash has the same id as it
 * does the same bytes; hashing the bytes as well cost the flusher thread a sixth of its CPU
 * (bench:stream, issue 15).
 */
function batchIdOf(table: StreamSourceTable, ranges: SequenceRanges): string {
  const shards = [...ranges].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const text = shards.map(([shard, r]) => `${shard} ${r.first} ${r.last}`).join('\n');
  return createHash('sha256')
    .update(`stream batch\n${table.id}\n${table.stream}\n${text}`)
    .digest('hex');
}

/** The batch's name in messages and quarantine rows: the stream and each shard's sequence range. */
function batchName(table: StreamSourceTable, ranges: SequenceRanges): string {
  const parts = [...ranges].map(([shard, r]) => `${shard} ${r.first}..${r.last}`);
  const shown =
    parts.length > 3 ? [...parts.slice(0, 3), `${parts.length - 3} more shards`] : parts;
  return `stream ${table.stream} (${shown.join(', ')})`;
}
