/**
 * The record checks every log adapter shares (src/stream/records.ts): the fast shard choice
 * agrees with Kinesis's BigInt definition for every key and shard count, and refusals say why.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  MAX_HASH_KEY,
  hashKeyOf,
  placeRecord,
  shardForHashKey,
  shardOfKeyBytes,
  shardOfPartitionKey,
  shardRange,
} from '../../src/stream/index.js';
import { md5Short, md5Words } from '../../src/stream/md5.js';

describe('record placement', () => {
  it('computes the MD5 of short ASCII keys as node:crypto does, and declines the rest', () => {
    for (let i = 0; i < 2000; i++) {
      const key = Buffer.from(randomBytes(i % 56).map((b) => 32 + (b % 95))).toString('latin1');
      expect(md5Short(key)).toBe(true);
      const words = Buffer.from(md5Words.buffer.slice(0));
      expect(words.toString('hex'), key).toBe(createHash('md5').update(key).digest('hex'));
    }
    expect(md5Short('x'.repeat(56))).toBe(false);
    expect(md5Short('é')).toBe(false);
  });

  it('chooses the same shard as shardForHashKey(hashKeyOf(key)) for random and edge keys', () => {
    const keys = Array.from({ length: 3000 }, (_, i) =>
      i % 2 ? randomBytes(1 + (i % 40)).toString('base64') : `user-${i}`,
    );
    // Every length around the one-block limit of the JavaScript MD5 (55 ASCII characters).
    for (let length = 0; length <= 70; length++) keys.push('k'.repeat(length), 'x'.repeat(length));
    keys.push('a', 'ключ', '🔑'.repeat(64), 'abc\u007f', 'ab\u0080');
    // Twice: the first pass computes (and caches) each key's shard, the second reads the cache.
    for (const pass of [1, 2])
      for (const n of [2, 3, 5, 7, 10, 64, 255, 256])
        for (const key of keys)
          expect(shardOfPartitionKey(key, n), `${key} / ${n}, pass ${pass}`).toBe(
            shardForHashKey(hashKeyOf(key), n),
          );
  });

  it('chooses the same shard from a key as UTF-8 bytes (shardOfKeyBytes) as from the key', () => {
    const keys = Array.from({ length: 2000 }, (_, i) =>
      i % 2 ? randomBytes(1 + (i % 60)).toString('base64') : `user-${i}`,
    );
    for (let length = 1; length <= 70; length++) keys.push('k'.repeat(length), 'é'.repeat(length));
    keys.push('ключ', '🔑'.repeat(64), 'abc\u007f', 'ab\u0080');
    for (const n of [1, 2, 3, 7, 64, 256])
      for (const key of keys) {
        // The key inside a larger buffer, as it is inside a request body.
        const bytes = Buffer.concat([Buffer.from('{"x":"'), Buffer.from(key), Buffer.from('"}')]);
        const end = bytes.length - 2;
        expect(shardOfKeyBytes(bytes, 6, end, n), `${key} / ${n}`).toBe(
          shardForHashKey(hashKeyOf(key), n),
        );
      }
  });

  it('keeps giving the MD5 shard once more keys were seen than the cache holds', () => {
    const keys = Array.from({ length: 70_000 }, (_, i) => `session-${i}`);
    for (const key of keys) shardOfPartitionKey(key, 4);
    for (const key of [...keys.slice(0, 500), ...keys.slice(-500)])
      expect(shardOfPartitionKey(key, 4), key).toBe(shardForHashKey(hashKeyOf(key), 4));
  });

  it('places explicit hash keys at the edges of the ranges exactly', () => {
    for (const n of [2, 3, 7, 255]) {
      for (let i = 0; i < n; i++) {
        const { start, end } = shardRange(i, n);
        for (const key of [start, end])
          expect(
            placeRecord(
              { partitionKey: 'k', explicitHashKey: key.toString(), data: new Uint8Array() },
              n,
            ),
          ).toBe(i);
      }
    }
    expect(
      placeRecord(
        {
          partitionKey: 'k',
          explicitHashKey: (MAX_HASH_KEY + 1n).toString(),
          data: new Uint8Array(),
        },
        2,
      ),
    ).toMatch(/explicit hash key/);
  });

  it('says why a record is refused', () => {
    const data = new Uint8Array(1);
    expect(placeRecord({ partitionKey: '', data }, 1)).toMatch(/partition key/);
    expect(placeRecord({ partitionKey: 'x'.repeat(257), data }, 1)).toMatch(/1 to 256/);
    expect(placeRecord({ partitionKey: 'k', data: new Uint8Array(1024 * 1024 + 1) }, 1)).toMatch(
      /1048577 bytes/,
    );
    expect(placeRecord({ partitionKey: 'k', data }, 1)).toBe(0);
  });
});
