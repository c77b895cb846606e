/**
 * Shard iterators for GetShardIterator/GetRecords: opaque tokens that carry the stream, the shard
 * and the read position, sealed with an HMAC so a client cannot forge or alter one, and expiring
 * five minutes after they were handed out, as Kinesis's do. The key is per collector process
 * unless one is given, so a restart expires every iterator (consumers get a fresh one, as they
 * do after ExpiredIteratorException from Kinesis).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ReadPosition } from '../log.js';
import { AwsError } from './errors.js';

/** How long an iterator stays valid (Kinesis: 5 minutes). */
export const ITERATOR_TTL_MS = 5 * 60_000;

/** What an iterator stands for. */
export interface IteratorState {
  stream: string;
  shardId: string;
  position: ReadPosition;
}

interface Sealed extends IteratorState {
  /** Expiry, milliseconds since the epoch. */
  x: number;
}

/** Makes and opens iterator tokens with one key. */
export class IteratorCodec {
  private readonly key: Buffer;

  constructor(
    key?: Buffer,
    private readonly now: () => number = Date.now,
  ) {
    this.key = key ?? randomBytes(32);
  }

  /** A token for reading `state`, valid for ITERATOR_TTL_MS. */
  seal(state: IteratorState): string {
    const sealed: Sealed = { ...state, x: this.now() + ITERATOR_TTL_MS };
    const payload = Buffer.from(JSON.stringify(sealed)).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** The state a token stands for; throws Kinesis's error for a malformed or expired one. */
  open(token: string): IteratorState {
    const dot = token.lastIndexOf('.');
    const payload = token.slice(0, dot);
    const mac = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.mac(payload), 'base64url');
    if (dot <= 0 || mac.length !== expected.length)
      throw new AwsError(
        'InvalidArgumentException',
        'Invalid ShardIterator: not one this collector made.',
      );
    if (!timingSafeEqual(mac, expected))
      throw new AwsError(
        'ExpiredIteratorException',
        'Iterator expired: it was made by an earlier run of the collector (or altered); call GetShardIterator again.',
      );
    const sealed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Sealed;
    if (sealed.x < this.now())
      throw new AwsError(
        'ExpiredIteratorException',
        `Iterator expired. The iterator was created at time ${new Date(sealed.x - ITERATOR_TTL_MS).toUTCString()} while right now it is ${new Date(this.now()).toUTCString()} which is further in the future than the tolerated delay of 300000 milliseconds.`,
      );
    return { stream: sealed.stream, shardId: sealed.shardId, position: sealed.position };
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}
