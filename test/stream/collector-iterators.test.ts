/** Shard iterator tokens: they round-trip, expire after five minutes, and refuse other keys' tokens. */
import { describe, expect, it } from 'vitest';
import { AwsError } from '../../src/stream/collector/errors.js';
import { ITERATOR_TTL_MS, IteratorCodec } from '../../src/stream/collector/iterators.js';

const state = {
  stream: 's',
  shardId: 'shardId-000000000000',
  position: { type: 'after', sequenceNumber: '42' },
} as const;

const failure = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err as AwsError;
  }
  throw new Error('expected a refusal');
};

describe('IteratorCodec', () => {
  it('opens what it sealed until the iterator expires', () => {
    let now = 1_000_000;
    const codec = new IteratorCodec(Buffer.alloc(32, 1), () => now);
    const token = codec.seal(state);
    expect(codec.open(token)).toEqual(state);
    now += ITERATOR_TTL_MS + 1;
    const err = failure(() => codec.open(token));
    expect(err).toBeInstanceOf(AwsError);
    expect(err.type).toBe('ExpiredIteratorException');
    expect(err.message).toContain('Iterator expired');
  });

  it('refuses a token of another key as expired and garbage as invalid', () => {
    const token = new IteratorCodec(Buffer.alloc(32, 1)).seal(state);
    expect(failure(() => new IteratorCodec(Buffer.alloc(32, 2)).open(token)).type).toBe(
      'ExpiredIteratorException',
    );
    expect(failure(() => new IteratorCodec().open('garbage')).type).toBe(
      'InvalidArgumentException',
    );
  });
});
