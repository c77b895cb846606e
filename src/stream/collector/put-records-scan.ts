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
 * With `inPlace` (for a log that copies records as it takes them, `StreamLog.copiesOnAppend`),
 * each Data text is decoded over its own bytes in the body (the decoded bytes are fewer and start
 * where the text did), and the records' data are views of the body: no buffer per record (a
 * Buffer.from per 1 KB record drew a new 8 KB ArrayBuffer from Node's pool every 8 records,
 * issue 15) and no copy of the data before the log's. Should the scan give up after decoding some
 * texts, they are written back, so the general path reads the body as it was sent: from a copy of
 * the body's bytes from the first decoded text on, taken (into one reused buffer outside the JS
 * heap) before that text is decoded. Keeping each text's string for that instead held all of a
 * request's base64 strings (~700 KB) alive through the scan, so the scavenges that the scan's
 * own allocations trigger copied them, and promoted some (issue 15, GC on the main thread).
 */
import type { RecordInput } from '../log.js';

/** A PutRecords body read by the fast path. */
export interface ScannedPutRecords {
  streamName: string;
  records: RecordInput[];
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

/**
 * The body's bytes from the first text decoded in place on, as sent (Scanner.restore). One buffer
 * for every scan: a scan runs synchronously from start to end, so no two use it at once.
 */
let original = Buffer.alloc(0);

/** Cursor over the body; every step returns false (give up) on anything unexpected. */
class Scanner {
  pos = 0;
  /** Where the first text decoded in place starts (-1: none yet); `original` holds the rest. */
  decodedFrom = -1;
  constructor(
    readonly raw: Buffer,
    readonly inPlace: boolean,
  ) {}

  /**
   * The base64 Data text at [start, end) decoded (over itself when `inPlace`); undefined unless
   * its length and decoded length show it is all base64.
   */
  base64(start: number, end: number): Buffer | undefined {
    const raw = this.raw;
    const length = end - start;
    const padding = raw[end - 1] === EQUALS ? (raw[end - 2] === EQUALS && length > 1 ? 2 : 1) : 0;
    const text = raw.toString('latin1', start, end);
    let data: Buffer;
    if (this.inPlace) {
      if (this.decodedFrom < 0) this.keepOriginal(start);
      data = raw.subarray(start, start + raw.write(text, start, length, 'base64'));
    } else data = Buffer.from(text, 'base64');
    return length % 4 === 0 && data.length === (length / 4) * 3 - padding ? data : undefined;
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

  /** The [start, end) of a string's bytes, without escapes; undefined otherwise. */
  rawString(): [number, number] | undefined {
    if (!this.take(QUOTE)) return undefined;
    const start = this.pos;
    const end = this.raw.indexOf(QUOTE, start);
    if (end < 0) return undefined;
    this.pos = end + 1;
    return [start, end];
  }

  /** A string with no escape and no control character, decoded as UTF-8 as JSON.parse would. */
  plainString(): string | undefined {
    const span = this.rawString();
    if (!span) return undefined;
    for (let i = span[0]; i < span[1]; i++) {
      const c = this.raw[i]!;
      if (c === BACKSLASH || c < 0x20) return undefined;
    }
    return this.raw.toString('utf8', span[0], span[1]);
  }

  /** A member name followed by its colon. */
  key(): string | undefined {
    const name = this.plainString();
    return name !== undefined && this.take(COLON) ? name : undefined;
  }
}

/**
 * One record entry with exactly PartitionKey and Data, passing the plain checks: a key of 1–256
 * characters, Data whose length and decoded length show it is all base64 (a backslash, control
 * or non-ASCII byte is not, so an escaped text never passes), record within 1 MiB.
 */
function scanRecord(s: Scanner): RecordInput | undefined {
  if (!s.take(OPEN_OBJECT)) return undefined;
  let partitionKey: string | undefined;
  let data: Buffer | undefined;
  for (let member = 0; member < 2; member++) {
    if (member > 0 && !s.take(COMMA)) return undefined;
    const name = s.key();
    if (name === 'PartitionKey' && partitionKey === undefined) {
      partitionKey = s.plainString();
      if (partitionKey === undefined) return undefined;
    } else if (name === 'Data' && data === undefined) {
      const span = s.rawString();
      if (!span) return undefined;
      data = s.base64(span[0], span[1]);
      if (!data) return undefined;
    } else return undefined;
  }
  if (!s.take(CLOSE_OBJECT) || partitionKey === undefined || data === undefined) return undefined;
  if (partitionKey.length < 1 || partitionKey.length > 256) return undefined;
  if (data.length + Buffer.byteLength(partitionKey) > 1024 * 1024) return undefined;
  return { partitionKey, data };
}

/** The Records array: 1–`maxRecords` plain entries. */
function scanRecords(s: Scanner, maxRecords: number): RecordInput[] | undefined {
  if (!s.take(OPEN_ARRAY)) return undefined;
  const records: RecordInput[] = [];
  do {
    const record = scanRecord(s);
    if (!record || records.length === maxRecords) return undefined;
    records.push(record);
  } while (s.take(COMMA));
  return s.take(CLOSE_ARRAY) ? records : undefined;
}

/**
 * Reads a plain PutRecords body from its bytes; undefined when the general path must read it
 * (the body then holds the bytes it was sent with). `inPlace`: decode Data over the body (above).
 */
export function scanPutRecords(
  raw: Buffer,
  maxRecords: number,
  inPlace = false,
): ScannedPutRecords | undefined {
  const s = new Scanner(raw, inPlace);
  const scanned = scanBody(s, maxRecords);
  if (!scanned) s.restore();
  return scanned;
}

function scanBody(s: Scanner, maxRecords: number): ScannedPutRecords | undefined {
  if (!s.take(OPEN_OBJECT)) return undefined;
  let streamName: string | undefined;
  let records: RecordInput[] | undefined;
  for (let member = 0; member < 2; member++) {
    if (member > 0 && !s.take(COMMA)) return undefined;
    const name = s.key();
    if (name === 'StreamName' && streamName === undefined) {
      streamName = s.plainString();
      if (streamName === undefined) return undefined;
    } else if (name === 'Records' && records === undefined) {
      records = scanRecords(s, maxRecords);
      if (records === undefined) return undefined;
    } else return undefined;
  }
  if (!s.take(CLOSE_OBJECT) || s.peek() !== -1) return undefined;
  if (streamName === undefined || records === undefined) return undefined;
  let total = 0;
  for (const record of records)
    total += record.data.length + Buffer.byteLength(record.partitionKey);
  return { streamName, records, total };
}
