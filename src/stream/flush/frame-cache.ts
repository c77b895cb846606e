/**
 * The flusher thread's copy of what the local log just made durable. The collector's thread
 * hands each shard's frames to the flusher thread right after their group is durable (the
 * staging memory itself, shared, not copied: LocalSegmentLog.onDurable, shared-staging.ts), so in steady state
 * the flusher reads records from memory instead of reading the segment files back, and the
 * collector's thread does no reading or decoding for it at all.
 *
 * Beyond its size bound (a flusher that fell behind a burst) it keeps only where each group's
 * frames lie in the segment files (the log says so with the frames), and reads them from there
 * when their turn comes: the flusher thread reads the file itself, so falling behind never puts
 * reading on the collector's thread.
 *
 * It only answers a read it can answer exactly as the log would: a read `after` a sequence
 * number of the same stream whose next record is in the copy, with every durable frame since the
 * copy's first one in it (nothing skipped), and no record old enough for retention to have
 * removed. Anything else (the first read from a cursor, a failed group's gap, a segment file
 * removed by retention) gives undefined, and the caller reads the log. What a read passes is
 * dropped: the flusher never reads below its last position again unless a commit failed, and
 * then it reads the log.
 */
import { open } from 'node:fs/promises';
import { isErrno } from '../../core/errors.js';
import type { LogRecord, ReadLimits, ReadPosition, ReadResult } from '../log.js';

/** Bytes of frames kept in memory at most over every shard (beyond it, where they lie on disk). */
export const FRAME_CACHE_MAX_BYTES = 192 * 1024 * 1024;

/** Header (length, CRC) and fixed body bytes before the key; see local/frame.ts. */
const HEADER = 8;
const FIXED = 18;
const TWO_32 = 2 ** 32;
const COUNTER_DIGITS = 20;

interface Chunk {
  /** The frames, or undefined while they are only on disk (at `where`, `length` bytes). */
  bytes: Buffer | undefined;
  /** The bytes are the log's staging buffer, handed over whole: given back once read past. */
  handedOver: boolean;
  length: number;
  where: { path: string; position: number } | undefined;
  firstCounter: number;
  lastCounter: number;
}

/** One group's frames of one shard as the log hands them over. */
export interface DurableFrames {
  bytes: Buffer;
  firstCounter: number;
  lastCounter: number;
  /** Where they lie in the segment files (read from there when memory is full). */
  where?: { path: string; position: number };
}

interface ShardCopy {
  createdAtMs: number;
  /** The stream's sequence-number prefix: its creation time in 13 digits. */
  prefix: string;
  /** The prefix with the zeros a counter of each digit count is padded with, by digit count. */
  padded: string[];
  /** Frames of counters `lo`..`hi`, contiguous, oldest first. */
  chunks: Chunk[];
  /** The first counter still held (hi + 1 when none is). */
  lo: number;
  hi: number;
  /** Every durable frame from `lo` on was pushed: a read at hi + 1 finds nothing new. */
  complete: boolean;
  /** Where the last read stopped, so the next one need not step through the chunk again. */
  resume?: { chunk: Chunk; offset: number; counter: number };
}

/** What one read asks, besides the position. */
export interface CacheReadOptions {
  limits: ReadLimits;
  /** Records that arrived before this were removed by retention (or soon will be). */
  cutoffMs: number;
}

export class FrameCache {
  private readonly shards = new Map<string, ShardCopy>();
  private held = 0;

  /**
   * `release` is given the memory of each handed-over chunk the cache drops, for the log to
   * build later frames in (LocalSegmentLog.recycle). Records a read returned are views of that
   * memory: the caller gives it back only once it has used them (thread-worker.ts defers it to
   * after the reads' continuations).
   */
  constructor(
    private readonly maxBytes = FRAME_CACHE_MAX_BYTES,
    private readonly release?: (memory: ArrayBufferLike) => void,
  ) {}

  /** Bytes held now. */
  get bytes(): number {
    return this.held;
  }

  /**
   * Takes one shard's frames just made durable (counters firstCounter..lastCounter). Frames it
   * does not keep in memory are given back (`release`) at once: the log's staging memory is shared
   * with this thread and kept track of (shared-staging.ts), so a buffer dropped here would never go
   * back to the log's pool.
   */
  push(stream: string, createdAtMs: number, shardId: string, frames: DurableFrames): void {
    if (!this.keep(stream, createdAtMs, shardId, frames)) this.release?.(frames.bytes.buffer);
  }

  /** `push`; false when the frames' bytes are not kept in memory. */
  private keep(
    stream: string,
    createdAtMs: number,
    shardId: string,
    frames: DurableFrames,
  ): boolean {
    const key = `${stream}\n${shardId}`;
    let copy = this.shards.get(key);
    if (copy && copy.createdAtMs !== createdAtMs) {
      this.drop(copy);
      copy = undefined;
    }
    // A failed group's counters are skipped by the log: the copy cannot say what lies between.
    if (copy && frames.firstCounter !== copy.hi + 1) copy.complete = false;
    if (copy && !copy.complete) {
      if (copy.chunks.length > 0) return false; // keep what it holds; reads past it go to the log
      copy = undefined; // emptied: start again from these frames
    }
    const inMemory = this.held + frames.bytes.length <= this.maxBytes;
    if (!inMemory && !frames.where) {
      if (this.shards.get(key)) this.shards.get(key)!.complete = false;
      return false;
    }
    if (!copy) {
      const prefix = String(createdAtMs).padStart(13, '0');
      copy = {
        createdAtMs,
        prefix,
        padded: Array.from({ length: COUNTER_DIGITS + 1 }, (_, digits) =>
          prefix.padEnd(prefix.length + COUNTER_DIGITS - digits, '0'),
        ),
        chunks: [],
        lo: frames.firstCounter,
        hi: frames.firstCounter - 1,
        complete: true,
      };
      this.shards.set(key, copy);
    }
    copy.chunks.push({
      bytes: inMemory ? frames.bytes : undefined,
      handedOver: inMemory,
      length: frames.bytes.length,
      where: frames.where,
      firstCounter: frames.firstCounter,
      lastCounter: frames.lastCounter,
    });
    copy.hi = frames.lastCounter;
    if (inMemory) this.held += frames.bytes.length;
    return inMemory;
  }

  /**
   * The log's answer to a read of `shardId` of `stream` from `from`, from memory; undefined when
   * the copy cannot give it exactly (the caller reads the log).
   */
  async read(
    stream: string,
    shardId: string,
    from: ReadPosition,
    options: CacheReadOptions,
  ): Promise<ReadResult | undefined> {
    if (from.type !== 'after') return undefined;
    const copy = this.shards.get(`${stream}\n${shardId}`);
    const seq = from.sequenceNumber;
    if (!copy || seq.length !== copy.prefix.length + COUNTER_DIGITS || !seq.startsWith(copy.prefix))
      return undefined;
    const counter = Number(seq.slice(copy.prefix.length)) + 1;
    this.evictBelow(copy, counter);
    if (counter < copy.lo || counter > copy.hi + 1) return undefined;
    const lastField = { lastSequenceNumber: sequenceOf(copy, copy.hi) };
    if (counter === copy.hi + 1)
      return copy.complete ? { records: [], next: from, ...lastField } : undefined;
    if (!(await this.loadFirst(copy, counter))) return undefined;
    const records = this.collect(copy, shardId, counter, options);
    if (!records) return undefined;
    const next: ReadPosition = records.length
      ? { type: 'after', sequenceNumber: records.at(-1)!.sequenceNumber }
      : from;
    return { records, next, ...lastField };
  }

  /** Records from `counter` on, within the limits; undefined when one is past retention. */
  private collect(
    copy: ShardCopy,
    shardId: string,
    counter: number,
    options: CacheReadOptions,
  ): LogRecord[] | undefined {
    const maxRecords = Math.max(1, options.limits.maxRecords ?? 10_000);
    const maxBytes = options.limits.maxBytes ?? 10 * 1024 * 1024;
    const records: LogRecord[] = [];
    let bytes = 0;
    let next = counter;
    for (const chunk of copy.chunks) {
      if (chunk.lastCounter < next) continue;
      // A later chunk still on disk waits for the next read (which loads it first).
      const buf = chunk.bytes;
      if (!buf) break;
      let offset =
        copy.resume?.chunk === chunk && copy.resume.counter === next
          ? copy.resume.offset
          : offsetOf(buf, next);
      while (offset < buf.length) {
        const bodyLength = buf.readUInt32LE(offset);
        const body = offset + HEADER;
        const keyLength = buf.readUInt16LE(body + 16);
        const dataLength = bodyLength - FIXED - keyLength;
        if (records.length >= maxRecords || (records.length > 0 && bytes + dataLength > maxBytes)) {
          copy.resume = { chunk, offset, counter: next };
          return records;
        }
        const arrivalMs = buf.readDoubleLE(body + 8);
        if (arrivalMs < options.cutoffMs) return undefined;
        const keyStart = body + FIXED;
        records.push({
          shardId,
          sequenceNumber: sequenceOf(copy, next),
          partitionKey: buf.toString('utf8', keyStart, keyStart + keyLength),
          data: buf.subarray(keyStart + keyLength, body + bodyLength),
          arrivalMs,
        });
        bytes += dataLength;
        offset = body + bodyLength;
        next++;
      }
    }
    copy.resume = undefined;
    return records;
  }

  /**
   * Reads from its segment file the chunk holding `counter` when only its place is known; false
   * when the file is gone (retention removed it: the log says what remains).
   */
  private async loadFirst(copy: ShardCopy, counter: number): Promise<boolean> {
    const chunk = copy.chunks.find((c) => c.lastCounter >= counter);
    if (!chunk || chunk.bytes) return true;
    const { path, position } = chunk.where!;
    try {
      const handle = await open(path, 'r');
      try {
        const bytes = Buffer.allocUnsafe(chunk.length);
        const { bytesRead } = await handle.read(bytes, 0, chunk.length, position);
        if (bytesRead !== chunk.length) return false;
        if (!copy.chunks.includes(chunk)) return false; // dropped meanwhile
        chunk.bytes = bytes;
        this.held += bytes.length;
        return true;
      } finally {
        await handle.close();
      }
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw err;
    }
  }

  /** Drops the chunks wholly below `counter`: the flusher has read past them. */
  private evictBelow(copy: ShardCopy, counter: number): void {
    while (copy.chunks.length > 0 && copy.chunks[0]!.lastCounter < counter) {
      const chunk = copy.chunks.shift()!;
      if (chunk.bytes) this.held -= chunk.bytes.length;
      this.releaseChunk(chunk);
      copy.lo = chunk.lastCounter + 1;
      if (copy.resume?.chunk === chunk) copy.resume = undefined;
    }
  }

  private drop(copy: ShardCopy): void {
    for (const chunk of copy.chunks) {
      if (chunk.bytes) this.held -= chunk.bytes.length;
      this.releaseChunk(chunk);
    }
    copy.chunks = [];
  }

  private releaseChunk(chunk: Chunk): void {
    const memory = chunk.bytes?.buffer;
    if (chunk.handedOver && memory) this.release?.(memory);
    chunk.bytes = undefined;
  }
}

/**
 * The sequence number of a counter: one concatenation of the padded prefix and the digits (a
 * padStart and a concatenation made two strings a record on the flusher thread).
 */
function sequenceOf(copy: ShardCopy, counter: number): string {
  const digits = String(counter);
  return copy.padded[digits.length]! + digits;
}

/** The offset of the frame of `counter` in a chunk's bytes, stepping over the frames before it. */
function offsetOf(buf: Buffer, counter: number): number {
  let offset = 0;
  while (offset < buf.length) {
    const body = offset + HEADER;
    const at = buf.readUInt32LE(body) + buf.readUInt32LE(body + 4) * TWO_32;
    if (at >= counter) return offset;
    offset = body + buf.readUInt32LE(offset);
  }
  return offset;
}
