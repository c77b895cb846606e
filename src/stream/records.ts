/**
 * What every log adapter checks before it takes a stream or a record, so the local log and
 * JetStream refuse the same input with the same words (Kinesis's limits): stream names, shard
 * counts, partition keys, record sizes, and the shard a record goes to.
 */
import { hash } from 'node:crypto';
import { TributaryError } from '../core/errors.js';
import type { RecordInput, StreamSettings } from './log.js';
import { byteSwap, md5Short, md5ShortBytes, md5Words } from './md5.js';
import { parseExplicitHashKey, shardForHashKey } from './shards.js';

/** Kinesis's largest record: 1 MiB of data (the partition key not counted). */
export const MAX_RECORD_DATA_BYTES = 1024 * 1024;
/** Kinesis's longest partition key, in characters. */
export const MAX_PARTITION_KEY_LENGTH = 256;
/** The most shards a stream may have here (tributary.yml allows the same). */
export const MAX_SHARDS = 256;

const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;

/** Throws an INPUT error unless `name` is a Kinesis stream name (letters, digits, `_.-`, ≤128). */
export function checkStreamName(name: string): void {
  if (!STREAM_NAME.test(name)) {
    throw new TributaryError(`stream name ${JSON.stringify(name)} is not valid`, {
      code: 'INPUT',
      hint: 'use 1 to 128 letters, digits, underscores, dots or hyphens',
    });
  }
}

/** Throws an INPUT error unless the settings describe a stream this log can keep. */
export function checkStreamSettings(name: string, settings: StreamSettings): void {
  const { shards, maxAgeMs, maxBytes } = settings;
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS)
    throw new TributaryError(`stream ${name}: shards must be a whole number from 1 to 256`, {
      code: 'INPUT',
      hint: `got ${shards}`,
    });
  if (!Number.isFinite(maxAgeMs) || maxAgeMs <= 0)
    throw new TributaryError(`stream ${name}: retention max age must be a positive duration`, {
      code: 'INPUT',
      hint: `got ${maxAgeMs} ms`,
    });
  if (maxBytes !== undefined && (!Number.isFinite(maxBytes) || maxBytes <= 0))
    throw new TributaryError(`stream ${name}: retention max bytes must be positive`, {
      code: 'INPUT',
      hint: `got ${maxBytes}`,
    });
}

/**
 * The shard index a record goes to, or the reason it is refused (an empty or too long partition
 * key, too much data, an explicit hash key that is not a 128-bit decimal).
 */
export function placeRecord(record: RecordInput, shards: number): number | string {
  const key = record.partitionKey;
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_PARTITION_KEY_LENGTH)
    return `the partition key must be 1 to ${MAX_PARTITION_KEY_LENGTH} characters`;
  if (!(record.data instanceof Uint8Array)) return 'the record has no data bytes';
  if (record.data.byteLength > MAX_RECORD_DATA_BYTES)
    return `the record's data is ${record.data.byteLength} bytes; at most ${MAX_RECORD_DATA_BYTES} are allowed`;
  if (record.explicitHashKey !== undefined) {
    const hashKey = parseExplicitHashKey(record.explicitHashKey);
    if (hashKey === undefined)
      return `the explicit hash key ${JSON.stringify(record.explicitHashKey)} is not a decimal number from 0 to 2^128-1`;
    return shardForHashKey(hashKey, shards);
  }
  // One shard needs no hash: every key maps to it.
  return shards === 1 ? 0 : shardOfPartitionKey(key, shards);
}

const TWO_32 = 2 ** 32;

/**
 * `shardForHashKey(hashKeyOf(key), shards)` without BigInt or a Hash object per record (the
 * append path's hottest work): floor((md5 × shards + shards - 1) / 2^128), multiplying the
 * digest's four 32-bit words by `shards` from the lowest up, starting with a carry of shards - 1,
 * and keeping the carry out of the top one. Exact: every partial sum is below 2^41.
 */
export function shardOfPartitionKey(key: string, shards: number): number {
  let known = shardsByKey.get(shards);
  if (!known) shardsByKey.set(shards, (known = new Map()));
  const cached = known.get(key);
  if (cached !== undefined) return cached;
  if (known.size >= SHARD_CACHE_KEYS) known.clear();
  const shard = hashShardOf(key, shards);
  known.set(key, shard);
  return shard;
}

/**
 * Shards of partition keys seen lately, per shard count: producers reuse keys (a user's or a
 * session's id), and a map lookup costs a fraction of the MD5 (bench:stream, issue 15). Bounded:
 * a full map is emptied and fills again with the keys in use.
 */
const shardsByKey = new Map<number, Map<string, number>>();
const SHARD_CACHE_KEYS = 65_536;

/** The shard of a partition key by its MD5 (shardOfPartitionKey without the cache). */
function hashShardOf(key: string, shards: number): number {
  if (md5Short(key)) return shardOfMd5Words(shards);
  return shardOfDigest(hash('md5', key, 'buffer'), shards);
}

/**
 * The shard of a partition key given as its UTF-8 bytes `[start, end)` of `bytes`: the same shard
 * as `shardOfPartitionKey` of the decoded key, with no string made (the collector's columns path).
 */
export function shardOfKeyBytes(
  bytes: Uint8Array,
  start: number,
  end: number,
  shards: number,
): number {
  if (shards === 1) return 0;
  if (md5ShortBytes(bytes, start, end)) return shardOfMd5Words(shards);
  return shardOfDigest(hash('md5', bytes.subarray(start, end), 'buffer'), shards);
}

/** `shardForHashKey` of the digest `md5Words` holds, as 32-bit words (no BigInt). */
function shardOfMd5Words(shards: number): number {
  let carry = shards - 1;
  for (let word = 3; word >= 0; word--)
    carry = Math.floor((byteSwap(md5Words[word]!) * shards + carry) / TWO_32);
  return carry;
}

function shardOfDigest(digest: Buffer, shards: number): number {
  let carry = shards - 1;
  for (let offset = 12; offset >= 0; offset -= 4)
    carry = Math.floor((digest.readUInt32BE(offset) * shards + carry) / TWO_32);
  return carry;
}
