/**
 * GetShardIterator and GetRecords: reading a shard from a position, for consumers other than the
 * lake flusher (which reads the log directly). A LATEST iterator is pinned to the shard's last
 * sequence number when it is made, so records appended afterwards are read, as in Kinesis.
 */
import type { ReadPosition } from '../log.js';
import { AwsError, awsErrorOf, streamPhrase } from './errors.js';
import { integerField, stringField, type Body } from './input.js';
import { describeOrThrow, streamNameOf, type KinesisContext } from './kinesis-common.js';

const SEQUENCE_NUMBER = /^(0|[1-9]\d{0,128})$/;
/** GetRecords returns at most 10 MiB per call (Kinesis's limit). */
const MAX_READ_BYTES = 10 * 1024 * 1024;
const ITERATOR_TYPES = [
  'AT_SEQUENCE_NUMBER',
  'AFTER_SEQUENCE_NUMBER',
  'TRIM_HORIZON',
  'LATEST',
  'AT_TIMESTAMP',
];

/** GetShardIterator: an opaque, expiring token for a shard and a start position. */
export async function shardIteratorFor(ctx: KinesisContext, body: Body): Promise<unknown> {
  const stream = streamNameOf(body);
  const shardId = stringField(body, 'ShardId', { required: true, min: 1, max: 128 })!;
  const type = stringField(body, 'ShardIteratorType', { required: true })!;
  if (!ITERATOR_TYPES.includes(type))
    throw new AwsError(
      'ValidationException',
      `1 validation error detected: Value '${type}' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [${ITERATOR_TYPES.join(', ')}]`,
    );
  const d = await describeOrThrow(ctx.log, stream);
  if (!d.shards.some((s) => s.shardId === shardId))
    throw new AwsError(
      'ResourceNotFoundException',
      `Shard ${shardId} in ${streamPhrase('kinesis', stream).toLowerCase()} does not exist`,
    );
  const position = await startPosition(ctx, body, type, stream, shardId);
  return { ShardIterator: ctx.iterators.seal({ stream, shardId, position }) };
}

async function startPosition(
  ctx: KinesisContext,
  body: Body,
  type: string,
  stream: string,
  shardId: string,
): Promise<ReadPosition> {
  if (type === 'TRIM_HORIZON') return { type: 'oldest' };
  if (type === 'AT_TIMESTAMP') {
    const seconds = body.Timestamp;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds))
      throw new AwsError(
        'InvalidArgumentException',
        'Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.',
      );
    return { type: 'at_time', timestampMs: Math.round(seconds * 1000) };
  }
  if (type === 'LATEST') {
    const last = await readOrThrow(ctx, stream, shardId, { type: 'latest' }, 1);
    return last.lastSequenceNumber === undefined
      ? { type: 'oldest' }
      : { type: 'after', sequenceNumber: last.lastSequenceNumber };
  }
  const sequenceNumber = body.StartingSequenceNumber;
  if (typeof sequenceNumber !== 'string' || !SEQUENCE_NUMBER.test(sequenceNumber))
    throw new AwsError(
      'InvalidArgumentException',
      `StartingSequenceNumber ${String(sequenceNumber)} used in GetShardIterator on shard ${shardId} in stream ${stream} under account 000000000000 is invalid.`,
    );
  return type === 'AT_SEQUENCE_NUMBER'
    ? { type: 'at', sequenceNumber }
    : { type: 'after', sequenceNumber };
}

async function readOrThrow(
  ctx: KinesisContext,
  stream: string,
  shardId: string,
  from: ReadPosition,
  maxRecords: number,
) {
  try {
    return await ctx.log.read(stream, shardId, from, { maxRecords, maxBytes: MAX_READ_BYTES });
  } catch (err) {
    throw awsErrorOf(err, 'kinesis', stream);
  }
}

/** GetRecords: up to Limit records (10,000) or 10 MiB from the iterator's position. */
export async function readRecords(ctx: KinesisContext, body: Body): Promise<unknown> {
  const token = stringField(body, 'ShardIterator', { required: true, min: 1, max: 512 * 1024 })!;
  const limit = integerField(body, 'Limit', 1, 10_000) ?? 10_000;
  const { stream, shardId, position } = ctx.iterators.open(token);
  const result = await readOrThrow(ctx, stream, shardId, position, limit);
  const last = result.records.at(-1);
  const caughtUp = !last || last.sequenceNumber === result.lastSequenceNumber;
  return {
    Records: result.records.map((r) => ({
      SequenceNumber: r.sequenceNumber,
      ApproximateArrivalTimestamp: r.arrivalMs / 1000,
      Data: r.data.toString('base64'),
      PartitionKey: r.partitionKey,
      EncryptionType: 'NONE',
    })),
    NextShardIterator: ctx.iterators.seal({ stream, shardId, position: result.next }),
    MillisBehindLatest: caughtUp ? 0 : Math.max(0, Date.now() - last.arrivalMs),
  };
}
