/**
 * What every Kinesis operation shares: the context it runs in, how a request names its stream
 * (StreamName or StreamARN), and log calls whose failures become Kinesis's errors.
 */
import type { AppendOutcome, RecordInput, StreamDescription, StreamLog } from '../log.js';
import { ACCOUNT_ID, AwsError, awsErrorOf, streamPhrase } from './errors.js';
import type { IteratorCodec } from './iterators.js';
import { stringField, type Body } from './input.js';

/** Stream names: 1–128 of `[a-zA-Z0-9_.-]`. */
export const STREAM_NAME = /^[a-zA-Z0-9_.-]+$/;

/** What every operation needs. */
export interface KinesisContext {
  log: StreamLog;
  region: string;
  defaultShards: number;
  iterators: IteratorCodec;
}

export type Operation = (ctx: KinesisContext, body: Body) => Promise<unknown>;

/** The stream's ARN as Kinesis writes it. */
export const streamArn = (region: string, name: string) =>
  `arn:aws:kinesis:${region}:${ACCOUNT_ID}:stream/${name}`;

/** The stream a request names, by StreamName or StreamARN. */
export function streamNameOf(body: Body): string {
  const name = stringField(body, 'StreamName', { min: 1, max: 128, pattern: STREAM_NAME });
  if (name !== undefined) return name;
  const arn = stringField(body, 'StreamARN', { min: 1, max: 2048 });
  const fromArn =
    arn === undefined ? undefined : /:stream\/([a-zA-Z0-9_.-]{1,128})$/.exec(arn)?.[1];
  if (arn !== undefined && fromArn === undefined)
    throw new AwsError('InvalidArgumentException', `StreamARN ${arn} does not name a stream.`);
  if (fromArn === undefined)
    throw new AwsError('ValidationException', 'Either StreamName or StreamARN should be provided.');
  return fromArn;
}

/** The stream, or Kinesis's ResourceNotFoundException. */
export async function describeOrThrow(log: StreamLog, name: string): Promise<StreamDescription> {
  let found: StreamDescription | undefined;
  try {
    found = await log.describeStream(name);
  } catch (err) {
    throw awsErrorOf(err, 'kinesis', name);
  }
  if (!found)
    throw new AwsError('ResourceNotFoundException', `${streamPhrase('kinesis', name)} not found.`);
  return found;
}

/** Appends records, turning a failure of the whole call into Kinesis's error. */
export async function appendOrThrow(
  log: StreamLog,
  stream: string,
  records: readonly RecordInput[],
): Promise<AppendOutcome[]> {
  try {
    return await log.append(stream, records);
  } catch (err) {
    throw awsErrorOf(err, 'kinesis', stream);
  }
}

/** The per-record result Kinesis reports for a record the log did not take. */
export function failedEntry(
  outcome: Extract<AppendOutcome, { ok: false }>,
  stream: string,
  shardId: string,
): { ErrorCode: string; ErrorMessage: string } {
  return outcome.code === 'UNAVAILABLE'
    ? {
        ErrorCode: 'ProvisionedThroughputExceededException',
        ErrorMessage: `Rate exceeded for shard ${shardId} in stream ${stream} under account ${ACCOUNT_ID}. (${outcome.message})`,
      }
    : {
        ErrorCode: 'InternalFailure',
        ErrorMessage: `Internal Service Failure (${outcome.message})`,
      };
}
