/**
 * A fast path for the common PutRecords body: `{"StreamName": "...", "Records": [{"PartitionKey":
 * "...", "Data": "<base64>"}, ...]}` (members in any order, JSON whitespace allowed), read straight
 * from the request's bytes. Decoding the whole body to one string and JSON.parse-ing it was a
 * sixth of the collector's CPU per event (profiled under bench/collector.ts); here each Data text
 * is sliced from the buffer and base64-decoded, and no string of the whole body is made.
 *
 * It only ever answers for bodies JSON.parse would read to the same value: anything else (an
 * escape or control character in a key or stream name, another member, a duplicate member, a
 * record the plain checks do not settle, malformed JSON) gives undefined and the request takes
 * the general path, which gives the error Kinesis would.
 *
 * Each Data text is decoded over its own bytes in the body (the decoded bytes are fewer and start
 * where the text did), and the records come out as columns (`RecordColumns`): byte ranges of the
 * body for each partition key and data, no object or string per record (issue 15: a request's
 * ~3,000 objects lived until its answer, and the young generation's scavenges copied and promoted
 * them). A log with `appendColumns` takes them as they are; `recordInputsOf` turns them into
 * `RecordInput`s for any other log. Should the scan give up after decoding some
 * texts, they are written back, so the general path reads the body as it was sent: from a copy of
 * the body's bytes from the first decoded text on, taken (into one reused buffer outside the JS
 * heap) before that text is decoded. Keeping each text's string for that instead held all of a
 * request's base64 strings (~700 KB) alive through the scan, so the scavenges that the scan's
 * own allocations trigger copied them, and promoted some (issue 15, GC on the main thread).
 */
import { isUtf8 } from 'node:buffer';
import type { RecordColumns, RecordInput } from '../log.js';

/** A PutRecords body read by the fast path. */
export interface ScannedPutRecords {
  streamName: string;
  /** The records: key and data ranges of the body (the data decoded in place). */
  columns: RecordColumns;
  /** Bytes of data and partition keys (the 5 MiB request limit counts them). */
  total: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const EQUALS = 0x3d;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** The member names the fast path reads, as bytes (compared without making a string). */
const MEMBER_NAMES = ['StreamName', 'Records', 'PartitionKey', 'Data'] as const;
type MemberName = (typeof MEMBER_NAMES)[number];
const MEMBER_BYTES = MEMBER_NAMES.map((name) => Buffer.from(name));

/** A Kinesis partition key is 1 to 256 characters. */
const MAX_KEY_CHARACTERS = 256;

/**
 * The body's bytes from the first text decoded in place on, as sent (Scanner.restore). One buffer
 * for every scan: a scan runs synchronously from start to end, so no two use it at once.
 */
let original = Buffer.alloc(0);
/** Record spans as they are found (4 per record), copied out at the end: one scratch for every scan. */
let scratch = new Int32Array(4 * 500);

/** Cursor over the body; every step returns false (give up) on anything unexpected. */
class Scanner {
  pos = 0;
  /** Where the first text decoded in place starts (-1: none yet); `original` holds the rest. */
  decodedFrom = -1;
  constructor(readonly raw: Buffer) {}

  /**
   * Decodes the base64 Data text at [start, end) over itself; returns the decoded length, or -1
   * unless its length and decoded length show it is all base64.
   */
  base64(start: number, end: number): number {
    const raw = this.raw;
    const length = end - start;
    const padding = raw[end - 1] === EQUALS ? (raw[end - 2] === EQUALS && length > 1 ? 2 : 1) : 0;
    const text = raw.toString('latin1', start, end);
    if (this.decodedFrom < 0) this.keepOriginal(start);
    const decoded = raw.write(text, start, length, 'base64');
    return length % 4 === 0 && decoded === (length / 4) * 3 - padding ? decoded : -1;
  }

  /** Copies the body's bytes from `start` on into `original`, before anything there is decoded. */
  private keepOriginal(start: number): void {
    const bytes = this.raw.length - start;
    if (original.length < bytes) original = Buffer.allocUnsafeSlow(Math.max(bytes, 64 * 1024));
    this.raw.copy(original, 0, start);
    this.decodedFrom = start;
  }

  /** Writes the decoded texts back as they were. */
  restore(): void {
    if (this.decodedFrom < 0) return;
    original.copy(this.raw, this.decodedFrom, 0, this.raw.length - this.decodedFrom);
    this.decodedFrom = -1;
  }

  /** Skips JSON whitespace; returns the next byte (or -1 at the end) without taking it. */
  peek(): number {
    const raw = this.raw;
    let pos = this.pos;
    while (pos < raw.length) {
      const c = raw[pos]!;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      pos++;
    }
    this.pos = pos;
    return pos < raw.length ? raw[pos]! : -1;
  }

  take(byte: number): boolean {
    if (this.peek() !== byte) return false;
    this.pos++;
    return true;
  }

  /**
   * Takes a string up to the next quote, unchecked (for Data: the base64 check refuses an escape
   * or control character); returns the start of its bytes and leaves `this.pos` after its
   * closing quote (its bytes end at `this.pos - 1`), or -1.
   */
  rawSpan(): number {
    if (!this.take(QUOTE)) return -1;
    const start = this.pos;
    const end = this.raw.indexOf(QUOTE, start);
    if (end < 0) return -1;
    this.pos = end + 1;
    return start;
  }

  /** `rawSpan` of a string with no escape and no control character, else -1. */
  plainSpan(): number {
    const start = this.rawSpan();
    if (start < 0) return -1;
    for (let i = start; i < this.pos - 1; i++) {
      const c = this.raw[i]!;
      if (c === BACKSLASH || c < 0x20) return -1;
    }
    return start;
  }

  /** A plain string decoded as UTF-8, as JSON.parse would read it. */
  plainString(): string | undefined {
    const start = this.plainSpan();
    return start < 0 ? undefined : this.raw.toString('utf8', start, this.pos - 1);
  }

  /** A member name the fast path knows, followed by its colon; undefined for anything else. */
  key(): MemberName | undefined {
    const start = this.plainSpan();
    if (start < 0) return undefined;
    const end = this.pos - 1;
    const index = MEMBER_BYTES.findIndex((name) => sameBytes(name, this.raw, start, end));
    return index >= 0 && this.take(COLON) ? MEMBER_NAMES[index] : undefined;
  }
}

function sameBytes(name: Buffer, raw: Buffer, start: number, end: number): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (raw[start + i] !== name[i]) return false;
  return true;
}

/**
 * The characters (UTF-16 code units, as JavaScript and JSON.parse count them) of the partition
 * key at [start, end), or -1 when its bytes are not UTF-8 (the general path then reads it as
 * JSON.parse would, with replacement characters).
 */
function keyCharacters(raw: Buffer, start: number, end: number): number {
  let ascii = true;
  for (let i = start; i < end && ascii; i++) ascii = raw[i]! < 0x80;
  if (ascii) return end - start;
  return isUtf8(raw.subarray(start, end)) ? raw.toString('utf8', start, end).length : -1;
}

/**
 * One record entry with exactly PartitionKey and Data, passing the plain checks: a key of 1–256
 * characters, Data whose length and decoded length show it is all base64 (a backslash, control
 * or non-ASCII byte is not, so an escaped text never passes), record within 1 MiB. Writes its
 * four offsets at `spans[at..at+3]`; false to give up.
 */
function scanRecord(s: Scanner, spans: Int32Array, at: number): boolean {
  if (!s.take(OPEN_OBJECT)) return false;
  let keyStart = -1;
  let dataStart = -1;
  for (let member = 0; member < 2; member++) {
    if (member > 0 && !s.take(COMMA)) return false;
    const name = s.key();
    if (name === 'PartitionKey' && keyStart < 0) {
      keyStart = s.plainSpan();
      if (keyStart < 0) return false;
      spans[at] = keyStart;
      spans[at + 1] = s.pos - 1;
    } else if (name === 'Data' && dataStart < 0) {
      dataStart = s.rawSpan();
      if (dataStart < 0) return false;
      const decoded = s.base64(dataStart, s.pos - 1);
      if (decoded < 0) return false;
      spans[at + 2] = dataStart;
      spans[at + 3] = dataStart + decoded;
    } else return false;
  }
  if (!s.take(CLOSE_OBJECT) || keyStart < 0 || dataStart < 0) return false;
  const characters = keyCharacters(s.raw, spans[at]!, spans[at + 1]!);
  if (characters < 1 || characters > MAX_KEY_CHARACTERS) return false;
  return spans[at + 3]! - dataStart + spans[at + 1]! - keyStart <= 1024 * 1024;
}

/** The Records array: 1–`maxRecords` plain entries, as columns. */
function scanRecords(s: Scanner, maxRecords: number): RecordColumns | undefined {
  if (!s.take(OPEN_ARRAY)) return undefined;
  if (scratch.length < 4 * maxRecords) scratch = new Int32Array(4 * maxRecords);
  let count = 0;
  do {
    if (count === maxRecords || !scanRecord(s, scratch, 4 * count)) return undefined;
    count++;
  } while (s.take(COMMA));
  if (!s.take(CLOSE_ARRAY)) return undefined;
  return { count, bytes: s.raw, spans: scratch.slice(0, 4 * count) };
}

/**
 * Reads a plain PutRecords body from its bytes, decoding each Data text over itself; undefined
 * when the general path must read it (the body then holds the bytes it was sent with).
 */
export function scanPutRecords(raw: Buffer, maxRecords: number): ScannedPutRecords | undefined {
  const s = new Scanner(raw);
  const scanned = scanBody(s, maxRecords);
  if (!scanned) s.restore();
  return scanned;
}

function scanBody(s: Scanner, maxRecords: number): ScannedPutRecords | undefined {
  if (!s.take(OPEN_OBJECT)) return undefined;
  let streamName: string | undefined;
  let columns: RecordColumns | undefined;
  for (let member = 0; member < 2; member++) {
    if (member > 0 && !s.take(COMMA)) return undefined;
    const name = s.key();
    if (name === 'StreamName' && streamName === undefined) {
      streamName = s.plainString();
      if (streamName === undefined) return undefined;
    } else if (name === 'Records' && columns === undefined) {
      columns = scanRecords(s, maxRecords);
      if (columns === undefined) return undefined;
    } else return undefined;
  }
  if (!s.take(CLOSE_OBJECT) || s.peek() !== -1) return undefined;
  if (streamName === undefined || columns === undefined) return undefined;
  let total = 0;
  const { spans } = columns;
  for (let at = 0; at < spans.length; at += 4)
    total += spans[at + 1]! - spans[at]! + spans[at + 3]! - spans[at + 2]!;
  return { streamName, columns, total };
}

/**
 * The columns as `RecordInput`s, for a log without `appendColumns`. With `copy`, each record's
 * data is a buffer of its own (for a log that keeps the data past the call, `copiesOnAppend`
 * unset); otherwise a view of the body.
 */
export function recordInputsOf(columns: RecordColumns, copy: boolean): RecordInput[] {
  const { bytes, spans, count } = columns;
  const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records = new Array<RecordInput>(count);
  for (let i = 0; i < count; i++) {
    const at = 4 * i;
    const data = body.subarray(spans[at + 2]!, spans[at + 3]!);
    records[i] = {
      partitionKey: body.toString('utf8', spans[at]!, spans[at + 1]!),
      data: copy ? Buffer.from(data) : data,
    };
  }
  return records;
}
