/**
 * The stream-log seam: the collector's durable, append-only log of records, per stream and shard
 * (Kinesis's model). Two adapters implement it and pass one conformance suite
 * (test/stream/log-conformance.test.ts): local segment files (the default, no services) and NATS
 * JetStream. Everything above it (the Kinesis/Firehose API, the lake flusher, the fault tests)
 * sees only this interface.
 *
 * The contract every adapter keeps:
 * - `append` resolves only once every record it accepted is durable (on disk after fsync for the
 *   local log; stored and acknowledged by the server for JetStream). Concurrent calls may share
 *   one sync (group commit); a call's records are never split by another call's in a shard.
 * - A record's shard is chosen from the MD5 of its partition key (or its explicit hash key) as
 *   Kinesis chooses it: the 128-bit hash key space is split into equal ranges, one per shard.
 * - Sequence numbers are decimal digit strings, unique within a shard and strictly increasing in
 *   the order records were appended; compare them with `compareSequenceNumbers`, never as plain
 *   strings of different lengths.
 * - `read` returns records in sequence order from a position, bounded by count and bytes, and
 *   never returns a record that was not acknowledged durable. After a crash, records whose append
 *   was never acknowledged may be present or absent, but never torn: a half-written record is
 *   cut, not read as data.
 * - Retention removes records older than the stream's `maxAgeMs`, or the oldest ones beyond
 *   `maxBytes` per shard; a read from a position before the oldest retained record starts at the
 *   oldest and says so (`trimmedBefore`), so a consumer can report the gap instead of missing it.
 * - Errors are `TributaryError`s: `NOT_FOUND` for an unknown stream or shard, `CONFLICT` for a
 *   stream that exists already, `INPUT` for a record the log refuses, `UNAVAILABLE` when the
 *   storage cannot take writes (a full disk, a lost server); the collector maps them to Kinesis's
 *   error shapes.
 */

export interface StreamSettings {
  /** Number of shards (hash-key ranges). */
  shards: number;
  /** Records older than this are removed. */
  maxAgeMs: number;
  /** At most this many bytes of records are kept per shard (oldest removed first). */
  maxBytes?: number;
}

export interface ShardDescription {
  /** Kinesis's form: `shardId-000000000000`. */
  shardId: string;
  /** The hash-key range as decimal strings of 128-bit integers, inclusive. */
  startingHashKey: string;
  endingHashKey: string;
  /** The first sequence number this shard could hand out. */
  startingSequenceNumber: string;
}

export interface StreamDescription {
  name: string;
  settings: StreamSettings;
  shards: ShardDescription[];
  createdAt: Date;
}

/** A record to append. `data` is the record's bytes as the producer sent them. */
export interface RecordInput {
  partitionKey: string;
  data: Uint8Array;
  /** A decimal 128-bit hash key that overrides the partition key's MD5 in choosing the shard. */
  explicitHashKey?: string;
}

/**
 * A call's records as columns over one buffer, for `appendColumns`: record i's partition key is
 * the UTF-8 bytes `[spans[4i], spans[4i+1])` of `bytes` and its data `[spans[4i+2], spans[4i+3])`
 * (a PutRecords body with its Data decoded in place). No object per record: a request of 500
 * records made some 3,000 objects on the collector's thread, alive until the answer went out, so
 * the scavenges of the young generation copied them and promoted many (issue 15). The caller has
 * checked the partition keys (1–256 characters) and data sizes as Kinesis does.
 */
export interface RecordColumns {
  readonly count: number;
  readonly bytes: Uint8Array;
  readonly spans: Int32Array;
}

/**
 * Where each record of an `appendColumns` call went, known as soon as the call returns: the
 * caller can write its answer while the records are being made durable, then wait for `durable`.
 */
export interface PlacedColumns {
  /** Per record, the index of its shard in `shardIds`, or -1 when refused (`refused` says why). */
  readonly shard: Int32Array;
  readonly shardIds: readonly string[];
  /** Why each refused record (by index) was not taken; undefined when none was. */
  readonly refused?: ReadonlyMap<number, string>;
  /** Record i's sequence number (only for records with a shard). */
  sequenceNumber(i: number): string;
  /** Writes record i's sequence number as ASCII digits at `offset` of `out`; returns the new offset. */
  writeSequenceNumber(i: number, out: Buffer, offset: number): number;
  /**
   * Settles once every taken record is durable or its shard's write failed: the failed shards
   * (by index) with the reason, empty when all are durable. Never rejects.
   */
  readonly durable: Promise<ReadonlyMap<number, string>>;
}

/** Where one appended record went, or why it was not taken (the rest of the call still was). */
export type AppendOutcome =
  | { ok: true; shardId: string; sequenceNumber: string }
  | { ok: false; code: 'UNAVAILABLE' | 'INPUT'; message: string };

/** A record as stored. */
export interface LogRecord {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  data: Buffer;
  /** When the log took the record (milliseconds since the epoch). */
  arrivalMs: number;
}

/** Where a read starts. */
export type ReadPosition =
  | { type: 'oldest' }
  | { type: 'at'; sequenceNumber: string }
  | { type: 'after'; sequenceNumber: string }
  | { type: 'latest' }
  | { type: 'at_time'; timestampMs: number };

export interface ReadLimits {
  /** At most this many records (default 10,000, as GetRecords). */
  maxRecords?: number;
  /** At most about this many bytes of data (at least one record is returned when any is there). */
  maxBytes?: number;
}

export interface ReadResult {
  records: LogRecord[];
  /**
   * Where the next read continues: after the last record returned, or the position given. A
   * `latest` read is pinned to after the shard's last record when it ran, so records appended
   * before the next read are not skipped.
   */
  next: ReadPosition;
  /**
   * Set on reads from a sequence number (`at`, `after`) when records from that position on were
   * removed by retention: the sequence number the read resumed at (the oldest retained record).
   */
  trimmedBefore?: string;
  /** The last sequence number in the shard when the read ran (undefined when it is empty). */
  lastSequenceNumber?: string;
}

/** The durable log of every stream of one project. */
export interface StreamLog {
  /** `local` or `jetstream`, for messages and capability checks. */
  readonly kind: string;
  createStream(name: string, settings: StreamSettings): Promise<StreamDescription>;
  /** The stream, or undefined when there is none by that name. */
  describeStream(name: string): Promise<StreamDescription | undefined>;
  listStreams(): Promise<string[]>;
  deleteStream(name: string): Promise<void>;
  /**
   * True when `append` has copied every record's data by the time it returns (before its promise
   * settles): the caller may then reuse the data's memory at once. Otherwise the caller must keep
   * the data unchanged until the append settles, and longer (a message may wait in a client's
   * outgoing buffer past a timeout).
   */
  readonly copiesOnAppend?: boolean;
  /** Appends records, resolving once every accepted one is durable; outcomes in input order. */
  append(stream: string, records: readonly RecordInput[]): Promise<AppendOutcome[]>;
  /**
   * `append` for records given as columns (optional: a log that has it takes the collector's
   * PutRecords without an object per record). Takes the records synchronously, copying their
   * bytes, so the caller may reuse `records.bytes` once it returns; throws as `append` rejects.
   */
  appendColumns?(stream: string, records: RecordColumns): PlacedColumns;
  read(
    stream: string,
    shardId: string,
    from: ReadPosition,
    limits?: ReadLimits,
  ): Promise<ReadResult>;
  /** Applies retention now (adapters also apply it on their own schedule). */
  enforceRetention(stream: string): Promise<void>;
  /** Finishes pending appends and releases files or connections. */
  close(): Promise<void>;
}
