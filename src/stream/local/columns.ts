/**
 * `appendColumns` of the local log: records given as byte ranges of one buffer are staged into
 * their shards' frames with no object or string per record, and what the caller needs to answer
 * (each record's shard and counter, its sequence number as text or as bytes) is kept in typed
 * arrays. The collector's PutRecords takes this path (issue 15: the objects a 500-record request
 * made lived until its answer, so the young generation's scavenges copied and promoted them).
 */
import type { PlacedColumns, RecordColumns } from '../log.js';
import { MAX_PARTITION_KEY_LENGTH, MAX_RECORD_DATA_BYTES, shardOfKeyBytes } from '../records.js';
import type { ShardLog } from './shard-log.js';

/** A UTF-8 character is at most 4 bytes: no valid key is longer than this many bytes. */
const MAX_KEY_BYTES = 4 * MAX_PARTITION_KEY_LENGTH;
/** Digits of a shard counter in a sequence number (after the stream's 13-digit prefix). */
export const COUNTER_DIGITS = 20;
const ZERO = 0x30;

/** What of a stream the columns path needs. */
export interface ColumnsStream {
  shards: ShardLog[];
  shardIds: string[];
  /** The sequence numbers' prefix (the stream's creation time, 13 digits). */
  prefix: string;
}

/** The refusal of a record whose key or data sizes the caller should not have let through. */
function refusalOf(keyBytes: number, dataBytes: number): string | undefined {
  if (keyBytes < 1 || keyBytes > MAX_KEY_BYTES)
    return `the partition key must be 1 to ${MAX_PARTITION_KEY_LENGTH} characters`;
  if (dataBytes > MAX_RECORD_DATA_BYTES)
    return `the record's data is ${dataBytes} bytes; at most ${MAX_RECORD_DATA_BYTES} are allowed`;
  return undefined;
}

/**
 * Stages every record in its shard (arrival `nowMs`, never before the shard's last) and adds each
 * shard used to `dirty`. Returns the placement; its `durable` is the caller's to settle.
 */
export function stageColumns(
  stream: ColumnsStream,
  records: RecordColumns,
  nowMs: number,
  dirty: Set<ShardLog>,
  durable: Promise<ReadonlyMap<number, string>>,
): LocalPlacedColumns {
  const { count, bytes, spans } = records;
  const shardCount = stream.shards.length;
  const placed = new LocalPlacedColumns(stream, count, durable);
  let last: ShardLog | undefined;
  for (let i = 0; i < count; i++) {
    const at = 4 * i;
    const keyStart = spans[at]!;
    const keyEnd = spans[at + 1]!;
    const dataStart = spans[at + 2]!;
    const dataEnd = spans[at + 3]!;
    const refusal = refusalOf(keyEnd - keyStart, dataEnd - dataStart);
    if (refusal !== undefined) {
      placed.refuse(i, refusal);
      continue;
    }
    const index = shardOfKeyBytes(bytes, keyStart, keyEnd, shardCount);
    const shard = stream.shards[index]!;
    const counter = shard.stageColumn(shard.arrivalFor(nowMs), records, i);
    if (shard !== last) dirty.add((last = shard));
    placed.shard[i] = index;
    placed.counter[i] = counter;
  }
  return placed;
}

/** `PlacedColumns` of the local log: a shard index and a counter per record. */
export class LocalPlacedColumns implements PlacedColumns {
  readonly shard: Int32Array;
  readonly counter: Float64Array;
  readonly shardIds: readonly string[];
  refused?: Map<number, string>;
  private readonly prefix: string;

  constructor(
    stream: ColumnsStream,
    count: number,
    readonly durable: Promise<ReadonlyMap<number, string>>,
  ) {
    this.shard = new Int32Array(count);
    this.counter = new Float64Array(count);
    this.shardIds = stream.shardIds;
    this.prefix = stream.prefix;
  }

  refuse(i: number, reason: string): void {
    this.shard[i] = -1;
    (this.refused ??= new Map()).set(i, reason);
  }

  sequenceNumber(i: number): string {
    const digits = String(this.counter[i]!);
    return this.prefix + '0'.repeat(COUNTER_DIGITS - digits.length) + digits;
  }

  writeSequenceNumber(i: number, out: Buffer, offset: number): number {
    const prefix = this.prefix;
    for (let k = 0; k < prefix.length; k++) out[offset + k] = prefix.charCodeAt(k);
    const end = offset + prefix.length + COUNTER_DIGITS;
    let rest = this.counter[i]!;
    for (let at = end - 1; at >= end - COUNTER_DIGITS; at--) {
      const next = Math.floor(rest / 10);
      out[at] = ZERO + rest - next * 10;
      rest = next;
    }
    return end;
  }
}
