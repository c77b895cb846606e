import { describe, expect, it } from 'vitest';
import {
  MAX_HASH_KEY,
  compareSequenceNumbers,
  hashKeyOf,
  parseExplicitHashKey,
  shardForHashKey,
  shardIdOf,
  shardIndexOfId,
  shardRange,
} from '../../src/stream/index.js';

describe('shard placement', () => {
  it('hashes a partition key with MD5 as Kinesis does', () => {
    // md5("a") = 0cc175b9c0f1b6a831c399e269772661
    expect(hashKeyOf('a')).toBe(BigInt('0x0cc175b9c0f1b6a831c399e269772661'));
  });

  it('splits the hash-key space into contiguous equal ranges covering every key', () => {
    for (const n of [1, 2, 3, 7, 256]) {
      expect(shardRange(0, n).start).toBe(0n);
      expect(shardRange(n - 1, n).end).toBe(MAX_HASH_KEY);
      for (let i = 1; i < n; i++)
        expect(shardRange(i, n).start).toBe(shardRange(i - 1, n).end + 1n);
    }
  });

  it('puts every hash key in the shard whose range holds it', () => {
    const keys = [0n, 1n, MAX_HASH_KEY, MAX_HASH_KEY / 2n, MAX_HASH_KEY / 2n + 1n, hashKeyOf('x')];
    for (const n of [1, 2, 3, 5]) {
      for (const key of keys) {
        const { start, end } = shardRange(shardForHashKey(key, n), n);
        expect(key >= start && key <= end).toBe(true);
      }
    }
  });

  it('reads explicit hash keys only when they are decimal 128-bit integers', () => {
    expect(parseExplicitHashKey('0')).toBe(0n);
    expect(parseExplicitHashKey(MAX_HASH_KEY.toString())).toBe(MAX_HASH_KEY);
    expect(parseExplicitHashKey((MAX_HASH_KEY + 1n).toString())).toBeUndefined();
    expect(parseExplicitHashKey('-1')).toBeUndefined();
    expect(parseExplicitHashKey('0x10')).toBeUndefined();
  });

  it('names shards as Kinesis does and reads the names back', () => {
    expect(shardIdOf(3)).toBe('shardId-000000000003');
    expect(shardIndexOfId('shardId-000000000003')).toBe(3);
    expect(shardIndexOfId('shard-3')).toBeUndefined();
  });

  it('orders sequence numbers numerically, whatever their lengths', () => {
    expect(compareSequenceNumbers('9', '10')).toBeLessThan(0);
    expect(compareSequenceNumbers('0010', '10')).toBe(0);
    expect(
      compareSequenceNumbers('49590338271490256608559692538361571095921575989136588898', '2'),
    ).toBeGreaterThan(0);
  });
});
