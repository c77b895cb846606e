/**
 * Quick collector throughput check (not `bench:stream`, which measures the whole path): raw HTTP
 * PutRecords of 500 × 1 KB events, pre-signed once with SigV4, sent by a child process over
 * keep-alive HTTP/1.1 connections to the collector plugin on a Fastify server over the local
 * segment log (fsync per group commit). Reference, same run: the same batches appended straight
 * to a fresh local log with the same concurrency, no HTTP. Prints requests/s, events/s, ack
 * latency, the server process's CPU time per 1,000 events (less sensitive to a loaded machine
 * than rates) and the HTTP/direct ratio.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/collector.js [--seconds 10] [--concurrency 16]
 *     [--h2 (the load over cleartext HTTP/2, one session, as the Kinesis SDK sends)]
 *     [--sdk (the load through @aws-sdk/client-kinesis, signing each call)] [--http-only]
 */
import { createHash, randomBytes } from 'node:crypto';
import { rmSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { collectorRoutes, dualProtocolServerFactory } from '../src/stream/collector/index.js';
import { NodeSha256 } from '../src/stream/collector/sigv4.js';
import { LocalSegmentLog } from '../src/stream/local/index.js';
import type { RecordInput } from '../src/stream/log.js';

const KEY = { accessKeyId: 'TRBBENCH', secretAccessKey: randomBytes(30).toString('base64') };
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

interface Load {
  port: number;
  headers: Record<string, string>;
  body: string;
  seconds: number;
  concurrency: number;
  /** Send over cleartext HTTP/2 (as the Kinesis SDK does), one stream per call, one session. */
  h2?: boolean;
  /** Send through `@aws-sdk/client-kinesis` (it signs each call and speaks HTTP/2 to http://). */
  sdk?: { accessKeyId: string; secretAccessKey: string };
}
interface Tally {
  requests: number;
  failed: number;
  latencies: number[];
  /** CPU time of this process (the server's side; the client is another process), ms. */
  cpuMs?: number;
}

/** The HTTP/2 worker: `concurrency` streams in flight on one session, as the SDK sends them. */
async function sendLoadH2({ port, headers, body, seconds, concurrency }: Load): Promise<Tally> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  const tally: Tally = { requests: 0, failed: 0, latencies: [] };
  const end = Date.now() + seconds * 1000;
  const { host: _host, ...rest } = headers;
  const one = () =>
    new Promise<void>((resolve) => {
      const start = performance.now();
      const stream = session.request({ ':method': 'POST', ':path': '/', ...rest });
      let status = 0;
      const chunks: Buffer[] = [];
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const ok = status === 200 && Buffer.concat(chunks).includes('"FailedRecordCount":0');
        if (ok) tally.requests++;
        else tally.failed++;
        tally.latencies.push(performance.now() - start);
        resolve();
      });
      stream.on('error', () => {
        tally.failed++;
        resolve();
      });
      stream.end(body);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) await one();
    }),
  );
  session.close();
  return tally;
}

/** The SDK worker: `concurrency` PutRecords calls in flight through the Kinesis client. */
async function sendLoadSdk(load: Load, credentials: NonNullable<Load['sdk']>): Promise<Tally> {
  const client = new KinesisClient({
    endpoint: `http://127.0.0.1:${load.port}`,
    region: 'us-east-1',
    credentials,
    maxAttempts: 1,
  });
  const parsed = JSON.parse(load.body) as { Records: { PartitionKey: string; Data: string }[] };
  const records = parsed.Records.map((r) => ({
    PartitionKey: r.PartitionKey,
    Data: new Uint8Array(Buffer.from(r.Data, 'base64')),
  }));
  const tally: Tally = { requests: 0, failed: 0, latencies: [] };
  const end = Date.now() + load.seconds * 1000;
  await Promise.all(
    Array.from({ length: load.concurrency }, async () => {
      while (Date.now() < end) {
        const start = performance.now();
        try {
          const out = await client.send(
            new PutRecordsCommand({ StreamName: 'bench', Records: records }),
          );
          if (out.FailedRecordCount === 0) tally.requests++;
          else tally.failed++;
        } catch {
          tally.failed++;
        }
        tally.latencies.push(performance.now() - start);
      }
    }),
  );
  client.destroy();
  return tally;
}

/** The worker: keeps `concurrency` requests in flight for `seconds`. */
async function sendLoad(load: Load): Promise<Tally> {
  const { port, headers, body, seconds, concurrency, h2, sdk } = load;
  if (sdk) return sendLoadSdk(load, sdk);
  if (h2) return sendLoadH2({ port, headers, body, seconds, concurrency });
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const tally: Tally = { requests: 0, failed: 0, latencies: [] };
  const end = Date.now() + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const start = performance.now();
      const req = http.request(
        { host: '127.0.0.1', port, method: 'POST', path: '/', headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const ok =
              res.statusCode === 200 && Buffer.concat(chunks).includes('"FailedRecordCount":0');
            if (ok) tally.requests++;
            else tally.failed++;
            tally.latencies.push(performance.now() - start);
            resolve();
          });
        },
      );
      req.on('error', () => {
        tally.failed++;
        resolve();
      });
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) await one();
    }),
  );
  agent.destroy();
  return tally;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

async function viaHttp(records: RecordInput[], seconds: number, concurrency: number) {
  const dir = mkdtempSync(join(tmpdir(), 'trib-bench-collector-'));
  const log = await LocalSegmentLog.open(dir, { retentionIntervalMs: 0 });
  await log.createStream('bench', { shards: 4, maxAgeMs: 3600_000 });
  const app = Fastify({ serverFactory: dualProtocolServerFactory });
  await app.register(collectorRoutes, {
    log,
    credentials: {
      secretFor: async (id) => (id === KEY.accessKeyId ? KEY.secretAccessKey : undefined),
      checkBearer: async () => 'no',
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const body = JSON.stringify({
    StreamName: 'bench',
    Records: records.map((r) => ({
      PartitionKey: r.partitionKey,
      Data: Buffer.from(r.data).toString('base64'),
    })),
  });
  const signer = new SignatureV4({
    credentials: KEY,
    region: 'us-east-1',
    service: 'kinesis',
    sha256: NodeSha256,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port,
      path: '/',
      headers: {
        host: `127.0.0.1:${port}`,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'Kinesis_20131202.PutRecords',
        'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
      },
      body,
    }),
  );
  const client = fork(fileURLToPath(import.meta.url), ['--client'], { stdio: 'inherit' });
  const before = process.cpuUsage();
  const h2 = process.argv.includes('--h2');
  const sdk = process.argv.includes('--sdk') ? KEY : undefined;
  client.send({
    port,
    headers: signed.headers,
    body,
    seconds,
    concurrency,
    h2,
    sdk,
  } satisfies Load);
  const tally = await new Promise<Tally>((resolve, reject) => {
    client.once('message', (m) => resolve(m as Tally));
    client.once('error', reject);
  });
  const used = process.cpuUsage(before);
  tally.cpuMs = (used.user + used.system) / 1000;
  client.kill();
  await app.close();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  return tally;
}

async function direct(records: RecordInput[], seconds: number, concurrency: number) {
  const dir = mkdtempSync(join(tmpdir(), 'trib-bench-collector-'));
  const log = await LocalSegmentLog.open(dir, { retentionIntervalMs: 0 });
  await log.createStream('bench', { shards: 4, maxAgeMs: 3600_000 });
  const tally: Tally = { requests: 0, failed: 0, latencies: [] };
  const end = Date.now() + seconds * 1000;
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const start = performance.now();
        const outcomes = await log.append('bench', records);
        if (outcomes.every((o) => o.ok)) tally.requests++;
        else tally.failed++;
        tally.latencies.push(performance.now() - start);
      }
    }),
  );
  const used = process.cpuUsage(before);
  tally.cpuMs = (used.user + used.system) / 1000;
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  return tally;
}

function report(name: string, t: Tally, seconds: number, batch: number) {
  const sorted = [...t.latencies].sort((a, b) => a - b);
  const rps = t.requests / seconds;
  console.log(
    `${name.padEnd(10)} ${rps.toFixed(0).padStart(6)} requests/s  ${(rps * batch).toFixed(0).padStart(8)} events/s  ` +
      `p50 ${pct(sorted, 0.5).toFixed(1)} ms  p99 ${pct(sorted, 0.99).toFixed(1)} ms  failed ${t.failed}  ` +
      `server CPU ${((t.cpuMs ?? 0) / ((t.requests * batch) / 1000)).toFixed(2)} ms per 1,000 events`,
  );
  return rps * batch;
}

async function main() {
  const seconds = arg('seconds', 10);
  const concurrency = arg('concurrency', 16);
  const batch = 500;
  const payload = JSON.stringify({ event: 'page_view', pad: 'x'.repeat(1024 - 60) }).slice(0, 1024);
  const records: RecordInput[] = Array.from({ length: batch }, (_, i) => ({
    partitionKey: `user-${i}`,
    data: Buffer.from(payload),
  }));
  console.log(
    `PutRecords ${batch} × ${payload.length} B, ${concurrency} in flight, ${seconds} s each side`,
  );
  const viaHttpRate = report('http', await viaHttp(records, seconds, concurrency), seconds, batch);
  if (process.argv.includes('--http-only')) return;
  const directRate = report('direct', await direct(records, seconds, concurrency), seconds, batch);
  console.log(`ratio http/direct: ${(viaHttpRate / directRate).toFixed(2)}`);
}

if (process.argv.includes('--client'))
  process.once('message', (load) => {
    void sendLoad(load as Load).then((tally) => process.send!(tally));
  });
else await main();
