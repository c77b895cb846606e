/**
 * The stream log on NATS JetStream (`stream.log.type: jetstream` in tributary.yml), for projects
 * that already run NATS or want the log on another machine than the collector.
 *
 * Mapping (see naming.ts): one file-storage JetStream stream `<prefix>_<name>` per Tributary
 * stream, one subject `<prefix>.<name>.<shardIndex>` per shard; shards are chosen by shards.ts
 * (MD5 of the partition key, as Kinesis). A record is one message: its data the payload, its
 * partition key the `Tributary-Partition-Key` header (URI-encoded, since NATS header values are
 * plain ASCII lines); its arrival time is the server's own store timestamp, which is also what
 * an `at_time` read starts from. Its sequence number is the JetStream stream sequence as a decimal
 * string: unique and increasing within a shard (shards of a stream share the sequence, so a
 * shard's numbers have gaps, which the contract allows).
 *
 * Durability: `append` resolves when every publish has its PubAck, i.e. the server stored the
 * message. nats-server 2.9 syncs its files in the background (sync_interval, default 2 minutes),
 * so "stored" means in the server's file, not necessarily fsynced: a machine crash can lose the
 * last acknowledged records, a nats-server crash alone cannot. This is JetStream's own guarantee.
 *
 * Retention: `max_age` maps to JetStream's `max_age` exactly (the server removes old messages on
 * its own; `enforceRetention` also purges them at once). JetStream limits bytes per stream, not
 * per subject (2.9 has `max_msgs_per_subject` but no per-subject bytes), and counts subject and
 * headers too, so the server's `max_bytes` is set to 2 x shards x maxBytes as a backstop against a
 * full disk; `enforceRetention` applies the contract's exact per-shard limit on record data
 * bytes by purging a shard's subject below the cut, and notes the cut in the stream's
 * description so reads report the gap (`trimmedBefore`).
 */
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import {
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type PubAck,
  type StreamInfo,
} from '@nats-io/jetstream';
import { TributaryError } from '../../core/errors.js';
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
} from '../log.js';
import { checkStreamName, checkStreamSettings, placeRecord } from '../records.js';
import { describeShard, shardIdOf, shardIndexOfId } from '../shards.js';
import { apiErrorCode, toTributaryError } from './errors.js';
import {
  decodeMeta,
  encodeMeta,
  jetStreamNameOf,
  shardSubjectOf,
  streamSubjectsOf,
  type StoredStreamMeta,
} from './naming.js';
import {
  createShardConsumer,
  pullBatch,
  type ConsumerStart,
  type PulledMessage,
  type ShardConsumer,
} from './pull.js';

export interface JetStreamLogOptions {
  /** NATS server URL(s), comma-separated: `nats://127.0.0.1:4222`. */
  url: string;
  /** Prefix of this project's JetStream stream names and subjects. */
  prefix: string;
  /** How long any one request (publish ack, API call, pull) may go unanswered (default 10 s). */
  timeoutMs?: number;
}

/** The header carrying a record's partition key. */
const PARTITION_KEY_HEADER = 'Tributary-Partition-Key';
const DEFAULT_MAX_RECORDS = 10_000;
/** Messages asked for in one pull when the byte budget does not say otherwise. */
const PULL_CHUNK = 10_000;
/** A NATS message's header block: `NATS/1.0\r\n`, `name: value\r\n`, and the closing `\r\n`. */
const HEADER_OVERHEAD = 'NATS/1.0\r\n'.length + `${PARTITION_KEY_HEADER}: \r\n\r\n`.length;

/** The JetStream implementation of the stream log. */
export class JetStreamLog implements StreamLog {
  readonly kind = 'jetstream';
  /** Shard counts of streams appended to; a stream's shard count never changes. */
  private readonly shardCounts = new Map<string, number>();
  /** Consumer deletions and appends still on their way, awaited by `close`. */
  private readonly cleanups = new Set<Promise<unknown>>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly prefix: string,
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  /** Connects to the NATS server and checks that JetStream is enabled there. */
  static async connect(options: JetStreamLogOptions): Promise<JetStreamLog> {
    const { url, prefix } = options;
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (!/^[A-Za-z0-9_-]+$/.test(prefix)) {
      throw new TributaryError(`JetStream prefix "${prefix}" is not usable in stream names`, {
        code: 'CONFIG',
        location: { path: 'stream.log.prefix' },
        hint: 'use letters, digits, _ and - only',
      });
    }
    let nc: NatsConnection | undefined;
    try {
      nc = await connect({
        servers: url.split(',').map((server) => server.trim()),
        name: `tributary-stream-log-${prefix}`,
        timeout: timeoutMs,
        // Reconnect for as long as the process lives; every request has its own timeout, so a
        // lost server shows as UNAVAILABLE answers, never as a hang.
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        // The client otherwise builds an Error (with a stack) per request, in case it times out:
        // a third of an append's CPU time in a profile of 20,000 publishes.
        noAsyncTraces: true,
      });
      const jsm = await jetstreamManager(nc, { timeout: timeoutMs });
      return new JetStreamLog(
        nc,
        jsm,
        jetstream(nc, { timeout: timeoutMs }),
        prefix,
        url,
        timeoutMs,
      );
    } catch (err) {
      await nc?.close().catch(() => undefined);
      throw toTributaryError(err, `connecting to JetStream at ${url}`, url);
    }
  }

  /** Creates the stream; CONFLICT when one by that name exists. */
  async createStream(name: string, settings: StreamSettings): Promise<StreamDescription> {
    checkStreamName(name);
    checkStreamSettings(name, settings);
    if (await this.describeStream(name)) {
      throw new TributaryError(`stream "${name}" exists already`, { code: 'CONFLICT' });
    }
    const meta: StoredStreamMeta = {
      tributary: 1,
      prefix: this.prefix,
      name,
      settings: { ...settings },
      createdAt: new Date().toISOString(),
    };
    try {
      await this.jsm.streams.add({
        name: jetStreamNameOf(this.prefix, name),
        subjects: [streamSubjectsOf(this.prefix, name)],
        description: encodeMeta(meta),
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        num_replicas: 1,
        // JetStream refuses a max_age under 100ms; enforceRetention purges shorter ones exactly.
        max_age: Math.max(100, Math.ceil(settings.maxAgeMs)) * 1_000_000,
        max_bytes: settings.maxBytes === undefined ? -1 : 2 * settings.shards * settings.maxBytes,
      });
    } catch (err) {
      // Name in use (10058) or subjects overlapping another stream (10065): someone has it.
      const code = apiErrorCode(err);
      if (code === 10058 || code === 10065) {
        throw new TributaryError(
          `stream "${name}": JetStream stream ${jetStreamNameOf(this.prefix, name)} exists already (another prefix's or tool's)`,
          { code: 'CONFLICT', cause: err, hint: 'choose another stream name or stream.log.prefix' },
        );
      }
      throw this.failure(err, `creating stream "${name}"`);
    }
    this.shardCounts.set(name, settings.shards);
    return describe(meta);
  }

  /** The stream as stored, or undefined when this prefix has none by that name. */
  async describeStream(name: string): Promise<StreamDescription | undefined> {
    const found = await this.lookup(name);
    return found && describe(found.meta);
  }

  /** The names of this prefix's streams, sorted. */
  async listStreams(): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const info of this.jsm.streams.list(`${this.prefix}.>`)) {
        const meta = decodeMeta(info.config.description, this.prefix);
        if (meta && info.config.name === jetStreamNameOf(this.prefix, meta.name)) {
          names.push(meta.name);
        }
      }
    } catch (err) {
      throw this.failure(err, 'listing streams');
    }
    return names.sort();
  }

  /** Deletes the stream and its records; NOT_FOUND when there is none. */
  async deleteStream(name: string): Promise<void> {
    await this.require(name);
    this.shardCounts.delete(name);
    try {
      await this.jsm.streams.delete(jetStreamNameOf(this.prefix, name));
    } catch (err) {
      throw this.failure(err, `deleting stream "${name}"`);
    }
  }

  /**
   * Publishes every record at once (one connection keeps them in order, so a call's records stay
   * together in each shard) and then waits for all acks; each record's outcome is its own ack.
   */
  append(stream: string, records: readonly RecordInput[]): Promise<AppendOutcome[]> {
    const appending = this.appendRecords(stream, records);
    const tracked = appending.catch(() => undefined).finally(() => this.cleanups.delete(tracked));
    this.cleanups.add(tracked);
    return appending;
  }

  private async appendRecords(
    stream: string,
    records: readonly RecordInput[],
  ): Promise<AppendOutcome[]> {
    const shards = await this.shardCountOf(stream);
    const maxPayload = this.nc.info?.max_payload ?? 1024 * 1024;
    const placements = records.map((record) => placeRecord(record, shards));
    const pending: (Promise<PubAck> | AppendOutcome)[] = records.map((record, index) =>
      this.publishRecord(stream, placements[index]!, record, maxPayload),
    );
    const settled = await Promise.allSettled(pending);
    return settled.map((result, index) => {
      if (result.status === 'rejected') {
        const failure = toTributaryError(
          result.reason,
          `appending to stream "${stream}"`,
          this.url,
        );
        // No responders: nothing stores the subject, i.e. the stream was deleted elsewhere (the
        // next call then says NOT_FOUND) or the server lost JetStream.
        if (/not enabled|no responders/i.test(failure.message)) {
          this.shardCounts.delete(stream);
          const message = `stream "${stream}" took no record: no JetStream stream answers for it (deleted elsewhere, or JetStream is off)`;
          return { ok: false, code: 'UNAVAILABLE', message };
        }
        return { ok: false, code: 'UNAVAILABLE', message: failure.message };
      }
      const value = result.value;
      if ('ok' in value) return value;
      const shard = placements[index] as number;
      return { ok: true, shardId: shardIdOf(shard), sequenceNumber: String(value.seq) };
    });
  }

  /** Starts one record's publish, or says at once why the record cannot be taken. */
  private publishRecord(
    stream: string,
    shard: number | string,
    record: RecordInput,
    maxPayload: number,
  ): Promise<PubAck> | AppendOutcome {
    if (typeof shard === 'string') return { ok: false, code: 'INPUT', message: shard };
    const key = encodeURIComponent(record.partitionKey);
    const size = record.data.length + HEADER_OVERHEAD + key.length;
    if (size > maxPayload) {
      return {
        ok: false,
        code: 'INPUT',
        message: `record of ${record.data.length} bytes is larger than the NATS server's max_payload (${maxPayload} bytes with headers)`,
      };
    }
    const messageHeaders = headers();
    messageHeaders.set(PARTITION_KEY_HEADER, key);
    return this.js.publish(shardSubjectOf(this.prefix, stream, shard), record.data, {
      headers: messageHeaders,
      timeout: this.timeoutMs,
    });
  }

  /** Reads one shard from a position, in sequence order, within the limits. */
  async read(
    stream: string,
    shardId: string,
    from: ReadPosition,
    limits: ReadLimits = {},
  ): Promise<ReadResult> {
    const shard = shardIndexOfId(shardId);
    const start = from.type === 'latest' ? undefined : startOf(from);
    const { meta, info, lastSequence, consumer } = await this.openShardRead(stream, shardId, start);
    const lastSequenceNumber = lastSequence === undefined ? undefined : String(lastSequence);
    if (start === undefined) {
      // `latest`: everything appended from now on has a sequence past the stream's last one.
      const after = String(lastSequence ?? info.state.last_seq);
      return { records: [], next: { type: 'after', sequenceNumber: after }, lastSequenceNumber };
    }
    const trimmed = isTrimmed(meta, info, shard!, from, start);
    const maxRecords = Math.max(1, limits.maxRecords ?? DEFAULT_MAX_RECORDS);
    const maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY;
    const records = consumer ? await this.readRecords(consumer, shardId, maxRecords, maxBytes) : [];
    const last = records.at(-1);
    // The read resumed at the oldest retained record; with none left, at the stream's next one.
    const trimmedBefore = trimmed
      ? (records[0]?.sequenceNumber ??
        String(Math.max(info.state.first_seq, info.state.last_seq + 1)))
      : undefined;
    const newest =
      last && (lastSequence === undefined || Number(last.sequenceNumber) > lastSequence)
        ? last.sequenceNumber
        : lastSequenceNumber;
    return {
      records,
      next: last ? { type: 'after', sequenceNumber: last.sequenceNumber } : from,
      ...(trimmedBefore === undefined ? {} : { trimmedBefore }),
      lastSequenceNumber: newest,
    };
  }

  /**
   * Everything a read needs before it pulls: the stream's metadata and state, the shard's last
   * sequence and (unless the read is `latest`) a consumer from the start. The three requests go
   * out together when the stream's shard count is already known, else after the stream's info;
   * a consumer made for a read that then fails is dropped.
   */
  private async openShardRead(
    stream: string,
    shardId: string,
    start: ConsumerStart | undefined,
  ): Promise<{
    meta: StoredStreamMeta;
    info: StreamInfo;
    lastSequence: number | undefined;
    consumer: ShardConsumer | undefined;
  }> {
    const shard = shardIndexOfId(shardId);
    const jsName = jetStreamNameOf(this.prefix, stream);
    const known = this.shardCounts.get(stream);
    const early = shard !== undefined && known !== undefined && shard < known;
    const found = early ? undefined : await this.require(stream);
    if (found) this.checkShard(stream, shardId, found.meta.settings.shards);
    const subject = shardSubjectOf(this.prefix, stream, shard!);
    const [foundAnswer, lastAnswer, consumerAnswer] = await Promise.allSettled([
      found ?? this.require(stream),
      this.lastSequenceOf(jsName, subject),
      start === undefined ? undefined : this.consumerOf(jsName, subject, start, false),
    ]);
    const consumer = consumerAnswer.status === 'fulfilled' ? consumerAnswer.value : undefined;
    try {
      if (foundAnswer.status === 'rejected') throw foundAnswer.reason;
      if (lastAnswer.status === 'rejected') throw lastAnswer.reason;
      if (consumerAnswer.status === 'rejected') throw consumerAnswer.reason;
      const { meta, info } = foundAnswer.value;
      // The shard count cached may be of a stream since deleted and made again.
      this.checkShard(stream, shardId, meta.settings.shards);
      this.shardCounts.set(stream, meta.settings.shards);
      return { meta, info, lastSequence: lastAnswer.value, consumer };
    } catch (err) {
      if (consumer) this.dropConsumer(consumer);
      throw err;
    }
  }

  /** NOT_FOUND unless `shardId` names one of the stream's shards. */
  private checkShard(stream: string, shardId: string, shards: number): void {
    const shard = shardIndexOfId(shardId);
    if (shard === undefined || shard >= shards) {
      throw new TributaryError(`stream "${stream}" has no shard "${shardId}"`, {
        code: 'NOT_FOUND',
        hint: `its shards are ${shardIdOf(0)} to ${shardIdOf(shards - 1)}`,
      });
    }
  }

  /** Pulls records from a shard's consumer until a limit is reached or none are left; drops it. */
  private async readRecords(
    consumer: ShardConsumer,
    shardId: string,
    maxRecords: number,
    maxBytes: number,
  ): Promise<LogRecord[]> {
    const records: LogRecord[] = [];
    let bytes = 0;
    let pending = consumer.pending;
    try {
      while (pending > 0 && records.length < maxRecords) {
        const room = maxRecords - records.length;
        // Ask for about as many records as the byte budget has room for (by the average size
        // so far), so a read with a small budget does not pull thousands it then drops.
        const average = records.length > 0 ? Math.max(1, bytes / records.length) : undefined;
        const byBytes =
          average === undefined ? PULL_CHUNK : Math.ceil((maxBytes - bytes) / average) + 1;
        const batch = Math.max(1, Math.min(room, pending, byBytes, PULL_CHUNK));
        const pulled = await this.pull(consumer, batch, `reading stream shard ${shardId}`);
        if (pulled.length === 0) break;
        for (const message of pulled) {
          const size = message.msg.data.length;
          if (records.length > 0 && bytes + size > maxBytes) return records;
          records.push(toLogRecord(message, shardId));
          bytes += size;
          if (records.length >= maxRecords) return records;
        }
        pending = pulled.at(-1)!.pending;
      }
      return records;
    } finally {
      this.dropConsumer(consumer);
    }
  }

  /** Applies retention now: age over the whole stream, then each shard's byte limit. */
  async enforceRetention(stream: string): Promise<void> {
    const { meta, info } = await this.require(stream);
    const jsName = info.config.name;
    try {
      await this.purgeByAge(jsName, meta.settings.maxAgeMs, info);
      if (meta.settings.maxBytes === undefined) return;
      const after = await this.jsm.streams.info(jsName);
      // The whole stream's stored bytes (data, subjects, headers) bound every shard's data.
      if (after.state.bytes <= meta.settings.maxBytes) return;
      const trimmedBelow = { ...meta.trimmedBelow };
      let changed = false;
      for (let shard = 0; shard < meta.settings.shards; shard++) {
        const subject = shardSubjectOf(this.prefix, stream, shard);
        const cut = await this.byteCutOf(jsName, subject, meta.settings.maxBytes);
        if (cut === undefined) continue;
        await this.jsm.streams.purge(jsName, { filter: subject, seq: cut });
        trimmedBelow[String(shard)] = Math.max(cut, trimmedBelow[String(shard)] ?? 0);
        changed = true;
      }
      if (changed) {
        await this.jsm.streams.update(jsName, {
          ...after.config,
          description: encodeMeta({ ...meta, trimmedBelow }),
        });
      }
    } catch (err) {
      throw this.failure(err, `applying retention to stream "${stream}"`);
    }
  }

  /** Purges every message stored before now minus `maxAgeMs` (the server also does, lazily). */
  private async purgeByAge(jsName: string, maxAgeMs: number, info: StreamInfo): Promise<void> {
    if (info.state.messages === 0) return;
    const cutoff = new Date(Date.now() - maxAgeMs);
    if (new Date(info.state.first_ts) >= cutoff) return;
    const consumer = await this.consumerOf(jsName, undefined, { time: cutoff }, true);
    try {
      const first = consumer.pending > 0 ? await this.pull(consumer, 1, 'finding old records') : [];
      const keepFrom = first[0]?.streamSequence ?? info.state.last_seq + 1;
      await this.jsm.streams.purge(jsName, { seq: keepFrom });
    } finally {
      this.dropConsumer(consumer);
    }
  }

  /**
   * The sequence number below which a shard must be purged to keep at most `maxBytes` of record
   * data, or undefined when it is within the limit. Two passes over the shard's headers (the
   * server sends each message's size, not its data): the total, then where the excess ends.
   */
  private async byteCutOf(
    jsName: string,
    subject: string,
    maxBytes: number,
  ): Promise<number | undefined> {
    let total = 0;
    await this.scanSizes(jsName, subject, (_, size) => {
      total += size;
      return true;
    });
    if (total <= maxBytes) return undefined;
    let excess = total - maxBytes;
    let cut: number | undefined;
    await this.scanSizes(jsName, subject, (seq, size) => {
      if (excess <= 0) {
        cut = seq;
        return false;
      }
      excess -= size;
      return true;
    });
    return cut;
  }

  /** Visits (sequence, data size) of every message of `subject` until `visit` says stop. */
  private async scanSizes(
    jsName: string,
    subject: string,
    visit: (seq: number, size: number) => boolean,
  ): Promise<void> {
    const consumer = await this.consumerOf(jsName, subject, { seq: 1 }, true);
    try {
      let pending = consumer.pending;
      while (pending > 0) {
        const pulled = await this.pull(
          consumer,
          Math.min(pending, PULL_CHUNK),
          'measuring a shard',
        );
        if (pulled.length === 0) return;
        for (const message of pulled) {
          const size = Number(message.msg.headers?.get('Nats-Msg-Size') ?? '0');
          if (!visit(message.streamSequence, size)) return;
        }
        pending = pulled.at(-1)!.pending;
      }
    } finally {
      this.dropConsumer(consumer);
    }
  }

  /** Waits for appends and consumer deletions still running, then closes the connection. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.cleanups]);
    if (!this.nc.isClosed()) await this.nc.close().catch(() => undefined);
  }

  /** The stream's stored metadata and JetStream info, or undefined when there is none. */
  private async lookup(
    name: string,
  ): Promise<{ meta: StoredStreamMeta; info: StreamInfo } | undefined> {
    if (name.length === 0) return undefined;
    let info: StreamInfo;
    try {
      info = await this.jsm.streams.info(jetStreamNameOf(this.prefix, name));
    } catch (err) {
      const failure = this.failure(err, `looking up stream "${name}"`);
      if (failure.code === 'NOT_FOUND') return undefined;
      throw failure;
    }
    const meta = decodeMeta(info.config.description, this.prefix);
    return meta && meta.name === name ? { meta, info } : undefined;
  }

  /** Like `lookup`, but NOT_FOUND when the stream does not exist. */
  private async require(name: string): Promise<{ meta: StoredStreamMeta; info: StreamInfo }> {
    const found = await this.lookup(name);
    if (!found) {
      throw new TributaryError(`stream "${name}" does not exist`, {
        code: 'NOT_FOUND',
        hint: 'create it first (CreateStream, or stream.streams in tributary.yml)',
      });
    }
    return found;
  }

  /** The stream's shard count, cached after the first look (it never changes). */
  private async shardCountOf(stream: string): Promise<number> {
    const known = this.shardCounts.get(stream);
    if (known !== undefined) return known;
    const { meta } = await this.require(stream);
    this.shardCounts.set(stream, meta.settings.shards);
    return meta.settings.shards;
  }

  /** The last sequence number stored on `subject`, or undefined when it has none. */
  private async lastSequenceOf(jsName: string, subject: string): Promise<number | undefined> {
    try {
      const last = await this.jsm.streams.getMessage(jsName, { last_by_subj: subject });
      return last?.seq;
    } catch (err) {
      if (apiErrorCode(err) === 10037) return undefined; // no message found
      throw this.failure(err, `reading the last record of ${subject}`);
    }
  }

  private async consumerOf(
    jsName: string,
    subject: string | undefined,
    start: ConsumerStart,
    headersOnly: boolean,
  ): Promise<ShardConsumer> {
    try {
      return await createShardConsumer(this.jsm, jsName, subject, start, headersOnly);
    } catch (err) {
      throw this.failure(err, `opening a reader on ${subject ?? jsName}`);
    }
  }

  private async pull(
    consumer: ShardConsumer,
    batch: number,
    action: string,
  ): Promise<PulledMessage[]> {
    try {
      return await pullBatch(this.nc, consumer, batch, this.timeoutMs);
    } catch (err) {
      throw this.failure(err, action);
    }
  }

  /** Deletes a reader's consumer without waiting (its inactivity limit removes it anyway). */
  private dropConsumer(consumer: ShardConsumer): void {
    const deletion = this.jsm.consumers
      .delete(consumer.stream, consumer.name)
      .catch(() => undefined)
      .finally(() => this.cleanups.delete(deletion));
    this.cleanups.add(deletion);
  }

  private failure(err: unknown, action: string): TributaryError {
    return toTributaryError(err, action, this.url);
  }
}

/** Where a consumer starts for a read position other than `latest`. */
function startOf(from: Exclude<ReadPosition, { type: 'latest' }>): ConsumerStart {
  switch (from.type) {
    case 'oldest':
      return { seq: 1 };
    case 'at':
      return { seq: sequenceOf(from.sequenceNumber) };
    case 'after':
      return { seq: sequenceOf(from.sequenceNumber) + 1 };
    case 'at_time':
      return { time: new Date(from.timestampMs) };
  }
}

function sequenceOf(text: string): number {
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new TributaryError(`"${text}" is not a sequence number of this log`, {
      code: 'INPUT',
      hint: 'JetStream sequence numbers are decimal integers below 2^53',
    });
  }
  return Number(text);
}

/**
 * Whether records from the position a read asked for (`at`/`after`) are gone: records below the
 * stream's first sequence were removed by the server's age or size limits, and below the shard's
 * own mark by `enforceRetention`'s per-shard limit. Shards share the sequence, so the gap may have
 * held only other shards' records: the report errs towards a gap, never hides one.
 */
function isTrimmed(
  meta: StoredStreamMeta,
  info: StreamInfo,
  shard: number,
  from: ReadPosition,
  start: ConsumerStart,
): boolean {
  if ((from.type !== 'at' && from.type !== 'after') || !('seq' in start)) return false;
  const removedBelow = Math.max(info.state.first_seq, meta.trimmedBelow?.[String(shard)] ?? 0);
  return start.seq < removedBelow;
}

function toLogRecord(message: PulledMessage, shardId: string): LogRecord {
  const key = message.msg.headers?.get(PARTITION_KEY_HEADER) ?? '';
  return {
    shardId,
    sequenceNumber: String(message.streamSequence),
    partitionKey: decodeURIComponent(key),
    data: Buffer.from(
      message.msg.data.buffer,
      message.msg.data.byteOffset,
      message.msg.data.length,
    ),
    arrivalMs: message.storedMs,
  };
}

function describe(meta: StoredStreamMeta): StreamDescription {
  const { shards } = meta.settings;
  return {
    name: meta.name,
    settings: { ...meta.settings },
    createdAt: new Date(meta.createdAt),
    shards: Array.from({ length: shards }, (_, index) => describeShard(index, shards, '1')),
  };
}
