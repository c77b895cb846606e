/**
 * The Kinesis Data Streams operations (`X-Amz-Target: Kinesis_20131202.<Op>`) on a StreamLog:
 * PutRecord, PutRecords, CreateStream, DeleteStream, ListStreams, DescribeStream,
 * DescribeStreamSummary, ListShards, GetShardIterator and GetRecords, with the request limits,
 * response members and errors of the Kinesis API reference, so an unchanged SDK (and KPL-style
 * libraries that describe the stream and list its shards first) work against Tributary.
 */
import type { RecordInput, StreamDescription, StreamLog } from '../log.js';
import { hashKeyOf, parseExplicitHashKey, shardForHashKey } from '../shards.js';
import { AwsError, awsErrorOf, validationError } from './errors.js';
import { arrayField, blobField, integerField, objectAt, stringField, type Body } from './input.js';
import {
  appendOrThrow,
  describeOrThrow,
  failedEntry,
  STREAM_NAME,
  streamArn,
  streamNameOf,
  type KinesisContext,
  type Operation,
} from './kinesis-common.js';
import { putColumns, type AnswerBuffer } from './put-records-columns.js';
import { recordInputsOf, type ScannedPutRecords } from './put-records-scan.js';
import { readRecords, shardIteratorFor } from './kinesis-read.js';

const EXPLICIT_HASH_KEY = /^(0|[1-9]\d{0,38})$/;
/** New streams keep records a day, as Kinesis's default retention. */
const DEFAULT_RETENTION_MS = 24 * 3600_000;

/** Kinesis's limits (API reference, PutRecords and PutRecord). */
export const KINESIS_LIMITS = {
  recordsPerRequest: 500,
  requestBytes: 5 * 1024 * 1024,
  recordBytes: 1024 * 1024,
  partitionKeyChars: 256,
} as const;

/**
 * The common record, checked without building messages: a partition key of 1–256 characters,
 * base64 Data within the limits, no ExplicitHashKey. Anything else (or anything wrong) goes the
 * slow way, which names the member. Returns undefined when the fast checks do not settle it.
 */
function plainRecordOf(entry: unknown): RecordInput | undefined {
  if (entry === null || typeof entry !== 'object') return undefined;
  const { PartitionKey: partitionKey, Data: text, ExplicitHashKey } = entry as Body;
  if (ExplicitHashKey !== undefined || typeof partitionKey !== 'string' || typeof text !== 'string')
    return undefined;
  if (partitionKey.length < 1 || partitionKey.length > KINESIS_LIMITS.partitionKeyChars)
    return undefined;
  const data = Buffer.from(text, 'base64');
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  if (text.length % 4 !== 0 || data.length !== (text.length / 4) * 3 - padding) return undefined;
  if (data.length + Buffer.byteLength(partitionKey) > KINESIS_LIMITS.recordBytes) return undefined;
  return { partitionKey, data };
}

/** One PutRecords entry (or the PutRecord body) checked and decoded; `path` names it in errors. */
export function recordInputOf(entry: Body, path: string): RecordInput {
  const partitionKey = stringField(entry, 'PartitionKey', {
    required: true,
    min: 1,
    max: KINESIS_LIMITS.partitionKeyChars,
    path: `${path}partitionKey`,
  })!;
  const data = blobField(entry, 'Data', `${path}data`);
  if (data.length > KINESIS_LIMITS.recordBytes)
    throw validationError(
      `${path}data`,
      `Member must have length less than or equal to ${KINESIS_LIMITS.recordBytes}`,
    );
  if (data.length + Buffer.byteLength(partitionKey) > KINESIS_LIMITS.recordBytes)
    throw new AwsError(
      'InvalidArgumentException',
      `Record at '${path.replace(/\.$/, '')}' is ${data.length + Buffer.byteLength(partitionKey)} bytes with its partition key; the limit is ${KINESIS_LIMITS.recordBytes} (1 MiB).`,
    );
  const explicitHashKey = stringField(entry, 'ExplicitHashKey', {
    pattern: EXPLICIT_HASH_KEY,
    path: `${path}explicitHashKey`,
  });
  if (explicitHashKey !== undefined && parseExplicitHashKey(explicitHashKey) === undefined)
    throw new AwsError(
      'InvalidArgumentException',
      `Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was ${explicitHashKey}`,
    );
  return explicitHashKey === undefined
    ? { partitionKey, data }
    : { partitionKey, data, explicitHashKey };
}

/** The shard a failed record would have gone to, for the error message. */
async function shardOfFailed(log: StreamLog, stream: string, record: RecordInput): Promise<string> {
  const described = await log.describeStream(stream).catch(() => undefined);
  if (!described) return 'unknown';
  const key =
    record.explicitHashKey !== undefined
      ? parseExplicitHashKey(record.explicitHashKey)!
      : hashKeyOf(record.partitionKey);
  return described.shards[shardForHashKey(key, described.shards.length)]?.shardId ?? 'unknown';
}

const putRecords: Operation = (ctx, body) => {
  const stream = streamNameOf(body);
  const entries = arrayField(body, 'Records', 1, KINESIS_LIMITS.recordsPerRequest);
  const records: RecordInput[] = new Array<RecordInput>(entries.length);
  let total = 0;
  for (let i = 0; i < entries.length; i++) {
    const record =
      plainRecordOf(entries[i]) ??
      recordInputOf(objectAt(entries[i], `records.${i + 1}`), `records.${i + 1}.member.`);
    total += record.data.length + Buffer.byteLength(record.partitionKey);
    records[i] = record;
  }
  // The base64 texts are dropped before the append waits for fsync, so the collector's garbage
  // dies young instead of being promoted while the request waits.
  delete body.Records;
  entries.length = 0;
  return appendRecords(ctx, stream, records, total);
};

/**
 * PutRecords of a body the fast path read (put-records-scan.ts): the same checks and answer. A
 * log that takes columns answers with the answer's bytes (written into `take`'s buffer).
 */
export function putScannedRecords(
  ctx: KinesisContext,
  scanned: ScannedPutRecords,
  take: AnswerBuffer,
): Promise<Buffer | object> {
  const stream = streamNameOf({ StreamName: scanned.streamName });
  const { log } = ctx;
  if (log.appendColumns) {
    if (scanned.total > KINESIS_LIMITS.requestBytes) throw tooLarge(scanned.total);
    return putColumns((name, columns) => log.appendColumns!(name, columns), stream, scanned, take);
  }
  // appendRecords checks the request's size, as for any PutRecords.
  const records = recordInputsOf(scanned.columns, log.copiesOnAppend !== true);
  return appendRecords(ctx, stream, records, scanned.total);
}

const tooLarge = (total: number) =>
  new AwsError(
    'InvalidArgumentException',
    `Records size exceeds 5 MB limit: the request's records and partition keys are ${total} bytes (limit ${KINESIS_LIMITS.requestBytes}).`,
  );

/** Appends a PutRecords request's decoded records and answers with Kinesis's per-record results. */
async function appendRecords(
  { log }: KinesisContext,
  stream: string,
  records: RecordInput[],
  total: number,
) {
  if (total > KINESIS_LIMITS.requestBytes) throw tooLarge(total);
  const outcomes = await appendOrThrow(log, stream, records);
  let failed = 0;
  const results: unknown[] = new Array<unknown>(outcomes.length);
  for (let i = 0; i < outcomes.length; i++) {
    const outcome = outcomes[i]!;
    if (outcome.ok)
      results[i] = { SequenceNumber: outcome.sequenceNumber, ShardId: outcome.shardId };
    else {
      failed++;
      results[i] = failedEntry(outcome, stream, await shardOfFailed(log, stream, records[i]!));
    }
  }
  return { FailedRecordCount: failed, Records: results, EncryptionType: 'NONE' };
}

const putRecord: Operation = async ({ log }, body) => {
  const stream = streamNameOf(body);
  const record = recordInputOf(body, '');
  const [outcome] = await appendOrThrow(log, stream, [record]);
  if (!outcome)
    throw new AwsError(
      'InternalFailure',
      'Internal Service Failure: the log returned no outcome',
      500,
    );
  if (!outcome.ok) {
    const entry = failedEntry(outcome, stream, await shardOfFailed(log, stream, record));
    throw new AwsError(
      entry.ErrorCode,
      entry.ErrorMessage,
      entry.ErrorCode === 'InternalFailure' ? 500 : 400,
    );
  }
  return {
    ShardId: outcome.shardId,
    SequenceNumber: outcome.sequenceNumber,
    EncryptionType: 'NONE',
  };
};

const createStream: Operation = async ({ log, defaultShards }, body) => {
  const stream = stringField(body, 'StreamName', {
    required: true,
    min: 1,
    max: 128,
    pattern: STREAM_NAME,
  })!;
  const shards = integerField(body, 'ShardCount', 1, 100_000) ?? defaultShards;
  try {
    await log.createStream(stream, { shards, maxAgeMs: DEFAULT_RETENTION_MS });
  } catch (err) {
    throw awsErrorOf(err, 'kinesis', stream);
  }
  return {};
};

const deleteStream: Operation = async ({ log }, body) => {
  const stream = streamNameOf(body);
  await describeOrThrow(log, stream);
  try {
    await log.deleteStream(stream);
  } catch (err) {
    throw awsErrorOf(err, 'kinesis', stream);
  }
  return {};
};

/** The members DescribeStream and DescribeStreamSummary share. */
function streamHeader(region: string, d: StreamDescription) {
  return {
    StreamName: d.name,
    StreamARN: streamArn(region, d.name),
    StreamStatus: 'ACTIVE',
    StreamModeDetails: { StreamMode: 'PROVISIONED' },
    RetentionPeriodHours: Math.max(1, Math.round(d.settings.maxAgeMs / 3600_000)),
    StreamCreationTimestamp: d.createdAt.getTime() / 1000,
    EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
    EncryptionType: 'NONE',
  };
}

/** A shard as DescribeStream and ListShards list it. */
const shardOf = (s: StreamDescription['shards'][number]) => ({
  ShardId: s.shardId,
  HashKeyRange: { StartingHashKey: s.startingHashKey, EndingHashKey: s.endingHashKey },
  SequenceNumberRange: { StartingSequenceNumber: s.startingSequenceNumber },
});

const describeStream: Operation = async ({ log, region }, body) => {
  const d = await describeOrThrow(log, streamNameOf(body));
  const limit = integerField(body, 'Limit', 1, 10_000) ?? 100;
  const after = stringField(body, 'ExclusiveStartShardId', { min: 1, max: 128 });
  const from = after === undefined ? 0 : d.shards.findIndex((s) => s.shardId > after);
  const shards = from < 0 ? [] : d.shards.slice(from, from + limit);
  return {
    StreamDescription: {
      ...streamHeader(region, d),
      Shards: shards.map(shardOf),
      HasMoreShards: from >= 0 && from + limit < d.shards.length,
    },
  };
};

const describeStreamSummary: Operation = async ({ log, region }, body) => {
  const d = await describeOrThrow(log, streamNameOf(body));
  return {
    StreamDescriptionSummary: {
      ...streamHeader(region, d),
      OpenShardCount: d.shards.length,
      ConsumerCount: 0,
    },
  };
};

const listShards: Operation = async ({ log }, body) => {
  const token = stringField(body, 'NextToken', { min: 1, max: 1048576 });
  // A NextToken stands for the stream and the last shard listed (plain JSON: it grants nothing).
  const resumed = token === undefined ? undefined : parseListToken(token);
  const stream = resumed?.stream ?? streamNameOf(body);
  const d = await describeOrThrow(log, stream);
  const max = integerField(body, 'MaxResults', 1, 10_000) ?? 1000;
  const after = resumed?.after ?? stringField(body, 'ExclusiveStartShardId', { min: 1, max: 128 });
  const rest = after === undefined ? d.shards : d.shards.filter((s) => s.shardId > after);
  const page = rest.slice(0, max);
  const more = rest.length > page.length;
  return {
    Shards: page.map(shardOf),
    ...(more
      ? {
          NextToken: Buffer.from(JSON.stringify({ stream, after: page.at(-1)!.shardId })).toString(
            'base64url',
          ),
        }
      : {}),
  };
};

function parseListToken(token: string): { stream: string; after: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      stream?: unknown;
      after?: unknown;
    };
    if (typeof parsed.stream === 'string' && typeof parsed.after === 'string')
      return { stream: parsed.stream, after: parsed.after };
  } catch {
    // falls through to the refusal
  }
  throw new AwsError('InvalidArgumentException', 'NextToken is not one ListShards returned.');
}

const listStreams: Operation = async ({ log, region }, body) => {
  const limit = integerField(body, 'Limit', 1, 10_000) ?? 100;
  const after =
    stringField(body, 'ExclusiveStartStreamName', { min: 1, max: 128 }) ??
    (stringField(body, 'NextToken', { min: 1, max: 1048576 }) === undefined
      ? undefined
      : Buffer.from(String(body.NextToken), 'base64url').toString('utf8'));
  const names = (
    await log.listStreams().catch((err: unknown) => {
      throw awsErrorOf(err, 'kinesis');
    })
  ).sort();
  const rest = after === undefined ? names : names.filter((n) => n > after);
  const page = rest.slice(0, limit);
  const more = rest.length > page.length;
  const summaries = [];
  for (const name of page) {
    const d = await log.describeStream(name);
    if (d)
      summaries.push({
        StreamName: name,
        StreamARN: streamArn(region, name),
        StreamStatus: 'ACTIVE',
        StreamModeDetails: { StreamMode: 'PROVISIONED' },
        StreamCreationTimestamp: d.createdAt.getTime() / 1000,
      });
  }
  return {
    StreamNames: page,
    HasMoreStreams: more,
    StreamSummaries: summaries,
    ...(more ? { NextToken: Buffer.from(page.at(-1)!).toString('base64url') } : {}),
  };
};

/** Every Kinesis operation the collector serves, by its X-Amz-Target name. */
export const KINESIS_OPERATIONS: Readonly<Record<string, Operation>> = {
  PutRecord: putRecord,
  PutRecords: putRecords,
  CreateStream: createStream,
  DeleteStream: deleteStream,
  ListStreams: listStreams,
  DescribeStream: describeStream,
  DescribeStreamSummary: describeStreamSummary,
  ListShards: listShards,
  GetShardIterator: (ctx, body) => shardIteratorFor(ctx, body),
  GetRecords: (ctx, body) => readRecords(ctx, body),
};
