/**
 * TEMPORARY: an in-memory StreamLog for the collector tests until the local segment log lands on
 * this branch (branch log-local); the harness switches to the real log then and this file goes.
 * It keeps the contract's placement (shards.ts) and sequence order, nothing about durability.
 */
import { TributaryError } from '../../src/core/index.js';
import type {
  AppendOutcome,
  LogRecord,
  ReadLimits,
  ReadPosition,
  ReadResult,
  RecordInput,
  StreamDescription,
  StreamLog,
  StreamSettings,
} from '../../src/stream/log.js';
import {
  compareSequenceNumbers,
  hashKeyOf,
  parseExplicitHashKey,
  shardForHashKey,
  shardIdOf,
  shardRange,
} from '../../src/stream/shards.js';

interface Stream {
  description: StreamDescription;
  shards: LogRecord[][];
}

export class MemoryLog implements StreamLog {
  readonly kind = 'memory';
  private readonly streams = new Map<string, Stream>();
  private next = 1n;
  /** When set, append reports these record indexes as UNAVAILABLE (partial failures). */
  failIndexes = new Set<number>();

  async createStream(name: string, settings: StreamSettings): Promise<StreamDescription> {
    if (this.streams.has(name))
      throw new TributaryError(`stream ${name} exists`, { code: 'CONFLICT' as never });
    const description: StreamDescription = {
      name,
      settings,
      createdAt: new Date(),
      shards: Array.from({ length: settings.shards }, (_, i) => {
        const r = shardRange(i, settings.shards);
        return {
          shardId: shardIdOf(i),
          startingHashKey: r.start.toString(),
          endingHashKey: r.end.toString(),
          startingSequenceNumber: '0',
        };
      }),
    };
    this.streams.set(name, { description, shards: description.shards.map(() => []) });
    return description;
  }

  async describeStream(name: string) {
    return this.streams.get(name)?.description;
  }

  async listStreams() {
    return [...this.streams.keys()];
  }

  async deleteStream(name: string) {
    if (!this.streams.delete(name))
      throw new TributaryError(`no stream ${name}`, { code: 'NOT_FOUND' });
  }

  private get(name: string): Stream {
    const s = this.streams.get(name);
    if (!s) throw new TributaryError(`no stream ${name}`, { code: 'NOT_FOUND' });
    return s;
  }

  async append(stream: string, records: readonly RecordInput[]): Promise<AppendOutcome[]> {
    const s = this.get(stream);
    return records.map((r, i) => {
      if (this.failIndexes.has(i)) return { ok: false, code: 'UNAVAILABLE', message: 'test: full' };
      const key = r.explicitHashKey
        ? parseExplicitHashKey(r.explicitHashKey)!
        : hashKeyOf(r.partitionKey);
      const index = shardForHashKey(key, s.shards.length);
      const sequenceNumber = (this.next++).toString();
      const shardId = shardIdOf(index);
      s.shards[index]!.push({
        shardId,
        sequenceNumber,
        partitionKey: r.partitionKey,
        data: Buffer.from(r.data),
        arrivalMs: Date.now(),
      });
      return { ok: true, shardId, sequenceNumber };
    });
  }

  async read(
    stream: string,
    shardId: string,
    from: ReadPosition,
    limits: ReadLimits = {},
  ): Promise<ReadResult> {
    const s = this.get(stream);
    const records = s.shards[s.description.shards.findIndex((d) => d.shardId === shardId)];
    if (!records) throw new TributaryError(`no shard ${shardId}`, { code: 'NOT_FOUND' });
    const last = records.at(-1)?.sequenceNumber;
    const start = records.findIndex((r) =>
      from.type === 'oldest'
        ? true
        : from.type === 'latest'
          ? false
          : from.type === 'at'
            ? compareSequenceNumbers(r.sequenceNumber, from.sequenceNumber) >= 0
            : from.type === 'after'
              ? compareSequenceNumbers(r.sequenceNumber, from.sequenceNumber) > 0
              : r.arrivalMs >= from.timestampMs,
    );
    const out = start < 0 ? [] : records.slice(start, start + (limits.maxRecords ?? 10_000));
    const next: ReadPosition = out.length
      ? { type: 'after', sequenceNumber: out.at(-1)!.sequenceNumber }
      : from;
    return { records: out, next, ...(last ? { lastSequenceNumber: last } : {}) };
  }

  async enforceRetention() {}
  async close() {}
}
