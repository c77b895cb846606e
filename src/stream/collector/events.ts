/**
 * `POST /api/events/<stream>` (or `POST /api/events?stream=<stream>`): events for browsers and
 * curl, as NDJSON (`application/x-ndjson`, one JSON value per line) or JSON
 * (`application/json`: an array of events, or one event). Every event becomes one record; its
 * partition key is the event's field named by `?partition_key=<field>`, or a random one (spreading
 * events over the shards). The whole body is checked before anything is appended, so a bad line
 * refuses the request and nothing of it is in the log: the sender fixes it and sends it again.
 */
import { randomUUID } from 'node:crypto';
import type { RecordInput, StreamLog } from '../log.js';
import { TributaryError } from '../../core/index.js';
import { KINESIS_LIMITS } from './kinesis.js';

/** At most this many events per request. */
export const MAX_EVENTS_PER_REQUEST = 10_000;

/** A refusal of /api/events, answered as `{ error: { code, message, hint } }`. */
export class EventsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }

  body() {
    return {
      error: { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) },
    };
  }
}

const NDJSON_TYPES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl']);

/** The events of a body: each one's bytes as stored and its parsed value (for the key field). */
interface ParsedEvent {
  data: Buffer;
  value: unknown;
  /** 1-based line (NDJSON) or array index + 1 (JSON), for messages. */
  at: string;
}

/** Splits and checks a body by its content type. */
export function parseEvents(contentType: string | undefined, body: Buffer): ParsedEvent[] {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  let events: ParsedEvent[];
  if (NDJSON_TYPES.has(media)) events = parseNdjson(body);
  else if (media === 'application/json') events = parseJsonArray(body);
  else
    throw new EventsError(
      415,
      'USAGE',
      `Content-Type ${media || '(none)'} is not accepted for events`,
      'send application/x-ndjson (one JSON event per line) or application/json (an array of events, or one event)',
    );
  if (events.length === 0)
    throw new EventsError(400, 'INPUT', 'the body holds no events', 'send at least one JSON event');
  if (events.length > MAX_EVENTS_PER_REQUEST)
    throw new EventsError(
      400,
      'INPUT',
      `the body holds ${events.length} events; at most ${MAX_EVENTS_PER_REQUEST} are taken per request`,
      'split the events over several requests',
    );
  return events;
}

function parseNdjson(body: Buffer): ParsedEvent[] {
  const events: ParsedEvent[] = [];
  let start = 0;
  let line = 0;
  while (start <= body.length) {
    let end = body.indexOf(10, start);
    if (end < 0) end = body.length;
    line++;
    let stop = end;
    if (stop > start && body[stop - 1] === 13) stop--;
    const data = body.subarray(start, stop);
    start = end + 1;
    if (data.length === 0 || /^\s*$/.test(data.toString('latin1'))) continue;
    let value: unknown;
    try {
      value = JSON.parse(data.toString('utf8'));
    } catch (err) {
      throw new EventsError(
        400,
        'INPUT',
        `line ${line} is not JSON: ${(err as Error).message}`,
        'each line of an NDJSON body must be one JSON event; nothing of this request was taken',
      );
    }
    events.push({ data, value, at: `line ${line}` });
  }
  return events;
}

function parseJsonArray(body: Buffer): ParsedEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new EventsError(
      400,
      'INPUT',
      `the body is not JSON: ${(err as Error).message}`,
      'send a JSON array of events, or NDJSON as application/x-ndjson',
    );
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  return list.map((value, i) => ({
    data: Buffer.from(JSON.stringify(value)),
    value,
    at: `event ${i + 1}`,
  }));
}

/** The records for the events: each event's bytes, keyed by `keyField` or at random. */
export function recordsOf(events: ParsedEvent[], keyField: string | undefined): RecordInput[] {
  return events.map(({ data, value, at }) => {
    if (data.length > KINESIS_LIMITS.recordBytes)
      throw new EventsError(
        400,
        'INPUT',
        `${at} is ${data.length} bytes; an event may be at most ${KINESIS_LIMITS.recordBytes} bytes (1 MiB)`,
        'nothing of this request was taken',
      );
    if (keyField === undefined) return { partitionKey: randomUUID(), data };
    const key =
      value !== null && typeof value === 'object'
        ? (value as Record<string, unknown>)[keyField]
        : undefined;
    const text =
      typeof key === 'string' || typeof key === 'number' || typeof key === 'boolean'
        ? String(key)
        : '';
    if (text.length < 1 || text.length > KINESIS_LIMITS.partitionKeyChars)
      throw new EventsError(
        400,
        'INPUT',
        `${at} has no usable partition key field ${keyField} (it must be a string, number or boolean of 1 to 256 characters)`,
        'give every event the field, or leave out ?partition_key for random keys; nothing of this request was taken',
      );
    return { partitionKey: text, data };
  });
}

/** Appends the records and reports each one's sequence number or failure. */
export async function appendEvents(log: StreamLog, stream: string, records: RecordInput[]) {
  let outcomes;
  try {
    outcomes = await log.append(stream, records);
  } catch (err) {
    const code = err instanceof TributaryError ? String(err.code) : 'INTERNAL';
    const message = err instanceof Error ? err.message : String(err);
    if (code === 'NOT_FOUND')
      throw new EventsError(
        404,
        'NOT_FOUND',
        `no stream ${stream}`,
        'streams are listed under stream.streams in tributary.yml',
      );
    if (code === 'UNAVAILABLE')
      throw new EventsError(
        503,
        'UNAVAILABLE',
        `the log cannot take events now: ${message}`,
        'send them again later',
      );
    if (code === 'INPUT') throw new EventsError(400, 'INPUT', message);
    throw new EventsError(500, 'INTERNAL', `the log failed: ${message}`);
  }
  const failed = outcomes.filter((o) => !o.ok).length;
  return {
    status: failed === 0 ? 200 : failed === outcomes.length ? 503 : 207,
    body: {
      stream,
      accepted: outcomes.length - failed,
      failed,
      records: outcomes.map((o) =>
        o.ok
          ? { shardId: o.shardId, sequenceNumber: o.sequenceNumber }
          : { error: o.code, message: o.message },
      ),
    },
  };
}
