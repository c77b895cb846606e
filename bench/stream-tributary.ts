/**
 * The Tributary side of `npm run bench:stream`: the real `tributary collect` (collector, local
 * segment log with fsync and group commit, flusher into the lake) in its own process on a fresh
 * project, fed the bench's fixed 1 KB events by two producers in turn, each for the same time:
 * raw HTTP PutRecords (pre-built bodies of 500 records, SigV4-signed once, `--connections`
 * keep-alive connections) and the real `@aws-sdk/client-kinesis` (PutRecords of 500, the same
 * number of calls in flight). Probe events (one PutRecord every 200 ms, carrying their own id)
 * run beside the load; a watcher reads the processed table's manifest every 50 ms and notes when
 * each probe's row became queryable: the end-to-end latency from acknowledgement to a processed
 * Parquet row, under load and again at rest after the backlog is flushed.
 */
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import {
  createProducerKey,
  freePort,
  kinesisClient,
  putRecordsBody,
  sendRaw,
  signRequest,
  startCollector,
  stopCollector,
  streamProjectFiles,
  type Collector,
  type ProducerKey,
  type SignedRequest,
  writeProjectFiles,
} from '../test/stream/harness.js';
import {
  EVENT_BYTES,
  FLUSHER_THREAD,
  mainThreadCpuSeconds,
  namedThreadsCpuSeconds,
  ownCpuSeconds,
  pipelinedLoad,
  processCpuSeconds,
  type BenchEvent,
  type LoadResult,
} from './stream-common.js';

const STREAM = 'events';
const RECORDS_PER_CALL = 500;

/** One producer's measured load. */
export interface ProducerResult {
  load: LoadResult;
  collectorCpuSeconds: number;
  /** Of it, the collector's main thread (which answers producers). */
  collectorMainCpuSeconds: number;
  /** Of it, the flusher thread (landing batches); the rest is libuv's pool and V8's helpers. */
  collectorFlusherCpuSeconds: number;
  producerCpuSeconds: number;
}

/** What the Tributary side measured. */
export interface TributaryResult {
  raw: ProducerResult;
  sdk: ProducerResult;
  /** The SDK load again on `tributary serve` (collecting and processing), with probes. */
  serve: ProducerResult;
  /** Probe latencies ack → queryable processed row, in ms: during the load, and at rest. */
  e2eUnderLoad: number[];
  e2eAtRest: number[];
  probesLost: number;
  /** Seconds `tributary serve` took to process the backlog the collect loads left. */
  drainSeconds: number;
  drainCpuSeconds: number;
  processedRows: number;
  collectorPeakRssMB: number;
}

/** Watches the processed table for probe rows and notes when each became queryable. */
class ProbeWatcher {
  readonly acked = new Map<string, number>();
  readonly visible = new Map<string, number>();
  private seenFiles = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  processedRows = 0;

  private constructor(
    private readonly lake: string,
    private readonly conn: DuckDBConnection,
    private readonly close: () => void,
  ) {}

  static async open(project: string): Promise<ProbeWatcher> {
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    return new ProbeWatcher(join(project, '.tributary', 'lake'), conn, () => {
      conn.closeSync();
      instance.closeSync();
    });
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), 50);
  }

  /** Reads the manifest; new files are searched for probe ids. */
  async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const now = Date.now();
      let manifest: { files?: { key: string; rows: number }[] };
      try {
        manifest = JSON.parse(
          await readFile(join(this.lake, `processed/${STREAM}/_manifest.json`), 'utf8'),
        ) as typeof manifest;
      } catch {
        return;
      }
      const files = manifest.files ?? [];
      this.processedRows = files.reduce((n, f) => n + f.rows, 0);
      const fresh = files.filter((f) => !this.seenFiles.has(f.key));
      if (!fresh.length) return;
      for (const f of fresh) this.seenFiles.add(f.key);
      const list = fresh.map((f) => `'${join(this.lake, f.key)}'`).join(', ');
      const reader = await this.conn.runAndReadAll(
        `SELECT event_id FROM read_parquet([${list}], union_by_name = true) WHERE event_id LIKE 'probe-%'`,
      );
      for (const [id] of reader.getRows()) {
        if (!this.visible.has(String(id))) this.visible.set(String(id), now);
      }
    } finally {
      this.busy = false;
    }
  }

  /** Latencies (ms) of the probes whose ids match `prefix`. */
  latencies(prefix: string): { found: number[]; missing: number } {
    const found: number[] = [];
    let missing = 0;
    for (const [id, ackedAt] of this.acked) {
      if (!id.startsWith(prefix)) continue;
      const seen = this.visible.get(id);
      if (seen === undefined) missing++;
      else found.push(Math.max(0, seen - ackedAt));
    }
    return { found, missing };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.close();
  }
}

/** A probe event: the clickstream shape, its id saying which probe it is. */
function probeEvent(id: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      event_id: id,
      user_id: 1,
      event_type: 'probe',
      event_ts: new Date().toISOString(),
      url: '/probe',
    }),
  );
}

/** Sends one probe with the SDK and notes when it was acknowledged. */
async function sendProbe(
  client: ReturnType<typeof kinesisClient>,
  watcher: ProbeWatcher,
  id: string,
): Promise<void> {
  await client.send(
    new PutRecordCommand({ StreamName: STREAM, PartitionKey: id, Data: probeEvent(id) }),
  );
  watcher.acked.set(id, Date.now());
}

/** Runs `load` while probes go out every 200 ms; measures the collector's and own CPU. */
async function measured(
  collector: Collector,
  probes: { client: ReturnType<typeof kinesisClient>; watcher: ProbeWatcher; prefix: string },
  load: () => Promise<LoadResult>,
): Promise<ProducerResult> {
  let stop = false;
  let n = 0;
  const probing = (async () => {
    while (!stop) {
      await sendProbe(probes.client, probes.watcher, `${probes.prefix}${n++}`).catch(() => {});
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const cpu0 = processCpuSeconds(collector.pid);
  const main0 = mainThreadCpuSeconds(collector.pid);
  const flusher0 = namedThreadsCpuSeconds(collector.pid, FLUSHER_THREAD);
  const own0 = ownCpuSeconds();
  const result = await load();
  const collectorCpuSeconds = processCpuSeconds(collector.pid) - cpu0;
  const collectorMainCpuSeconds = mainThreadCpuSeconds(collector.pid) - main0;
  const collectorFlusherCpuSeconds =
    namedThreadsCpuSeconds(collector.pid, FLUSHER_THREAD) - flusher0;
  const producerCpuSeconds = ownCpuSeconds() - own0;
  stop = true;
  await probing;
  return {
    load: result,
    collectorCpuSeconds,
    collectorMainCpuSeconds,
    collectorFlusherCpuSeconds,
    producerCpuSeconds,
  };
}

/**
 * FailedRecordCount of a PutRecords answer: read from its start when the collector wrote it
 * first (it does), else from the whole answer parsed. The producer needs only the count (the
 * acknowledged records are the call's others), and parsing the 500 entries (~50 KB) of every
 * answer was producer CPU the collector's cores then lacked.
 */
function failedRecordCount(body: string): number {
  const head = /^\{"FailedRecordCount":(\d+),/.exec(body);
  if (head) return Number(head[1]);
  return (JSON.parse(body) as { FailedRecordCount?: number }).FailedRecordCount ?? 0;
}

/** The raw HTTP producer: pre-signed PutRecords bodies, `connections` at a time. */
async function rawHttpLoad(
  events: readonly BenchEvent[],
  key: ProducerKey,
  port: number,
  seconds: number,
  connections: number,
): Promise<LoadResult> {
  const bodies: SignedRequest[] = [];
  for (let start = 0; start + RECORDS_PER_CALL <= events.length; start += RECORDS_PER_CALL) {
    const records = events.slice(start, start + RECORDS_PER_CALL);
    const body = putRecordsBody(STREAM, records);
    bodies.push(await signRequest(key, port, body, 'Kinesis_20131202.PutRecords'));
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  try {
    return await pipelinedLoad(seconds, connections, async (i) => {
      const res = await sendRaw(port, bodies[i % bodies.length]!, agent);
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
      const failed = failedRecordCount(res.body);
      return { acked: RECORDS_PER_CALL - failed, failed };
    });
  } finally {
    agent.destroy();
  }
}

/** The SDK producer: PutRecords of 500 through `@aws-sdk/client-kinesis`, `inFlight` calls. */
async function sdkLoad(
  events: readonly BenchEvent[],
  client: ReturnType<typeof kinesisClient>,
  seconds: number,
  inFlight: number,
): Promise<LoadResult> {
  const calls = Math.floor(events.length / RECORDS_PER_CALL);
  const batches = Array.from({ length: calls }, (_, c) =>
    events
      .slice(c * RECORDS_PER_CALL, (c + 1) * RECORDS_PER_CALL)
      .map((e) => ({ Data: new Uint8Array(e.data), PartitionKey: e.partitionKey })),
  );
  return pipelinedLoad(seconds, inFlight, async (i) => {
    const out = await client.send(
      new PutRecordsCommand({ StreamName: STREAM, Records: batches[i % batches.length]! }),
    );
    const failed = out.FailedRecordCount ?? 0;
    return { acked: RECORDS_PER_CALL - failed, failed };
  });
}

/** Peak resident memory of a process (VmHWM), in MB. */
function peakRssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** Waits until the processed table holds `rows` rows (or `timeoutMs`); returns the seconds. */
async function drain(watcher: ProbeWatcher, rows: number, timeoutMs: number): Promise<number> {
  const start = performance.now();
  while (watcher.processedRows < rows && performance.now() - start < timeoutMs) {
    await watcher.poll();
    await new Promise((r) => setTimeout(r, 100));
  }
  return (performance.now() - start) / 1000;
}

/** Sends probes one at a time, each waiting for its row (at most 30 s). */
async function probesAtRest(
  client: ReturnType<typeof kinesisClient>,
  watcher: ProbeWatcher,
  count: number,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const id = `probe-rest-${i}`;
    await sendProbe(client, watcher, id);
    const t0 = Date.now();
    while (!watcher.visible.has(id) && Date.now() - t0 < 30_000)
      await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The load phases on `tributary collect` (the collector alone: acknowledgement throughput and
 * its CPU; it lands raw batches, processing waits for a run or serve).
 */
async function collectPhases(
  project: string,
  events: readonly BenchEvent[],
  key: ProducerKey,
  port: number,
  options: { seconds: number; connections: number; log: (line: string) => void },
): Promise<{ raw: ProducerResult; sdk: ProducerResult; acked: number }> {
  const collector = await startCollector(project, port);
  const client = kinesisClient(collector.url, key, 3);
  const watcher = await ProbeWatcher.open(project);
  try {
    // Warm-up, untimed: connections, the stream's segment files, the flusher's first batch.
    const warm = await sdkLoad(events, client, 1, 2);
    const { seconds, connections } = options;
    options.log(`tributary collect: raw HTTP PutRecords, ${connections} connections, ${seconds} s`);
    const probes = { client, watcher, prefix: 'probe-collect-raw-' };
    const raw = await measured(collector, probes, () =>
      rawHttpLoad(events, key, port, seconds, connections),
    );
    options.log(`tributary collect: @aws-sdk/client-kinesis PutRecords, ${connections} in flight`);
    const sdk = await measured(collector, { ...probes, prefix: 'probe-collect-sdk-' }, () =>
      sdkLoad(events, client, seconds, connections),
    );
    const acked = warm.records + raw.load.records + sdk.load.records + watcher.acked.size;
    return { raw, sdk, acked };
  } finally {
    watcher.stop();
    client.destroy();
    await stopCollector(collector);
  }
}

/**
 * The phases on `tributary serve` (collector + flusher + processing triggered on each batch):
 * the backlog processed, end-to-end latency at rest, then under an SDK load.
 */
async function servePhases(
  project: string,
  events: readonly BenchEvent[],
  key: ProducerKey,
  port: number,
  options: { seconds: number; connections: number; log: (line: string) => void },
  backlog: number,
): Promise<Omit<TributaryResult, 'raw' | 'sdk'>> {
  const serve = await startCollector(project, port, {}, { args: ['serve', '--port', '0'] });
  const client = kinesisClient(serve.url, key, 3);
  const watcher = await ProbeWatcher.open(project);
  try {
    const cpu0 = processCpuSeconds(serve.pid);
    options.log('tributary serve: processing the backlog the loads left');
    const drainSeconds = await drain(watcher, backlog, 900_000);
    const drainCpuSeconds = processCpuSeconds(serve.pid) - cpu0;
    watcher.start();
    await probesAtRest(client, watcher, 10);
    options.log(`tributary serve: SDK PutRecords with probes, ${options.seconds} s`);
    const load = await measured(serve, { client, watcher, prefix: 'probe-serve-' }, () =>
      sdkLoad(events, client, options.seconds, options.connections),
    );
    const t0 = Date.now();
    while (watcher.latencies('probe-serve-').missing > 0 && Date.now() - t0 < 300_000)
      await new Promise((r) => setTimeout(r, 100));
    const underLoad = watcher.latencies('probe-serve-');
    const atRest = watcher.latencies('probe-rest-');
    return {
      serve: load,
      e2eUnderLoad: underLoad.found,
      e2eAtRest: atRest.found,
      probesLost: underLoad.missing + atRest.missing,
      drainSeconds,
      drainCpuSeconds,
      processedRows: watcher.processedRows,
      collectorPeakRssMB: peakRssMB(serve.pid),
    };
  } finally {
    watcher.stop();
    client.destroy();
    await stopCollector(serve);
  }
}

/** What `--side raw` measured: the raw HTTP load, then the flusher landing all of it. */
export interface RawOnlyResult {
  raw: ProducerResult;
  /** Records the flusher had committed to the raw zone when the bench stopped waiting. */
  landed: number;
  /** Records acknowledged in the whole run (warm-up, load and probes). */
  acked: number;
  /** Seconds from the load's end until every acknowledged record was committed to the raw zone. */
  landLagSeconds: number;
  /** The collector's CPU from the load's start until everything was landed. */
  landCpuSeconds: number;
  /** Of it, the main thread's. */
  landMainCpuSeconds: number;
  /** Of it, the flusher thread's. */
  landFlusherCpuSeconds: number;
}

/** Records committed to a stream table's raw zone: the sum of the cursor's shard counters. */
async function landedRecords(project: string): Promise<number> {
  try {
    const manifest = JSON.parse(
      await readFile(join(project, `.tributary/lake/raw/web/${STREAM}/_manifest.json`), 'utf8'),
    ) as { cursor?: { shards?: Record<string, string> } };
    // A local-log sequence number ends with the shard's 20-digit counter (1, 2, 3…, no gaps).
    return Object.values(manifest.cursor?.shards ?? {}).reduce(
      (n, seq) => n + Number(seq.slice(-20)),
      0,
    );
  } catch {
    return 0;
  }
}

/**
 * `--side raw`: only the raw HTTP load on `tributary collect` (no SDK, no serve), then waits for
 * the flusher to commit every acknowledged record to the raw zone, so the collector's CPU to
 * acknowledge and land each event is measured whole. `collectorEnv` reaches only the collector
 * (e.g. NODE_OPTIONS=--cpu-prof).
 */
export async function runRawOnly(
  events: readonly BenchEvent[],
  seconds: number,
  connections: number,
  log: (line: string) => void,
  collectorEnv: Record<string, string> = {},
): Promise<RawOnlyResult> {
  const project = mkdtempSync(join(tmpdir(), 'bench-stream-trib-'));
  try {
    const port = await freePort();
    writeProjectFiles(project, streamProjectFiles({ port, primaryKey: [], maxAge: '1s' }));
    const key = await createProducerKey(project);
    const collector = await startCollector(project, port, collectorEnv);
    const client = kinesisClient(collector.url, key, 3);
    const watcher = await ProbeWatcher.open(project);
    try {
      const warm = await sdkLoad(events, client, 1, 2);
      log(`tributary collect: raw HTTP PutRecords, ${connections} connections, ${seconds} s`);
      const cpu0 = processCpuSeconds(collector.pid);
      const main0 = mainThreadCpuSeconds(collector.pid);
      const flusher0 = namedThreadsCpuSeconds(collector.pid, FLUSHER_THREAD);
      const probes = { client, watcher, prefix: 'probe-collect-raw-' };
      const raw = await measured(collector, probes, () =>
        rawHttpLoad(events, key, port, seconds, connections),
      );
      const acked = warm.records + raw.load.records + watcher.acked.size;
      const loadEnd = performance.now();
      let landed = await landedRecords(project);
      while (landed < acked && performance.now() - loadEnd < 120_000) {
        await new Promise((r) => setTimeout(r, 20));
        landed = await landedRecords(project);
      }
      return {
        raw,
        landed,
        acked,
        landLagSeconds: (performance.now() - loadEnd) / 1000,
        landCpuSeconds: processCpuSeconds(collector.pid) - cpu0,
        landMainCpuSeconds: mainThreadCpuSeconds(collector.pid) - main0,
        landFlusherCpuSeconds: namedThreadsCpuSeconds(collector.pid, FLUSHER_THREAD) - flusher0,
      };
    } finally {
      watcher.stop();
      client.destroy();
      await stopCollector(collector);
    }
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}

/** Runs the whole Tributary side on a fresh project in a temporary folder. */
export async function runTributarySide(
  events: readonly BenchEvent[],
  seconds: number,
  connections: number,
  log: (line: string) => void,
): Promise<TributaryResult> {
  if (events[0]!.data.length !== EVENT_BYTES) throw new Error('bench events must be 1 KB');
  const project = mkdtempSync(join(tmpdir(), 'bench-stream-trib-'));
  try {
    const port = await freePort();
    writeProjectFiles(project, streamProjectFiles({ port, primaryKey: [], maxAge: '1s' }));
    const key = await createProducerKey(project);
    const options = { seconds, connections, log };
    const { raw, sdk, acked } = await collectPhases(project, events, key, port, options);
    return { raw, sdk, ...(await servePhases(project, events, key, port, options, acked)) };
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}
