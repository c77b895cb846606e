/**
 * The on-disk frame of one record in a segment file, and the staging buffer frames are built in.
 * A frame is `u32 body length, u32 CRC32 of the body`, then the body: `u64 counter` (the shard's
 * sequence counter), `f64 arrival ms`, `u16 partition-key length`, the key's UTF-8 bytes, and the
 * data. All little-endian. The CRC covers everything the reader trusts, so a torn or rotted frame
 * is found and cut, never read as a record.
 */
import { crc32 } from 'node:zlib';
import { copyBytes } from '../../core/bytes.js';
import type { RecordColumns } from '../log.js';
import { BufferPool } from '../buffer-pool.js';

/** Bytes before the body: length and CRC. */
export const FRAME_HEADER_BYTES = 8;
/** Bytes of the body before the partition key. */
export const BODY_FIXED_BYTES = 18;
/** No valid body is longer (1 MiB of data, a 256-character key of up to 4 bytes a character). */
export const MAX_BODY_BYTES = BODY_FIXED_BYTES + 1024 + 1024 * 1024;
const TWO_32 = 2 ** 32;

/** One frame read back from a segment. */
export interface DecodedFrame {
  counter: number;
  arrivalMs: number;
  partitionKey: string;
  data: Buffer;
  /** Offset of the frame's first byte in the buffer it was read from. */
  offset: number;
  /** Total bytes of the frame, header included. */
  length: number;
}

/** What `decodeFrame` finds at an offset: a frame, too few bytes to tell, or a bad frame. */
export type DecodeResult =
  | { kind: 'frame'; frame: DecodedFrame }
  | { kind: 'short'; need: number }
  | { kind: 'corrupt'; reason: string };

/**
 * Decodes the frame at `offset` of `buf` (which holds bytes up to `end`). `short` means the
 * frame goes past `end` (read more, or at the file's end it is torn); `corrupt` means its length is
 * impossible or its CRC does not match.
 */
export function decodeFrame(buf: Buffer, offset: number, end: number): DecodeResult {
  if (end - offset < FRAME_HEADER_BYTES) return { kind: 'short', need: FRAME_HEADER_BYTES };
  const bodyLength = buf.readUInt32LE(offset);
  if (bodyLength < BODY_FIXED_BYTES || bodyLength > MAX_BODY_BYTES)
    return { kind: 'corrupt', reason: `impossible frame length ${bodyLength}` };
  const total = FRAME_HEADER_BYTES + bodyLength;
  if (end - offset < total) return { kind: 'short', need: total };
  const bodyStart = offset + FRAME_HEADER_BYTES;
  const expected = buf.readUInt32LE(offset + 4);
  if (crc32(buf.subarray(bodyStart, bodyStart + bodyLength)) !== expected)
    return { kind: 'corrupt', reason: 'checksum mismatch' };
  const keyLength = buf.readUInt16LE(bodyStart + 16);
  if (BODY_FIXED_BYTES + keyLength > bodyLength)
    return { kind: 'corrupt', reason: `impossible key length ${keyLength}` };
  const keyStart = bodyStart + BODY_FIXED_BYTES;
  return {
    kind: 'frame',
    frame: {
      counter: buf.readUInt32LE(bodyStart) + buf.readUInt32LE(bodyStart + 4) * TWO_32,
      arrivalMs: buf.readDoubleLE(bodyStart + 8),
      partitionKey: buf.toString('utf8', keyStart, keyStart + keyLength),
      data: buf.subarray(keyStart + keyLength, bodyStart + bodyLength),
      offset,
      length: total,
    },
  };
}

/** A sparse index point: the frame of `counter` starts at `offset` of its segment. */
export interface IndexPoint {
  counter: number;
  arrivalMs: number;
  offset: number;
}

/** Index points are kept about this far apart (bytes), so a read scans at most this much to start. */
export const INDEX_STEP_BYTES = 64 * 1024;

/**
 * Whether a key is short ASCII, copied byte by byte: for the few bytes of a partition key a
 * native UTF-8 write (and byteLength) per record cost more than the copy (2% of the collector's
 * thread, profiled under bench:stream).
 */
function isShortAscii(key: string): boolean {
  if (key.length > 64) return false;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) > 127) return false;
  return true;
}

/**
 * Bytes of staging buffers a pool keeps at most. With a flusher thread, buffers come back in a
 * burst after each batch it writes (it reads no frames meanwhile): at 100,000 1 KB events/s that
 * is up to ~250 MB, and a 64 MB pool let a third of them go and built later groups in fresh,
 * zeroed memory (bench:stream, issue 15). Memory the workload never needed is never allocated.
 */
export const STAGING_POOL_BYTES = 256 * 1024 * 1024;
const MIN_STAGING_BYTES = 256 * 1024;

/**
 * Staging buffers given back once their frames were written (or, with a flusher thread, once it
 * has read past them), for the next groups to be built in. A fresh buffer each group cost the
 * collector's thread about as much as building the frames in it (0.5–1 µs a 1 KB record, the
 * kernel mapping and zeroing new pages as they are first written; bench:stream, issue 15).
 * Bounded: beyond STAGING_POOL_BYTES a buffer given back is left to the garbage collector.
 *
 * The memory is a SharedArrayBuffer, so the flusher thread can be handed a group's frames without
 * moving an ArrayBuffer between the threads: each buffer is shared with the thread once, and
 * groups then go by reference (flush/thread.ts). Transferring a buffer each group and back made
 * each side count a new ArrayBuffer of external memory ~100 times a second, which kept the main
 * thread in full collections, ~40 in a 10 s bench:stream load (issue 15).
 */
export class StagingPool extends BufferPool {
  constructor(maxBytes = STAGING_POOL_BYTES) {
    super(maxBytes, MIN_STAGING_BYTES);
  }

  /** A new staging buffer of `bytes` (not from the pool): shared memory, not zeroed on reuse. */
  allocate(bytes: number): Buffer {
    return Buffer.from(new SharedArrayBuffer(bytes));
  }
}

/** Frames taken from the staging buffer for one group write. */
export interface StagedFrames {
  bytes: Buffer;
  points: IndexPoint[];
  firstCounter: number;
  lastCounter: number;
  lastArrivalMs: number;
}

/**
 * Frames of one shard waiting for the next group write, built in one growing buffer (no buffer
 * per record), with sparse index points relative to the buffer's start.
 */
export class FrameStaging {
  buffer: Buffer;
  length = 0;
  firstCounter = 0;
  lastCounter = 0;
  lastArrivalMs = 0;
  readonly points: IndexPoint[] = [];

  constructor(
    capacity = MIN_STAGING_BYTES,
    private readonly pool?: StagingPool,
  ) {
    this.buffer = this.allocate(capacity);
  }

  private allocate(bytes: number): Buffer {
    return this.pool ? this.pool.allocate(bytes) : Buffer.allocUnsafe(bytes);
  }

  /** Appends one frame; the caller has validated the key and data sizes. */
  add(counter: number, arrivalMs: number, partitionKey: string, data: Uint8Array): void {
    const ascii = isShortAscii(partitionKey);
    const keyBytes = ascii ? partitionKey.length : Buffer.byteLength(partitionKey, 'utf8');
    const start = this.begin(counter, arrivalMs, keyBytes, data.byteLength);
    const buf = this.buffer;
    const keyStart = start + FRAME_HEADER_BYTES + BODY_FIXED_BYTES;
    if (ascii) for (let i = 0; i < keyBytes; i++) buf[keyStart + i] = partitionKey.charCodeAt(i);
    else buf.write(partitionKey, keyStart, keyBytes, 'utf8');
    copyBytes(buf, data, keyStart + keyBytes);
    this.end(start, counter, arrivalMs);
  }

  /**
   * Appends record `i` of `records` as one frame: its partition key (UTF-8) and data are byte
   * ranges of `records.bytes`; the caller has validated them.
   */
  addColumn(counter: number, arrivalMs: number, records: RecordColumns, i: number): void {
    const { bytes, spans } = records;
    const at = 4 * i;
    const keyStart = spans[at]!;
    const keyBytes = spans[at + 1]! - keyStart;
    const dataStart = spans[at + 2]!;
    const dataEnd = spans[at + 3]!;
    const start = this.begin(counter, arrivalMs, keyBytes, dataEnd - dataStart);
    const buf = this.buffer;
    const keyAt = start + FRAME_HEADER_BYTES + BODY_FIXED_BYTES;
    for (let k = 0; k < keyBytes; k++) buf[keyAt + k] = bytes[keyStart + k]!;
    copyBytes(buf, bytes.subarray(dataStart, dataEnd), keyAt + keyBytes);
    this.end(start, counter, arrivalMs);
  }

  /** Reserves a frame's room and writes its header and fixed fields; returns where it starts. */
  private begin(counter: number, arrivalMs: number, keyBytes: number, dataBytes: number): number {
    const bodyLength = BODY_FIXED_BYTES + keyBytes + dataBytes;
    const start = this.length;
    this.reserve(FRAME_HEADER_BYTES + bodyLength);
    const buf = this.buffer;
    const body = start + FRAME_HEADER_BYTES;
    buf.writeUInt32LE(bodyLength, start);
    buf.writeUInt32LE(counter % TWO_32, body);
    buf.writeUInt32LE(Math.floor(counter / TWO_32), body + 4);
    buf.writeDoubleLE(arrivalMs, body + 8);
    buf.writeUInt16LE(keyBytes, body + 16);
    this.length = body + bodyLength;
    return start;
  }

  /** Seals the frame begun at `start` (its checksum) and notes it for the group and the index. */
  private end(start: number, counter: number, arrivalMs: number): void {
    const body = start + FRAME_HEADER_BYTES;
    const buf = this.buffer;
    buf.writeUInt32LE(crc32(buf.subarray(body, this.length)), start + 4);
    if (start === 0) this.firstCounter = counter;
    this.lastCounter = counter;
    this.lastArrivalMs = arrivalMs;
    const lastPoint = this.points.at(-1);
    if (!lastPoint || start - lastPoint.offset >= INDEX_STEP_BYTES)
      this.points.push({ counter, arrivalMs, offset: start });
  }

  /** Hands the staged bytes and points to the writer and starts an empty buffer. */
  take(): StagedFrames {
    const taken = {
      bytes: this.buffer.subarray(0, this.length),
      points: this.points.splice(0),
      firstCounter: this.firstCounter,
      lastCounter: this.lastCounter,
      lastArrivalMs: this.lastArrivalMs,
    };
    // The old buffer now belongs to the write in flight; a fresh one takes the next frames.
    // Room for a group like this one and then some, so the next rarely grows (and copies).
    const wanted = stagingSize(Math.min(2 * this.length, 32 << 20));
    this.buffer = this.pool?.take(wanted) ?? this.allocate(wanted);
    this.length = 0;
    return taken;
  }

  /**
   * Makes room for `bytes` more: a larger buffer from the pool (or a new one) takes the frames so
   * far, and the smaller one goes back to the pool (nothing else refers to it before `take`).
   * Fresh shared memory is zeroed page by page as V8 allocates it: under bench:stream, growing
   * into new buffers was a fifth of the collector thread's page faults (issue 15).
   */
  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const size = stagingSize(Math.max(this.buffer.length * 2, this.length + bytes));
    const grown = this.pool?.take(size) ?? this.allocate(size);
    copyBytes(grown, this.buffer.subarray(0, this.length), 0);
    this.pool?.give(this.buffer);
    this.buffer = grown;
  }
}

/**
 * A staging buffer's size for `bytes`: a power of two from MIN_STAGING_BYTES, so the sizes
 * groups ask for are few and a buffer given back fits a later group (the pool takes the smallest
 * that fits).
 */
function stagingSize(bytes: number): number {
  let size = MIN_STAGING_BYTES;
  while (size < bytes) size *= 2;
  return size;
}
