/**
 * `tributary generate --stream`: the template's clickstream events replayed into the collector
 * through the real Kinesis SDK (PutRecords), as the seeds' site sends them to Kinesis. Batches of
 * up to 500 records, partition key the session (else the anonymous id), records the collector
 * refuses retried with backoff per `FailedRecordCount`, at a chosen rate.
 */
import {
  DescribeStreamSummaryCommand,
  KinesisClient,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis';
import { randomBytes } from 'node:crypto';
import { TributaryError, type ProgressReporter } from '../../core/index.js';
import type { Project } from '../../project/index.js';
import { buildCollectorApp, openStreamLog } from '../../stream/index.js';
import type { LineSink } from '../../../templates/ecommerce/generator/clickstream.js';

/** How to replay: all optional; the project and the environment fill in the rest. */
export interface StreamReplayOptions {
  /** Events per second (default: as fast as the collector acknowledges). */
  rate?: number;
  /** The collector's URL (default: `stream.collector`, where `collect` and `serve` listen). */
  endpoint?: string;
  /** A producer key (`tributary token create --role producer`); default AWS_ACCESS_KEY_ID. */
  accessKeyId?: string;
  /** Its secret; default AWS_SECRET_ACCESS_KEY. */
  secretAccessKey?: string;
  /** The region signatures are scoped to; default AWS_REGION, else us-east-1. */
  region?: string;
}

/** What the replay did, for the summary and `--json`. */
export interface StreamReplaySummary {
  stream: string;
  endpoint: string;
  /** Events handed to the replay. */
  records: number;
  /** Events the collector acknowledged (durably stored). */
  acknowledged: number;
  /** Events still refused after every retry: not delivered. */
  failed: number;
  /** Record sends repeated after a per-record failure or a failed request. */
  retried: number;
  /** PutRecords requests made, retries included. */
  requests: number;
  /** Per-record error codes seen (retried or not), e.g. ProvisionedThroughputExceededException. */
  errors: Record<string, number>;
  /** Acknowledged events per shard. */
  shards: Record<string, number>;
  seconds: number;
  eventsPerSecond: number;
  /** The rate asked for; null when unthrottled. */
  rate: number | null;
}

/** PutRecords takes at most 500 records and 5 MiB in one request. */
const MAX_BATCH_RECORDS = 500;
const MAX_BATCH_BYTES = 5 * 1024 * 1024;
/** Requests in flight at once: enough to keep a group-committing collector busy. */
const MAX_IN_FLIGHT = 8;
/** Sends of one record before it counts as failed (the first send included). */
const MAX_ATTEMPTS = 8;
/** Whole-request errors worth another try; the rest (bad key, unknown stream) are final. */
const RETRYABLE = new Set([
  'ProvisionedThroughputExceededException',
  'KMSThrottlingException',
  'InternalFailure',
  'InternalFailureException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ThrottlingException',
  'LimitExceededException',
  'TimeoutError',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
]);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Exponential backoff with full jitter: 50 ms doubling up to 2 s. */
function backoffMs(attempt: number): number {
  return Math.random() * Math.min(2000, 50 * 2 ** attempt);
}

function errorName(err: unknown): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string } };
  return e.code ?? e.cause?.code ?? e.name ?? 'Error';
}

/**
 * A LineSink sending each NDJSON line as one Kinesis record. add() buffers; flush() dispatches
 * the batch (waiting for the rate and for a free request slot); close() waits for every request.
 */
export class KinesisReplay implements LineSink {
  private batch: PutRecordsRequestEntry[] = [];
  private batchBytes = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  private readonly started = performance.now();
  private dispatched = 0;
  private readonly summary: StreamReplaySummary;
  private readonly batchRecords: number;

  constructor(
    private readonly client: KinesisClient,
    stream: string,
    endpoint: string,
    private readonly opts: {
      total: number;
      rate?: number;
      progress: ProgressReporter;
      label: string;
    },
  ) {
    // At a low rate, small batches spread the events over the second instead of bursting.
    this.batchRecords = opts.rate
      ? Math.min(MAX_BATCH_RECORDS, Math.max(1, Math.ceil(opts.rate / 20)))
      : MAX_BATCH_RECORDS;
    this.summary = {
      stream,
      endpoint,
      records: 0,
      acknowledged: 0,
      failed: 0,
      retried: 0,
      requests: 0,
      errors: {},
      shards: {},
      seconds: 0,
      eventsPerSecond: 0,
      rate: opts.rate ?? null,
    };
  }

  /** Buffers one line as a record; true when a batch is full and flush() should be awaited. */
  add(line: string): boolean {
    const text = line.endsWith('\n') ? line.slice(0, -1) : line;
    const data = Buffer.from(text, 'utf8');
    const event = JSON.parse(text) as { session_id?: unknown; anonymous_id?: unknown };
    const key = [event.session_id, event.anonymous_id].find(
      (k): k is string => typeof k === 'string' && k.length > 0,
    );
    this.batch.push({ Data: data, PartitionKey: key ?? `event-${this.summary.records}` });
    this.batchBytes += data.length + (key?.length ?? 16);
    this.summary.records++;
    return (
      this.batch.length >= this.batchRecords || this.batchBytes >= MAX_BATCH_BYTES - 1024 * 1024
    );
  }

  /** Sends the buffered batch once the rate allows and a request slot is free. */
  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.batch.length === 0) return;
    const records = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    if (this.opts.rate) {
      const due = this.started + (this.dispatched / this.opts.rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
    }
    this.dispatched += records.length;
    while (this.inFlight.size >= MAX_IN_FLIGHT) await Promise.race(this.inFlight);
    const sending: Promise<void> = this.send(records)
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => this.inFlight.delete(sending));
    this.inFlight.add(sending);
  }

  /** Sends what is left and waits for every request; throws the first request that failed. */
  async close(): Promise<void> {
    await this.flush();
    while (this.inFlight.size) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  /** The outcome so far (complete after close()). */
  result(): StreamReplaySummary {
    const seconds = (performance.now() - this.started) / 1000;
    return {
      ...this.summary,
      seconds: Math.round(seconds * 1000) / 1000,
      eventsPerSecond: seconds > 0 ? Math.round(this.summary.acknowledged / seconds) : 0,
    };
  }

  /** One batch to its end: resends refused records with backoff until taken or out of tries. */
  private async send(records: PutRecordsRequestEntry[]): Promise<void> {
    const s = this.summary;
    let pending = records;
    for (let attempt = 1; ; attempt++) {
      s.requests++;
      let failedNow: PutRecordsRequestEntry[];
      try {
        const res = await this.client.send(
          new PutRecordsCommand({ StreamName: s.stream, Records: pending }),
        );
        const results = res.Records ?? [];
        failedNow = pending.filter((_, i) => results[i]?.ErrorCode !== undefined);
        for (const r of results) {
          if (r.ErrorCode !== undefined) s.errors[r.ErrorCode] = (s.errors[r.ErrorCode] ?? 0) + 1;
          else if (r.ShardId) s.shards[r.ShardId] = (s.shards[r.ShardId] ?? 0) + 1;
        }
        s.acknowledged += pending.length - failedNow.length;
      } catch (err) {
        const name = errorName(err);
        if (!RETRYABLE.has(name)) throw requestError(err, s.stream, s.endpoint);
        s.errors[name] = (s.errors[name] ?? 0) + pending.length;
        failedNow = pending;
      }
      this.opts.progress.update({
        label: this.opts.label,
        done: s.acknowledged,
        total: this.opts.total,
        unit: 'events',
      });
      if (failedNow.length === 0) return;
      if (attempt >= MAX_ATTEMPTS) {
        s.failed += failedNow.length;
        return;
      }
      s.retried += failedNow.length;
      pending = failedNow;
      await sleep(backoffMs(attempt));
    }
  }
}

/** A request the collector refused for good, as a TributaryError saying what to do. */
function requestError(err: unknown, stream: string, endpoint: string): TributaryError {
  const name = errorName(err);
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'ResourceNotFoundException')
    return new TributaryError(`the collector at ${endpoint} has no stream ${stream}`, {
      code: 'CONFIG',
      hint: `list it under stream.streams in tributary.yml (e.g. ${stream}: { shards: 2 }) and restart the collector`,
    });
  if (unreachable(err))
    return new TributaryError(`no collector answers at ${endpoint}`, {
      code: 'CONFIG',
      hint: 'start one with `tributary collect` (or `tributary serve`), or give --endpoint',
    });
  if (/Signature|Unrecognized|AccessDenied|Forbidden|Credentials|Token/i.test(name))
    return new TributaryError(`the collector refused the producer key: ${message}`, {
      code: 'USAGE',
      hint: 'make a key with `tributary token create --role producer` and pass it in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY',
    });
  return new TributaryError(
    `PutRecords into ${stream} at ${endpoint} failed: ${name}: ${message}`,
    {
      code: 'INPUT',
    },
  );
}

/** True when nothing listens at the endpoint (as opposed to a collector that refuses). */
function unreachable(err: unknown): boolean {
  const e = err as { message?: string };
  return /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|EADDRNOTAVAIL/.test(
    `${errorName(err)} ${e.message ?? ''}`,
  );
}

/** The stream that feeds the project's clickstream table, or a clear error when none does. */
export function clickstreamStreamOf(project: Project): string {
  const table = project.tables.find((t) => t.table === 'clickstream');
  if (table?.kind !== 'stream')
    throw new TributaryError(
      `--stream needs the clickstream table fed by a stream; ${table ? `it is a ${table.kind} source here` : 'this project has no clickstream table'}`,
      {
        code: 'CONFIG',
        hint: 'in tributary.yml: sources: { web: { type: stream, tables: { clickstream: { stream: clickstream } } } }',
      },
    );
  return table.stream;
}

/** The collector's URL: --endpoint, else `stream.collector` (where `collect` and `serve` listen). */
export function collectorEndpoint(project: Project, endpoint: string | undefined): string {
  if (endpoint !== undefined) {
    if (!/^https?:\/\/[^/]+/.test(endpoint))
      throw new TributaryError(`--endpoint must be an http(s) URL, not ${endpoint}`, {
        code: 'USAGE',
      });
    return endpoint.replace(/\/+$/, '');
  }
  const { host, port } = project.config.stream.collector;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** A Kinesis client for the collector, checked to know the stream; errors say what to do. */
export async function connectReplay(
  project: Project,
  options: StreamReplayOptions,
): Promise<{ client: KinesisClient; stream: string; endpoint: string }> {
  const stream = clickstreamStreamOf(project);
  const accessKeyId = options.accessKeyId ?? process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = options.secretAccessKey ?? process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey)
    throw new TributaryError('--stream needs a producer key to sign its requests', {
      code: 'USAGE',
      hint: 'run `tributary token create --role producer` and set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or pass --access-key-id/--secret-access-key)',
    });
  const endpoint = collectorEndpoint(project, options.endpoint);
  const client = new KinesisClient({
    endpoint,
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 3,
  });
  try {
    // One call first: a missing stream, a refused key or no collector fails before any file.
    await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    return { client, stream, endpoint };
  } catch (err) {
    client.destroy();
    throw requestError(err, stream, endpoint);
  }
}

/**
 * Runs `fn` with a collector of this process's own: the collector routes over the project's stream
 * log (its configured streams created when missing) on a free port of 127.0.0.1, taking one key
 * made for this call alone (never stored, useless after). For the demo and tests, where no
 * `tributary collect` or `serve` runs; the log is closed after, so a run can land what it took.
 */
export async function withOwnCollector<T>(
  project: Project,
  fn: (replay: StreamReplayOptions & { endpoint: string }) => Promise<T>,
): Promise<T> {
  const log = await openStreamLog(project.config.stream.log, project.dir);
  try {
    for (const [name, def] of Object.entries(project.config.stream.streams))
      if (!(await log.describeStream(name)))
        await log.createStream(name, {
          shards: def.shards,
          maxAgeMs: def.retention.max_age,
          ...(def.retention.max_bytes !== undefined && { maxBytes: def.retention.max_bytes }),
        });
    const accessKeyId = `TRBOWN${randomBytes(7).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(30).toString('base64url');
    const app = await buildCollectorApp({
      log,
      credentials: {
        secretFor: (id: string) =>
          Promise.resolve(id === accessKeyId ? secretAccessKey : undefined),
        checkBearer: () => Promise.resolve('this collector takes only its own SigV4 key'),
      },
    });
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      return await fn({ endpoint: `http://127.0.0.1:${port}`, accessKeyId, secretAccessKey });
    } finally {
      await app.close();
    }
  } finally {
    await log.close();
  }
}
