/**
 * The line the flusher lands for each log record (docs/streaming.md, "Into the lake"): the
 * event's own JSON object with the record's metadata added (`_sequence_number`, `_shard_id`,
 * `_partition_key`, `_arrival_ts`). A record whose data is not a JSON object is landed too, as a
 * line of its metadata and reject marks (`_reject_reason`, `_reject_message`, `_reject_value`)
 * that processing sends to quarantine (src/quality/batch-reader.ts `marksRejects`): the raw zone
 * keeps everything, and one poison event never holds back the others.
 *
 * A line depends only on the record, never on when it is flushed, so a batch re-cut after a
 * crash from the same records has the same bytes (and the same id: flusher.ts batchIdOf).
 */
import type { LogRecord } from '../log.js';
import { copyBytes } from '../../core/bytes.js';
import { reservedNames, scanObject } from './object-scan.js';

/** The metadata fields every landed line carries; processing adds them to the contract. */
export const METADATA_FIELDS = [
  '_sequence_number',
  '_shard_id',
  '_partition_key',
  '_arrival_ts',
] as const;

/**
 * How deep an event may nest. Processing refuses a whole file nested deeper than 1000 levels
 * (src/quality/inspect.ts, DuckDB would crash), so a deeper event is quarantined alone instead.
 */
const MAX_EVENT_DEPTH = 900;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export type RejectReason = 'not_json' | 'not_object' | 'too_deep';

/** One record as its NDJSON line (newline included), and whether it was marked for quarantine. */
export interface LandedLine {
  text: string;
  rejected?: RejectReason;
}

/** One record's line as UTF-8 bytes (newline included), and whether it was marked for quarantine. */
export interface RenderedLine {
  bytes: Buffer;
  rejected?: RejectReason;
  /** The slab the line was cut from: give it back with `releaseLine` once the line is written. */
  slab?: LineSlab;
}

const RESERVED = reservedNames(METADATA_FIELDS);
const SPACE = 0x20;
const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** The last arrival time turned into text: a call's records share their arrival. */
let lastArrival = { ms: Number.NaN, iso: '' };

function arrivalText(ms: number): string {
  if (ms !== lastArrival.ms) lastArrival = { ms, iso: new Date(ms).toISOString() };
  return lastArrival.iso;
}

/** Lines are cut from slabs of this size (malloc'd from the thread's heap, not mapped afresh). */
const LINE_SLAB_BYTES = 64 * 1024;
/**
 * Slabs whose lines were all written, kept for the next lines: at most this many (128 MB). A
 * 64 MB batch's lines and those read ahead past it are in slabs at once, so the memory is held
 * at the peak anyway; a cap of 32 MB dropped half of them after each batch and the next batch's
 * lines faulted in fresh pages (flusher thread 61,500 → 40,000–52,000 page faults in 6 s of
 * bench:stream, issue 15).
 */
const SPARE_SLABS = 2048;

/** A slab lines are cut from, and how many of its lines are still to be written. */
export interface LineSlab {
  readonly buffer: Buffer;
  used: number;
  outstanding: number;
}

const spareSlabs: Buffer[] = [];
const newSlab = (): LineSlab => ({
  buffer: spareSlabs.pop() ?? Buffer.allocUnsafeSlow(LINE_SLAB_BYTES),
  used: 0,
  outstanding: 0,
});
let lineSlab = newSlab();

/**
 * Room for one line, cut from the current slab: a Buffer.allocUnsafe per line made Node's 8 KB
 * pool create a new ArrayBuffer every 7 lines (4% of the flusher thread under bench:stream,
 * issue 15). A slab lives while any of its lines waits for its batch; lines of one slab are
 * rendered together, so they are cut into batches together too. Once every line of a full slab
 * is written (`releaseLine`), the slab is reused: the copy of each event into a fresh slab was
 * the flusher's largest cost after the garbage collector, the kernel mapping and zeroing each
 * page as the copy first touched it (issue 15).
 */
function lineBuffer(bytes: number): { bytes: Buffer; slab?: LineSlab } {
  if (bytes > LINE_SLAB_BYTES / 8) return { bytes: Buffer.allocUnsafe(bytes) };
  let slab = lineSlab;
  if (slab.used + bytes > LINE_SLAB_BYTES) {
    const full = slab;
    lineSlab = slab = newSlab();
    if (full.outstanding === 0) spareSlab(full);
  }
  const line = slab.buffer.subarray(slab.used, slab.used + bytes);
  slab.used += bytes;
  slab.outstanding++;
  return { bytes: line, slab };
}

function spareSlab(slab: LineSlab): void {
  if (spareSlabs.length < SPARE_SLABS) spareSlabs.push(slab.buffer);
}

/**
 * Says a line cut from `slab` was written (copied out) and nothing reads it again. Call it once
 * per line, only then: the slab's memory goes to later lines once all of its lines are released.
 */
export function releaseLine(slab: LineSlab): void {
  if (--slab.outstanding === 0 && slab !== lineSlab) spareSlab(slab);
}

/**
 * A string as JSON text: quoted as it is when it holds only printable ASCII other than a quote
 * or a backslash (sequence numbers, shard ids, most partition keys), else JSON.stringify.
 */
function jsonString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return JSON.stringify(text);
  }
  return `"${text}"`;
}

/**
 * The line for one record as bytes: the same bytes as `lineOf`'s text. An event that is plainly
 * a JSON object (object-scan.ts says so without parsing it) is copied as it is with the metadata
 * spliced in before its closing brace; anything else takes `lineOf`.
 */
export function renderLine(record: LogRecord): RenderedLine {
  const data = record.data;
  const shape = scanObject(data, MAX_EVENT_DEPTH, RESERVED);
  if (!shape) {
    const line = lineOf(record);
    return { bytes: Buffer.from(line.text), ...(line.rejected ? { rejected: line.rejected } : {}) };
  }
  // As spliceFields: the object without its closing brace and the whitespace before it.
  let end = shape.close;
  while (isSpace(data[end - 1]!)) end--;
  const head = end - shape.open;
  const { sequenceNumber, shardId, partitionKey } = record;
  if (plainAscii(sequenceNumber) && plainAscii(shardId) && plainAscii(partitionKey)) {
    // The usual case, written byte by byte: building the suffix as a string and encoding it
    // (concatenation, flattening, byteLength and a native write per record) was a twentieth of
    // the flusher thread's time under bench:stream (issue 15).
    const arrival = arrivalText(record.arrivalMs);
    const first = shape.empty ? 1 : 0;
    const length =
      head +
      SUFFIX_FIXED_BYTES -
      first +
      sequenceNumber.length +
      shardId.length +
      partitionKey.length +
      arrival.length;
    const rendered = lineBuffer(length);
    const bytes = rendered.bytes;
    copyBytes(bytes, data.subarray(shape.open, end), 0);
    if (shape.lineBreaks) spaceLineBreaks(bytes, head);
    let at = writeAscii(bytes, head, K_SEQUENCE, first);
    at = writeAscii(bytes, at, sequenceNumber, 0);
    at = writeAscii(bytes, at, K_SHARD, 0);
    at = writeAscii(bytes, at, shardId, 0);
    at = writeAscii(bytes, at, K_KEY, 0);
    at = writeAscii(bytes, at, partitionKey, 0);
    at = writeAscii(bytes, at, K_ARRIVAL, 0);
    at = writeAscii(bytes, at, arrival, 0);
    writeAscii(bytes, at, K_END, 0);
    return rendered;
  }
  const suffix =
    `${shape.empty ? '' : ','}"_sequence_number":${jsonString(record.sequenceNumber)}` +
    `,"_shard_id":${jsonString(record.shardId)}` +
    `,"_partition_key":${jsonString(record.partitionKey)}` +
    `,"_arrival_ts":"${arrivalText(record.arrivalMs)}"}\n`;
  const rendered = lineBuffer(head + Buffer.byteLength(suffix));
  const bytes = rendered.bytes;
  copyBytes(bytes, data.subarray(shape.open, end), 0);
  if (shape.lineBreaks) spaceLineBreaks(bytes, head);
  bytes.write(suffix, head, 'utf8');
  return rendered;
}

/** Line breaks outside strings are whitespace (inside they must be escaped): one line. */
function spaceLineBreaks(bytes: Buffer, head: number): void {
  for (let i = 0; i < head; i++) if (bytes[i] === 0x0a || bytes[i] === 0x0d) bytes[i] = SPACE;
}

/** The metadata's text between its values, as renderLine's suffix (the first comma optional). */
const K_SEQUENCE = ',"_sequence_number":"';
const K_SHARD = '","_shard_id":"';
const K_KEY = '","_partition_key":"';
const K_ARRIVAL = '","_arrival_ts":"';
const K_END = '"}\n';
const SUFFIX_FIXED_BYTES =
  K_SEQUENCE.length + K_SHARD.length + K_KEY.length + K_ARRIVAL.length + K_END.length;

/** Whether a string is JSON text as it is between quotes: printable ASCII, no quote or backslash. */
function plainAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** Writes `text` (ASCII) from its character `from` at `at`; returns where the next byte goes. */
function writeAscii(bytes: Buffer, at: number, text: string, from: number): number {
  for (let i = from; i < text.length; i++) bytes[at++] = text.charCodeAt(i);
  return at;
}

/** The line for one record (the general path: any data, JSON.parse to tell what it is). */
export function lineOf(record: LogRecord): LandedLine {
  const metadata = metadataOf(record);
  let text: string;
  try {
    text = utf8.decode(record.data);
  } catch {
    return rejectLine(metadata, 'not_json', 'record is not UTF-8 text', {
      base64: record.data.toString('base64'),
    });
  }
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch (err) {
    return rejectLine(metadata, 'not_json', `record is not JSON: ${(err as Error).message}`, {
      text,
    });
  }
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    const kind = event === null ? 'null' : Array.isArray(event) ? 'an array' : typeof event;
    return rejectLine(metadata, 'not_object', `record is JSON ${kind}, not an object`, { text });
  }
  if (depthOf(text) > MAX_EVENT_DEPTH) {
    return rejectLine(metadata, 'too_deep', `record nests deeper than ${MAX_EVENT_DEPTH} levels`, {
      text,
    });
  }
  const clash = METADATA_FIELDS.filter((f) => Object.hasOwn(event, f));
  if (clash.length) {
    // The event has a field of the metadata's name: the log's value wins (it is what the
    // lake's exactly-once promise is about); one object keeps the line free of duplicate keys.
    return { text: `${JSON.stringify({ ...event, ...metadata })}\n` };
  }
  return { text: `${spliceFields(text, metadata)}\n` };
}

function metadataOf(record: LogRecord): Record<(typeof METADATA_FIELDS)[number], string> {
  return {
    _sequence_number: record.sequenceNumber,
    _shard_id: record.shardId,
    _partition_key: record.partitionKey,
    _arrival_ts: new Date(record.arrivalMs).toISOString(),
  };
}

/**
 * Adds fields to the event's own text rather than re-serialising it, so nothing is changed on
 * the way (a JSON.parse round trip would round integers above 2^53). Line
 * breaks outside strings are whitespace in valid JSON (inside strings they must be escaped), so a
 * pretty-printed event becomes one line by replacing them.
 */
function spliceFields(text: string, fields: Record<string, string>): string {
  const body = text.trim().replace(/[\r\n]/g, ' ');
  const open = body.slice(0, -1).trimEnd();
  const added = Object.entries(fields)
    .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
    .join(',');
  return `${open}${open === '{' ? '' : ','}${added}}`;
}

function rejectLine(
  metadata: Record<string, string>,
  reason: RejectReason,
  message: string,
  value: { text: string } | { base64: string },
): LandedLine {
  const line = {
    ...metadata,
    _reject_reason: reason,
    _reject_message: message,
    _reject_value: 'text' in value ? value.text : `base64:${value.base64}`,
  };
  return { text: `${JSON.stringify(line)}\n`, rejected: reason };
}

/** The deepest nesting of objects and arrays in JSON text (strings skipped). */
function depthOf(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) deepest = Math.max(deepest, ++depth);
    else if (c === 125 || c === 93) depth--;
  }
  return deepest;
}
