/**
 * `LocalSegmentLog`: the default StreamLog, segment files in a folder of the project, no services.
 * Appends are group-committed: every call stages its frames in its shards' buffers at once (so
 * one call's records stay together and numbers follow call order), and one writer writes all
 * staged frames of a shard with one durable write (O_DSYNC; a write and an fdatasync where the
 * platform has no O_DSYNC), then answers every call of the group. Durability costs each call a
 * sync's latency, not the log its throughput.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TributaryError } from '../../core/errors.js';
import type {
  AppendOutcome,
  LogRecord,
  ReadLimits,
  ReadPosition,
  PlacedColumns,
  ReadResult,
  RecordColumns,
  RecordInput,
  StreamDescription,
  StreamLog,
  StreamSettings,
} from '../log.js';
import { checkStreamName, checkStreamSettings, placeRecord } from '../records.js';
import { describeShard, shardIdOf, shardIndexOfId } from '../shards.js';
import { COUNTER_DIGITS, stageColumns } from './columns.js';
import { StagingPool, type StagedFrames } from './frame.js';
import { acquireLogLock } from './lock.js';
import { readShard } from './read.js';
import { ShardLog, nodeSegmentIo, type SegmentIo } from './shard-log.js';
import {
  conflict,
  createStreamFolder,
  listStreamFolders,
  removeStreamFolder,
  shardFolder,
  type StreamMetadata,
} from './stream-files.js';

export interface LocalSegmentLogOptions {
  /** A shard starts a new segment file past this size (default 64 MiB). */
  segmentBytes?: number;
  /** How often retention runs on its own, in ms (default one minute; 0: only when asked). */
  retentionIntervalMs?: number;
  /** The file operations of group writes (tests make them fail to play a full disk). */
  io?: SegmentIo;
}

/** A torn or corrupt tail cut from a shard when the log was opened. */
export interface RecoveryNote {
  stream: string;
  shardId: string;
  cutBytes: number;
  problem: string;
}

interface StreamState {
  meta: StreamMetadata;
  dir: string;
  shards: ShardLog[];
  /** Sequence numbers are this (the creation time, 13 digits) and a 20-digit shard counter. */
  prefix: string;
  /** The prefix and the zeros before a counter of i digits, at i (sequenceOf, per record). */
  paddedPrefix: string[];
  shardIds: string[];
}

/**
 * Told of each shard's frames right after their group write is durable, in write order per
 * shard: the stream, its creation time (the sequence numbers' prefix), the shard's index, the
 * frames (the bytes are the listener's from then on; the log never touches them again) and where
 * they lie in the segment files.
 */
export type DurableListener = (
  stream: string,
  createdAtMs: number,
  shardIndex: number,
  frames: StagedFrames,
  /** The segment file and offset the frames were written at. */
  where: { path: string; position: number },
) => void;

/** One append call waiting for its group to be durable: told which shards' writes failed. */
type Waiter = (failed: ReadonlyMap<ShardLog, string>) => void;

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_READ_BYTES = 10 * 1024 * 1024;

const notFound = (what: string) =>
  new TributaryError(`${what} does not exist`, {
    code: 'NOT_FOUND',
    hint: 'list the streams (ListStreams) and their shards (ListShards) to see what there is',
  });

/** The durable log of every stream of one project, in segment files under one folder. */
export class LocalSegmentLog implements StreamLog {
  readonly kind = 'local';
  /** `append` encodes every record into its shard's staging buffer before it returns. */
  readonly copiesOnAppend = true;
  /** Torn tails cut when the log was opened (empty after a clean shutdown). */
  readonly recovered: RecoveryNote[] = [];
  private readonly streams = new Map<string, StreamState>();
  private readonly creating = new Set<string>();
  private readonly shardSettings = new WeakMap<ShardLog, StreamSettings>();
  private readonly shardOwners = new WeakMap<ShardLog, { state: StreamState; index: number }>();
  private waiters: Waiter[] = [];
  private readonly dirty = new Set<ShardLog>();
  private writing: Promise<void> | undefined;
  /** Told each shard's frames once they are durable (the flusher thread's feed). */
  private durableListener: DurableListener | undefined;
  /** Staging buffers written and given back, for the next groups (frame.ts StagingPool). */
  private readonly stagingPool = new StagingPool();
  /** Group writes, retention and deletions run one at a time, in this chain. */
  private lane: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly options: Required<Omit<LocalSegmentLogOptions, 'io'>> & { io: SegmentIo },
    private readonly unlock: () => Promise<void>,
  ) {}

  /** Opens (creating) the log in `dir`: takes its lock and recovers every shard's tail. */
  static async open(dir: string, options: LocalSegmentLogOptions = {}): Promise<LocalSegmentLog> {
    await mkdir(join(dir, 'streams'), { recursive: true });
    const unlock = await acquireLogLock(dir);
    const log = new LocalSegmentLog(
      dir,
      {
        segmentBytes: options.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
        retentionIntervalMs: options.retentionIntervalMs ?? 60_000,
        io: options.io ?? nodeSegmentIo,
      },
      unlock,
    );
    try {
      for (const { dir: streamDir, meta } of await listStreamFolders(log.streamsDir))
        await log.openStream(streamDir, meta);
    } catch (err) {
      await log.closeShards();
      await unlock();
      throw err;
    }
    if (log.options.retentionIntervalMs > 0) {
      log.timer = setInterval(() => void log.enforceAll(), log.options.retentionIntervalMs);
      log.timer.unref();
    }
    return log;
  }

  private get streamsDir(): string {
    return join(this.dir, 'streams');
  }

  private async openStream(dir: string, meta: StreamMetadata): Promise<StreamState> {
    const shards: ShardLog[] = [];
    const prefix = String(meta.createdAtMs).padStart(13, '0');
    const shardIds = Array.from({ length: meta.settings.shards }, (_, i) => shardIdOf(i));
    const paddedPrefix = Array.from(
      { length: COUNTER_DIGITS + 1 },
      (_, digits) => prefix + '0'.repeat(COUNTER_DIGITS - digits),
    );
    const state = { meta, dir, shards, prefix, paddedPrefix, shardIds };
    this.streams.set(meta.name, state);
    for (let i = 0; i < meta.settings.shards; i++) {
      const { shard, cutBytes, problem } = await ShardLog.open(
        shardFolder(dir, i),
        this.stagingPool,
        this.options.io.syncedWrites === true,
      );
      shards.push(shard);
      this.shardSettings.set(shard, meta.settings);
      this.shardOwners.set(shard, { state, index: i });
      if (cutBytes > 0)
        this.recovered.push({
          stream: meta.name,
          shardId: shardIdOf(i),
          cutBytes,
          problem: problem ?? 'torn tail',
        });
    }
    return state;
  }

  /** Creates a stream with empty shards; CONFLICT when one of that name exists. */
  async createStream(name: string, settings: StreamSettings): Promise<StreamDescription> {
    this.assertOpen();
    checkStreamName(name);
    checkStreamSettings(name, settings);
    if (this.streams.has(name) || this.creating.has(name)) throw conflict(name);
    this.creating.add(name);
    try {
      const clean: StreamSettings = { shards: settings.shards, maxAgeMs: settings.maxAgeMs };
      if (settings.maxBytes !== undefined) clean.maxBytes = settings.maxBytes;
      const meta: StreamMetadata = { version: 1, name, settings: clean, createdAtMs: Date.now() };
      const dir = await createStreamFolder(this.streamsDir, meta);
      return this.describe(await this.openStream(dir, meta));
    } finally {
      this.creating.delete(name);
    }
  }

  /** The stream's settings and shards, or undefined. */
  describeStream(name: string): Promise<StreamDescription | undefined> {
    const state = this.streams.get(name);
    return Promise.resolve(state ? this.describe(state) : undefined);
  }

  private describe(state: StreamState): StreamDescription {
    const { meta } = state;
    const shards = state.shards.map((_, i) =>
      describeShard(i, meta.settings.shards, sequenceOf(state, 1)),
    );
    return {
      name: meta.name,
      settings: { ...meta.settings },
      shards,
      createdAt: new Date(meta.createdAtMs),
    };
  }

  /** The names of every stream, sorted. */
  listStreams(): Promise<string[]> {
    return Promise.resolve([...this.streams.keys()].sort());
  }

  /** Deletes a stream and its records (after the writes already staged for it finish). */
  async deleteStream(name: string): Promise<void> {
    this.assertOpen();
    const state = this.stream(name);
    this.streams.delete(name);
    await this.idle();
    await this.exclusive(async () => {
      for (const shard of state.shards) await shard.close();
      await removeStreamFolder(this.streamsDir, name);
    });
  }

  private stream(name: string): StreamState {
    const state = this.streams.get(name);
    if (!state) throw notFound(`stream ${name}`);
    return state;
  }

  private assertOpen(): void {
    if (this.closed)
      throw new TributaryError(`the stream log in ${this.dir} is closed`, {
        code: 'UNAVAILABLE',
        transient: true,
      });
  }

  /** Stages the records in their shards now and resolves once their group is durable. */
  append(stream: string, records: readonly RecordInput[]): Promise<AppendOutcome[]> {
    try {
      this.assertOpen();
      const state = this.stream(stream);
      const { outcomes, shards } = this.stage(state, records);
      return new Promise<AppendOutcome[]>((resolve) => {
        this.wait((failed) => {
          shards.forEach((shard, i) => {
            const reason = shard && failed.get(shard);
            if (reason) outcomes[i] = { ok: false, code: 'UNAVAILABLE', message: reason };
          });
          resolve(outcomes);
        });
      });
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** `append` of records as columns: staged before it returns, durable when `durable` settles. */
  appendColumns(stream: string, records: RecordColumns): PlacedColumns {
    this.assertOpen();
    const state = this.stream(stream);
    let settle!: (failed: ReadonlyMap<number, string>) => void;
    const durable = new Promise<ReadonlyMap<number, string>>((resolve) => (settle = resolve));
    const placed = stageColumns(state, records, Date.now(), this.dirty, durable);
    this.wait((failed) => {
      const byIndex = new Map<number, string>();
      state.shards.forEach((shard, index) => {
        const reason = failed.get(shard);
        if (reason) byIndex.set(index, reason);
      });
      settle(byIndex);
    });
    return placed;
  }

  /** Queues a call for the next group write and starts the writer. */
  private wait(waiter: Waiter): void {
    this.waiters.push(waiter);
    this.kick();
  }

  /**
   * Encodes every accepted record into its shard's staging buffer (synchronously); returns the
   * outcomes and the shard of each accepted record (undefined for a refused one).
   */
  private stage(
    state: StreamState,
    records: readonly RecordInput[],
  ): { outcomes: AppendOutcome[]; shards: (ShardLog | undefined)[] } {
    const count = state.meta.settings.shards;
    const now = Date.now();
    const outcomes: AppendOutcome[] = new Array<AppendOutcome>(records.length);
    const shards: (ShardLog | undefined)[] = new Array<ShardLog | undefined>(records.length);
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      const placed = placeRecord(record, count);
      if (typeof placed === 'string') {
        outcomes[i] = { ok: false, code: 'INPUT', message: placed };
        continue;
      }
      const shard = state.shards[placed]!;
      const counter = shard.stage(shard.arrivalFor(now), record.partitionKey, record.data);
      this.dirty.add(shard);
      shards[i] = shard;
      outcomes[i] = {
        ok: true,
        shardId: state.shardIds[placed]!,
        sequenceNumber: sequenceOf(state, counter),
      };
    }
    return { outcomes, shards };
  }

  /** Starts the group writer unless it runs. */
  private kick(): void {
    if (this.writing) return;
    this.writing = this.drain().finally(() => {
      this.writing = undefined;
      if (this.waiters.length > 0) this.kick();
    });
  }

  /** Writes groups until nothing is staged: each group is what was staged when it began. */
  private async drain(): Promise<void> {
    while (this.waiters.length > 0) {
      await this.exclusive(async () => {
        // Taken in one synchronous step, so a group's callers and its frames always match.
        const waiters = this.waiters.splice(0);
        const group = [...this.dirty].map((shard) => ({ shard, taken: shard.staging.take() }));
        this.dirty.clear();
        const failed = await this.writeGroup(group);
        for (const waiter of waiters) waiter(failed);
      });
    }
  }

  /** Writes and syncs each shard's frames (shards in parallel); returns the shards that failed. */
  private async writeGroup(
    group: { shard: ShardLog; taken: StagedFrames }[],
  ): Promise<Map<ShardLog, string>> {
    const failed = new Map<ShardLog, string>();
    const { io, segmentBytes } = this.options;
    await Promise.all(
      group.map(async ({ shard, taken }) => {
        const settings = this.settingsOf(shard);
        const rollBytes = settings?.maxBytes
          ? Math.min(segmentBytes, Math.max(4096, Math.floor(settings.maxBytes / 4)))
          : segmentBytes;
        const rollAgeMs = (settings?.maxAgeMs ?? 24 * 3_600_000) / 8;
        let where: { path: string; position: number } | undefined;
        try {
          where = await shard.writeFrames(taken, io, rollBytes, rollAgeMs);
        } catch (err) {
          failed.set(shard, describeWriteFailure(err));
          this.recycle(taken.bytes.buffer);
          return;
        }
        const owner = this.shardOwners.get(shard);
        // The listener takes the buffer (and may give it back through `recycle`).
        if (owner && where && this.durableListener)
          this.durableListener(
            owner.state.meta.name,
            owner.state.meta.createdAtMs,
            owner.index,
            taken,
            where,
          );
        else this.recycle(taken.bytes.buffer);
      }),
    );
    return failed;
  }

  /**
   * Sets (or clears) the listener told of every shard's frames once they are durable: the
   * flusher thread takes what was just written from memory instead of reading it back.
   */
  onDurable(listener: DurableListener | undefined): void {
    this.durableListener = listener;
  }

  /**
   * Gives back a staging buffer's memory (the whole ArrayBuffer or SharedArrayBuffer a group's
   * frames were taken from) once nothing reads it any more, for a later group to be built in;
   * false when the log lets it go instead (its pool is full).
   */
  recycle(memory: ArrayBufferLike): boolean {
    return this.stagingPool.give(Buffer.from(memory));
  }

  private settingsOf(shard: ShardLog): StreamSettings | undefined {
    return this.shardSettings.get(shard);
  }

  /** Runs `task` alone: after every group write, retention or deletion queued before it. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.lane.then(task);
    this.lane = run.catch(() => undefined);
    return run;
  }

  /** Resolves when no group write is pending or running. */
  private async idle(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Reads records of one shard from a position, in sequence order. */
  async read(
    stream: string,
    shardId: string,
    from: ReadPosition,
    limits: ReadLimits = {},
  ): Promise<ReadResult> {
    this.assertOpen();
    const state = this.stream(stream);
    const index = shardIndexOfId(shardId);
    const shard = index === undefined ? undefined : state.shards[index];
    if (!shard) throw notFound(`shard ${shardId} of stream ${stream}`);
    const last =
      shard.lastDurableCounter >= Math.max(1, shard.trimmedBelow)
        ? sequenceOf(state, shard.lastDurableCounter)
        : undefined;
    const lastField = last === undefined ? {} : { lastSequenceNumber: last };
    if (from.type === 'latest') {
      // Pinned to the shard's end now, so what is appended before the next read is not skipped.
      const next = { type: 'after', sequenceNumber: sequenceOf(state, shard.lastDurableCounter) };
      return { records: [], next: next as ReadPosition, ...lastField };
    }
    const minCounter =
      from.type === 'at'
        ? counterOf(state, from.sequenceNumber)
        : from.type === 'after'
          ? counterOf(state, from.sequenceNumber) + 1
          : 0;
    const { frames, trimmed } = await readShard(shard, {
      minCounter: Math.max(0, minCounter),
      minArrivalMs: from.type === 'at_time' ? from.timestampMs : -Infinity,
      cutoffMs: Date.now() - state.meta.settings.maxAgeMs,
      reportTrim: from.type === 'at' || from.type === 'after',
      maxRecords: Math.max(1, limits.maxRecords ?? 10_000),
      maxBytes: limits.maxBytes ?? DEFAULT_MAX_READ_BYTES,
    });
    const records: LogRecord[] = frames.map((f) => ({
      shardId,
      sequenceNumber: sequenceOf(state, f.counter),
      partitionKey: f.partitionKey,
      data: f.data,
      arrivalMs: f.arrivalMs,
    }));
    const lastRecord = records.at(-1);
    const next: ReadPosition = lastRecord
      ? { type: 'after', sequenceNumber: lastRecord.sequenceNumber }
      : from;
    const result: ReadResult = { records, next, ...lastField };
    if (trimmed)
      result.trimmedBefore =
        records[0]?.sequenceNumber ?? sequenceOf(state, shard.lastDurableCounter + 1);
    return result;
  }

  /** Removes expired segments of every shard of the stream now. */
  async enforceRetention(stream: string): Promise<void> {
    this.assertOpen();
    const state = this.stream(stream);
    const { maxAgeMs, maxBytes } = state.meta.settings;
    for (const shard of state.shards) await shard.scanExpiring(Date.now() - maxAgeMs);
    await this.exclusive(async () => {
      if (this.streams.get(stream) !== state) return; // deleted meanwhile
      for (const shard of state.shards) await shard.removeExpired(Date.now() - maxAgeMs, maxBytes);
    });
  }

  /** Retention for every stream (the timer's job); a failure waits for the next tick. */
  private async enforceAll(): Promise<void> {
    for (const name of [...this.streams.keys()])
      await this.enforceRetention(name).catch(() => undefined);
  }

  /** Waits for staged appends to be durable, then closes the files and releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.idle();
    await this.exclusive(() => this.closeShards());
    await this.unlock();
  }

  private async closeShards(): Promise<void> {
    for (const state of this.streams.values())
      for (const shard of state.shards) await shard.close();
  }
}

function describeWriteFailure(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const why =
    code === 'ENOSPC' ? 'the disk is full' : err instanceof Error ? err.message : String(err);
  return `the stream log could not write the record durably (${why}); retry later`;
}

/** The sequence number of a shard counter: the stream's prefix and the zero-padded counter. */
function sequenceOf(state: StreamState, counter: number): string {
  // One concatenation (a padStart made a string of its own per record).
  const digits = String(counter);
  return state.paddedPrefix[digits.length]! + digits;
}

/**
 * The shard counter of a sequence number: -1 when it is from before this stream (an earlier
 * stream of the same name), Infinity when it is beyond anything this stream could hand out.
 */
function counterOf(state: StreamState, sequenceNumber: string): number {
  if (!/^\d{1,64}$/.test(sequenceNumber))
    throw new TributaryError(`sequence number ${JSON.stringify(sequenceNumber)} is not valid`, {
      code: 'INPUT',
      hint: 'use a sequence number the log handed out (decimal digits)',
    });
  if (
    sequenceNumber.length === state.prefix.length + COUNTER_DIGITS &&
    sequenceNumber.startsWith(state.prefix)
  )
    return Number(sequenceNumber.slice(state.prefix.length));
  const value = BigInt(sequenceNumber);
  const base = BigInt(state.prefix) * 10n ** BigInt(COUNTER_DIGITS);
  if (value < base) return -1;
  const counter = value - base;
  return counter > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(counter);
}
