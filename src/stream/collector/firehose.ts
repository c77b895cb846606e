/**
 * The Firehose operations (`X-Amz-Target: Firehose_20150804.<Op>`) producers use: PutRecord and
 * PutRecordBatch (500 records, 4 MiB, 1,000 KiB per record), with DescribeDeliveryStream and
 * ListDeliveryStreams enough for clients that look the stream up first. A delivery stream is a
 * stream of the log by the same name. Firehose records carry no partition key: each gets a
 * random RecordId (returned to the producer, as Firehose does) which is also its partition key,
 * so records spread evenly over the stream's shards by the key's MD5.
 */
import { randomUUID } from 'node:crypto';
import type { RecordInput, StreamLog } from '../log.js';
import { ACCOUNT_ID, AwsError, awsErrorOf, streamPhrase, validationError } from './errors.js';
import { arrayField, blobField, integerField, objectAt, stringField, type Body } from './input.js';

/** Firehose's limits (API reference, PutRecordBatch). */
export const FIREHOSE_LIMITS = {
  recordsPerRequest: 500,
  requestBytes: 4 * 1024 * 1024,
  recordBytes: 1_024_000,
} as const;

const DELIVERY_STREAM_NAME = /^[a-zA-Z0-9_.-]+$/;

export interface FirehoseContext {
  log: StreamLog;
  region: string;
}

export type FirehoseOperation = (ctx: FirehoseContext, body: Body) => Promise<unknown>;

const deliveryStreamOf = (body: Body) =>
  stringField(body, 'DeliveryStreamName', {
    required: true,
    min: 1,
    max: 64,
    pattern: DELIVERY_STREAM_NAME,
  })!;

function recordOf(value: unknown, path: string): RecordInput {
  const data = blobField(objectAt(value, path), 'Data', `${path}.data`);
  if (data.length > FIREHOSE_LIMITS.recordBytes)
    throw validationError(
      `${path}.data`,
      `Member must have length less than or equal to ${FIREHOSE_LIMITS.recordBytes}`,
    );
  return { partitionKey: randomUUID(), data };
}

async function append(log: StreamLog, stream: string, records: RecordInput[]) {
  try {
    return await log.append(stream, records);
  } catch (err) {
    throw awsErrorOf(err, 'firehose', stream);
  }
}

const failure = (code: 'UNAVAILABLE' | 'INPUT', message: string) =>
  code === 'UNAVAILABLE'
    ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: `Slow down. (${message})` }
    : { ErrorCode: 'InternalFailure', ErrorMessage: `Internal Service Failure (${message})` };

const putRecord: FirehoseOperation = async ({ log }, body) => {
  const stream = deliveryStreamOf(body);
  const record = recordOf(body.Record, 'record');
  const [outcome] = await append(log, stream, [record]);
  if (!outcome?.ok) {
    const f = failure(outcome?.code ?? 'INPUT', outcome?.message ?? 'the log returned no outcome');
    throw new AwsError(f.ErrorCode, f.ErrorMessage, 503);
  }
  return { RecordId: record.partitionKey, Encrypted: false };
};

const putRecordBatch: FirehoseOperation = async ({ log }, body) => {
  const stream = deliveryStreamOf(body);
  const entries = arrayField(body, 'Records', 1, FIREHOSE_LIMITS.recordsPerRequest);
  const records = entries.map((e, i) => recordOf(e, `records.${i + 1}.member`));
  // As in PutRecords: the base64 texts go before the append waits for fsync.
  delete body.Records;
  entries.length = 0;
  const total = records.reduce((n, r) => n + r.data.length, 0);
  if (total > FIREHOSE_LIMITS.requestBytes)
    throw new AwsError(
      'InvalidArgumentException',
      `Records size exceeds 4 MiB limit: the batch's records are ${total} bytes (limit ${FIREHOSE_LIMITS.requestBytes}).`,
    );
  const outcomes = await append(log, stream, records);
  let failed = 0;
  const responses = outcomes.map((outcome, i) => {
    if (outcome.ok) return { RecordId: records[i]!.partitionKey };
    failed++;
    return failure(outcome.code, outcome.message);
  });
  return { FailedPutCount: failed, Encrypted: false, RequestResponses: responses };
};

const describeDeliveryStream: FirehoseOperation = async ({ log, region }, body) => {
  const stream = deliveryStreamOf(body);
  const d = await log.describeStream(stream).catch((err: unknown) => {
    throw awsErrorOf(err, 'firehose', stream);
  });
  if (!d)
    throw new AwsError(
      'ResourceNotFoundException',
      `${streamPhrase('firehose', stream)} not found.`,
    );
  return {
    DeliveryStreamDescription: {
      DeliveryStreamName: d.name,
      DeliveryStreamARN: `arn:aws:firehose:${region}:${ACCOUNT_ID}:deliverystream/${d.name}`,
      DeliveryStreamStatus: 'ACTIVE',
      DeliveryStreamType: 'DirectPut',
      VersionId: '1',
      CreateTimestamp: d.createdAt.getTime() / 1000,
      Destinations: [],
      HasMoreDestinations: false,
    },
  };
};

const listDeliveryStreams: FirehoseOperation = async ({ log }, body) => {
  const limit = integerField(body, 'Limit', 1, 10_000) ?? 10;
  const after = stringField(body, 'ExclusiveStartDeliveryStreamName', { min: 1, max: 64 });
  const names = (
    await log.listStreams().catch((err: unknown) => {
      throw awsErrorOf(err, 'firehose');
    })
  ).sort();
  const rest = after === undefined ? names : names.filter((n) => n > after);
  const page = rest.slice(0, limit);
  return { DeliveryStreamNames: page, HasMoreDeliveryStreams: rest.length > page.length };
};

/** Every Firehose operation the collector serves, by its X-Amz-Target name. */
export const FIREHOSE_OPERATIONS: Readonly<Record<string, FirehoseOperation>> = {
  PutRecord: putRecord,
  PutRecordBatch: putRecordBatch,
  DescribeDeliveryStream: describeDeliveryStream,
  ListDeliveryStreams: listDeliveryStreams,
};
