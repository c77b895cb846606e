/**
 * What the streaming proofs share (the SIGKILL fault test, the bad-input tests and
 * `npm run bench:stream`): a small stream project written on the fly, a producer key made with
 * the real `tributary token create --role producer`, the real `tributary collect` process
 * (spawned like a user runs it, so it can be SIGKILLed and its CPU read from /proc), producers
 * that speak to it as AWS clients do (the real `@aws-sdk/client-kinesis`, and raw HTTP signed
 * with the SDK's own SigV4 signer, `@smithy/signature-v4`), and a reader of what landed: the
 * processed table, its quarantine and the raw NDJSON batches, read from the lake's manifests with
 * DuckDB, never through the code under test.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { DuckDBInstance } from '@duckdb/node-api';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { runTributary, spawnTributary, type Proc } from '../e2e/crash-campaign/processes.js';

export const REGION = 'us-east-1';

/** A producer's access key, as `tributary token create --role producer` issues it. */
export interface ProducerKey {
  accessKeyId: string;
  secretAccessKey: string;
  /** The bearer token `POST /api/events` accepts, when the command prints one apart. */
  token?: string;
}

/** A free TCP port on 127.0.0.1 (bound, then released, for the collector to take). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export interface StreamProjectOptions {
  port: number;
  /** Stream and table name (default `events`), in source `web`. */
  stream?: string;
  shards?: number;
  /** Buffering hints of the flusher (default 64MB / 1s: short, so tests see rows soon). */
  maxBytes?: string;
  maxAge?: string;
  /** Contract primary key (default [event_id]; [] for none). */
  primaryKey?: string[];
  /** Extra YAML under `stream:` (e.g. retention), already indented by four spaces. */
  streamExtra?: string;
}

/** Writes files (path → content) under a folder, creating folders as needed. */
export function writeProjectFiles(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** The files of a project with one stream feeding one table under a clickstream-like contract. */
export function streamProjectFiles(options: StreamProjectOptions): Record<string, string> {
  const stream = options.stream ?? 'events';
  const key = options.primaryKey ?? ['event_id'];
  return {
    'tributary.yml': `name: streamproof
stream:
  log: { type: local, path: .tributary/stream }
  streams:
    ${stream}: { shards: ${options.shards ?? 2}, retention: { max_age: 24h } }
${options.streamExtra ?? ''}  collector: { host: 127.0.0.1, port: ${options.port} }
sources:
  web:
    type: stream
    tables:
      ${stream}: { stream: ${stream}, buffer: { max_bytes: ${options.maxBytes ?? '64MB'}, max_age: ${options.maxAge ?? '1s'} } }
`,
    [`contracts/${stream}.yml`]: `${key.length ? `primary_key: [${key.join(', ')}]\n` : ''}columns:
  - { name: event_id, type: string, required: true }
  - { name: user_id, type: bigint, required: true }
  - { name: event_type, type: string, required: true }
  - { name: event_ts, type: timestamp, required: true }
  - { name: url, type: string }
`,
  };
}

/**
 * Issues a producer key with the real CLI (before `collect` starts: the state database is then
 * free). Reads `--json` output, whatever names the key fields carry.
 */
export async function createProducerKey(project: string): Promise<ProducerKey> {
  const proc = await runTributary(project, ['token', 'create', '--role', 'producer', '--json']);
  const out = proc.output();
  const json = JSON.parse(out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1)) as Record<
    string,
    unknown
  >;
  const pick = (re: RegExp) =>
    Object.entries(json).find(([k, v]) => re.test(k) && typeof v === 'string')?.[1] as
      string | undefined;
  const accessKeyId = pick(/^access_?key_?id$|^key_?id$/i);
  const secretAccessKey = pick(/secret/i);
  if (!accessKeyId || !secretAccessKey)
    throw new Error(`token create --role producer printed no key id and secret:\n${out}`);
  return { accessKeyId, secretAccessKey, token: pick(/^token$/i) };
}

/** True once something accepts TCP connections on the port. */
async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A running `tributary collect`. */
export interface Collector {
  proc: Proc;
  port: number;
  url: string;
  pid: number;
}

/**
 * Starts `tributary collect` (or `args`, e.g. `serve --port 0`, which collects too) on the project
 * and waits until the collector's port answers (or, with `mayExit`, until it has exited).
 */
export async function startCollector(
  project: string,
  port: number,
  env: Record<string, string> = {},
  options: { timeoutMs?: number; mayExit?: boolean; args?: string[] } = {},
): Promise<Collector> {
  const proc = spawnTributary(project, options.args ?? ['collect'], env);
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (!(await listening(port))) {
    // A collector armed to crash at a fault point may reach it before it listens.
    if (proc.done() && options.mayExit) break;
    if (proc.done())
      throw new Error(`tributary collect exited before listening:\n${proc.output()}`);
    if (Date.now() > deadline)
      throw new Error(`tributary collect did not listen on ${port}:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, port, url: `http://127.0.0.1:${port}`, pid: proc.child.pid! };
}

/** Stops a collector with SIGTERM (it finishes what it holds) and waits for it. */
export async function stopCollector(collector: Collector): Promise<void> {
  if (collector.proc.done()) return;
  collector.proc.child.kill('SIGTERM');
  const timer = setTimeout(() => collector.proc.kill(), 60_000);
  await collector.proc.exited;
  clearTimeout(timer);
}

/** The real Kinesis SDK client pointed at the collector (no retries unless asked). */
export function kinesisClient(url: string, key: ProducerKey, maxAttempts = 1): KinesisClient {
  return new KinesisClient({
    endpoint: url,
    region: REGION,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    maxAttempts,
  });
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

/** The bytes of what the signer hands a hash. */
function bytesOf(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** node:crypto as the signer's hash constructor (an HMAC when given a key), as the SDK's own. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }
  reset(): void {
    throw new Error('not used');
  }
}

/** A request ready to send as raw HTTP: method, path, headers (signed) and body. */
export interface SignedRequest {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Signs a POST to the collector with SigV4 as the SDK does (service `kinesis` or `firehose`).
 * `headers` override the defaults (content type and target), for requests that are wrong on
 * purpose.
 */
export async function signRequest(
  key: ProducerKey,
  port: number,
  body: Buffer | string,
  target: string,
  options: { service?: string; headers?: Record<string, string>; path?: string } = {},
): Promise<SignedRequest> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const service = options.service ?? (target.startsWith('Firehose') ? 'firehose' : 'kinesis');
  const signer = new SignatureV4({
    service,
    region: REGION,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    sha256: NodeSha256,
  });
  const request = new HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port,
    path: options.path ?? '/',
    headers: {
      host: `127.0.0.1:${port}`,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': target,
      ...options.headers,
    },
    body: bytes,
  });
  const signed = await signer.sign(request);
  return { path: signed.path, headers: signed.headers, body: bytes };
}

/** A PutRecords body: records as the SDK sends them (base64 data). */
export function putRecordsBody(
  stream: string,
  records: readonly { data: Buffer | string; partitionKey: string }[],
): Buffer {
  return Buffer.from(
    JSON.stringify({
      StreamName: stream,
      Records: records.map((r) => ({
        Data: Buffer.from(r.data).toString('base64'),
        PartitionKey: r.partitionKey,
      })),
    }),
  );
}

/** An HTTP response: status, headers, body as text. */
export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Sends a request over `agent` (keep-alive connections) and reads the whole answer. */
export function sendRaw(
  port: number,
  request: SignedRequest,
  agent?: http.Agent,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: request.path,
        headers: { ...request.headers, 'content-length': String(request.body.length) },
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(request.body);
  });
}

/** What landed for one stream table, read straight from the lake's files. */
export interface Landed {
  /** Processed rows: event_id, shard and sequence number of each. */
  processed: { eventId: string; shardId: string; sequenceNumber: string }[];
  /** Quarantined rows with the reason columns the table keeps. */
  quarantined: Record<string, unknown>[];
  /** Raw NDJSON lines of every committed batch, parsed when they parse (else the text). */
  raw: unknown[];
  /** The raw manifest's cursor (the per-shard flushed-up-to positions). */
  cursor: Record<string, unknown> | undefined;
}

interface ManifestFiles {
  files?: { key: string }[];
  quarantine?: { key: string }[];
}

/** Rows of Parquet files under the lake folder, as plain objects (values as strings). */
async function parquetRows(
  lake: string,
  keys: string[],
  columns: string,
): Promise<Record<string, unknown>[]> {
  if (keys.length === 0) return [];
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const list = keys.map((k) => `'${join(lake, k).replace(/'/g, "''")}'`).join(', ');
    const reader = await conn.runAndReadAll(
      `SELECT ${columns} FROM read_parquet([${list}], union_by_name = true)`,
    );
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** Reads the processed table, its quarantine and its raw batches (source `web`). */
export async function readLanded(project: string, table = 'events'): Promise<Landed> {
  const lake = join(project, '.tributary', 'lake');
  const json = async <T>(key: string): Promise<T | undefined> => {
    try {
      return JSON.parse(await readFile(join(lake, key), 'utf8')) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  };
  const processedManifest = await json<ManifestFiles>(`processed/${table}/_manifest.json`);
  const rawManifest = await json<{ batches: { key: string }[]; cursor?: Record<string, unknown> }>(
    `raw/web/${table}/_manifest.json`,
  );
  const processed = (
    await parquetRows(
      lake,
      (processedManifest?.files ?? []).map((f) => f.key),
      'event_id, _shard_id, _sequence_number',
    )
  ).map((r) => ({
    eventId: String(r.event_id),
    shardId: String(r._shard_id),
    sequenceNumber: String(r._sequence_number),
  }));
  const quarantined = await parquetRows(
    lake,
    (processedManifest?.quarantine ?? []).map((f) => f.key),
    '*',
  );
  const raw: unknown[] = [];
  for (const batch of rawManifest?.batches ?? []) {
    for (const line of (await readFile(join(lake, batch.key), 'utf8')).split('\n')) {
      if (!line) continue;
      try {
        raw.push(JSON.parse(line));
      } catch {
        raw.push(line);
      }
    }
  }
  return { processed, quarantined, raw, cursor: rawManifest?.cursor };
}

/** Polls `readLanded` until `done(landed)` or the timeout; returns the last read. */
export async function waitForLanded(
  project: string,
  done: (landed: Landed) => boolean,
  timeoutMs = 60_000,
  table = 'events',
): Promise<Landed> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const landed = await readLanded(project, table);
    if (done(landed) || Date.now() > deadline) return landed;
    await new Promise((r) => setTimeout(r, 250));
  }
}
