/**
 * How Kinesis places records in shards, shared by every log adapter: a record's 128-bit hash key
 * is the MD5 of its partition key (or its explicit hash key), and a stream of n shards splits the
 * hash-key space into n equal, contiguous ranges. Keeping this in one place means a stream keeps
 * its placement when it moves from the local log to JetStream.
 */
import { createHash } from 'node:crypto';
import type { ShardDescription } from './log.js';

/** The largest 128-bit hash key (2^128 - 1). */
export const MAX_HASH_KEY = (1n << 128n) - 1n;

/** The 128-bit hash key Kinesis derives from a partition key: MD5 of its UTF-8 bytes. */
export function hashKeyOf(partitionKey: string): bigint {
  return BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
}

/** Parses an explicit hash key (a decimal 128-bit integer), or undefined when it is not one. */
export function parseExplicitHashKey(text: string): bigint | undefined {
  if (!/^\d{1,39}$/.test(text)) return undefined;
  const key = BigInt(text);
  return key <= MAX_HASH_KEY ? key : undefined;
}

/** Kinesis's shard id for the shard at `index`: `shardId-000000000000`. */
export function shardIdOf(index: number): string {
  return `shardId-${String(index).padStart(12, '0')}`;
}

/** The index of a shard id made by `shardIdOf`, or undefined for any other string. */
export function shardIndexOfId(shardId: string): number | undefined {
  const match = /^shardId-(\d{12})$/.exec(shardId);
  return match ? Number(match[1]) : undefined;
}

/** The inclusive hash-key range of shard `index` of `shards` equal ranges. */
export function shardRange(index: number, shards: number): { start: bigint; end: bigint } {
  const span = MAX_HASH_KEY + 1n;
  const start = (span * BigInt(index)) / BigInt(shards);
  const end = (span * BigInt(index + 1)) / BigInt(shards) - 1n;
  return { start, end };
}

/**
 * Shard `index` of `shards` as Kinesis describes it (id, hash-key range in decimal); every log
 * adapter describes its shards through this, so their descriptions cannot drift apart.
 */
export function describeShard(
  index: number,
  shards: number,
  startingSequenceNumber: string,
): ShardDescription {
  const range = shardRange(index, shards);
  return {
    shardId: shardIdOf(index),
    startingHashKey: range.start.toString(),
    endingHashKey: range.end.toString(),
    startingSequenceNumber,
  };
}

/** The shard (index) whose range holds `hashKey`. */
export function shardForHashKey(hashKey: bigint, shards: number): number {
  // Range i starts at floor(2^128 * i / n), so the index is the largest i with that start <= key:
  // floor(((key + 1) * n - 1) / 2^128). (floor(key * n / 2^128) puts a range's first key in the
  // range before it when n does not divide 2^128, e.g. shard 1 of 3.)
  return Number(((hashKey + 1n) * BigInt(shards) - 1n) >> 128n);
}

/** Orders two sequence numbers (decimal digit strings) numerically: negative, zero or positive. */
export function compareSequenceNumbers(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
