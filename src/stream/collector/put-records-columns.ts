/**
 * PutRecords of a body the fast path read (put-records-scan.ts) on a log that takes columns
 * (`StreamLog.appendColumns`): the records are staged with no object per record, and Kinesis's
 * answer is written as bytes while they are made durable, so the collector's thread answers the
 * moment the group write returns instead of building 500 entries and a JSON text then (issue 15).
 * Should any record be refused or its shard fail, the answer is built as the general path builds
 * it, entry by entry.
 */
import type { PlacedColumns, StreamLog } from '../log.js';
import { awsErrorOf } from './errors.js';
import { failedEntry } from './kinesis-common.js';
import type { ScannedPutRecords } from './put-records-scan.js';

/** A buffer of at least `bytes` for the answer, kept (and not reused) until it has been sent. */
export type AnswerBuffer = (bytes: number) => Buffer;

const HEAD = Buffer.from('{"FailedRecordCount":0,"Records":[{"SequenceNumber":"');
const TAIL = Buffer.from('],"EncryptionType":"NONE"}');
/** A sequence number is at most this many digits (Kinesis's are up to 56; the local log's 33). */
const MAX_SEQUENCE_DIGITS = 64;

/**
 * What follows a record's sequence number in the answer, per shard: its shard id and the start
 * of the next entry (`between`), or its shard id alone for the last record (`last`). Kept per
 * list of shard ids (a stream's, which the log keeps while the stream lives).
 */
interface EntryTails {
  between: Buffer[];
  last: Buffer[];
  longest: number;
}
const tailsByShards = new WeakMap<readonly string[], EntryTails>();

function entryTails(shardIds: readonly string[]): EntryTails {
  let tails = tailsByShards.get(shardIds);
  if (!tails) {
    const last = shardIds.map((id) => Buffer.from(`","ShardId":${JSON.stringify(id)}}`));
    const between = last.map((end) => Buffer.concat([end, Buffer.from(',{"SequenceNumber":"')]));
    tails = { between, last, longest: Math.max(...between.map((b) => b.length)) };
    tailsByShards.set(shardIds, tails);
  }
  return tails;
}

/**
 * The answer when every record was taken and is durable: the same bytes as JSON.stringify of
 * `{FailedRecordCount: 0, Records: [{SequenceNumber, ShardId}, …], EncryptionType: 'NONE'}`.
 */
export function successAnswer(placed: PlacedColumns, count: number, take: AnswerBuffer): Buffer {
  const tails = entryTails(placed.shardIds);
  const out = take(HEAD.length + TAIL.length + count * (MAX_SEQUENCE_DIGITS + tails.longest));
  out.set(HEAD, 0);
  let at = HEAD.length;
  const shard = placed.shard;
  for (let i = 0; i < count; i++) {
    at = placed.writeSequenceNumber(i, out, at);
    const tail = (i + 1 < count ? tails.between : tails.last)[shard[i]!]!;
    out.set(tail, at);
    at += tail.length;
  }
  out.set(TAIL, at);
  return out.subarray(0, at + TAIL.length);
}

/** The answer entry by entry, when a record was refused or its shard's write failed. */
function answerWithFailures(
  placed: PlacedColumns,
  count: number,
  failed: ReadonlyMap<number, string>,
  stream: string,
) {
  let failures = 0;
  const records: unknown[] = new Array<unknown>(count);
  for (let i = 0; i < count; i++) {
    const shard = placed.shard[i]!;
    const refused = placed.refused?.get(i);
    const reason = shard >= 0 ? failed.get(shard) : undefined;
    if (refused !== undefined || reason !== undefined) failures++;
    records[i] =
      refused !== undefined
        ? failedEntry({ ok: false, code: 'INPUT', message: refused }, stream, 'unknown')
        : reason !== undefined
          ? failedEntry(
              { ok: false, code: 'UNAVAILABLE', message: reason },
              stream,
              placed.shardIds[shard]!,
            )
          : { SequenceNumber: placed.sequenceNumber(i), ShardId: placed.shardIds[shard]! };
  }
  return { FailedRecordCount: failures, Records: records, EncryptionType: 'NONE' };
}

/**
 * Appends the scanned records through `log.appendColumns` and answers: the answer's bytes, or the
 * answer as an object to be JSON-encoded when some record failed.
 */
export async function putColumns(
  appendColumns: NonNullable<StreamLog['appendColumns']>,
  stream: string,
  scanned: ScannedPutRecords,
  take: AnswerBuffer,
): Promise<Buffer | object> {
  let placed: PlacedColumns;
  try {
    placed = appendColumns(stream, scanned.columns);
  } catch (err) {
    throw awsErrorOf(err, 'kinesis', stream);
  }
  const count = scanned.columns.count;
  const answer = placed.refused ? undefined : successAnswer(placed, count, take);
  const failed = await placed.durable;
  return answer && failed.size === 0 ? answer : answerWithFailures(placed, count, failed, stream);
}
