/**
 * Shared material of the flusher tests: a real project with one stream table (contract with an
 * event-time partition and a primary key), its local segment log opened directly for appends,
 * and reads of what landed (processed rows through the warehouse views, quarantine Parquet).
 */
import { join } from 'node:path';
import { openDuckDB } from '../../src/engines/index.js';
import { lakeKeys, readManifest, type TableManifest } from '../../src/lake/index.js';
import type { Workspace } from '../../src/orchestrator/index.js';
import { LocalSegmentLog, type StreamLog } from '../../src/stream/index.js';
import { tempDir, writeFiles } from '../helpers.js';

/** A project with stream table `clicks` (source `web`) of stream `clicks`, 2 shards, on `log`. */
export function streamProject(
  buffer = '{ max_bytes: 1MB, max_age: 10s }',
  extra = '',
  log = '{ type: local }',
): string {
  const dir = tempDir('trib-flush-');
  writeFiles(dir, {
    'tributary.yml': `name: s
stream:
  log: ${log}
  streams:
    clicks: { shards: 2 }
sources:
  web:
    type: stream
    tables:
      clicks: { buffer: ${buffer} }
${extra}`,
    'contracts/clicks.yml': `primary_key: [event_id]
partition_by: { column: ts, granularity: day }
columns:
  - { name: event_id, type: string, required: true }
  - { name: ts, type: timestamp, required: true }
  - { name: kind, type: string, allowed: [view, cart, purchase] }
  - { name: amount, type: double }
`,
  });
  return dir;
}

/** The project's local log (at the default .tributary/stream), with stream `clicks` created. */
export async function openProjectLog(dir: string): Promise<StreamLog> {
  const log = await LocalSegmentLog.open(join(dir, '.tributary', 'stream'), {
    retentionIntervalMs: 0,
  });
  if (!(await log.describeStream('clicks')))
    await log.createStream('clicks', { shards: 2, maxAgeMs: 24 * 3_600_000 });
  return log;
}

/** Appends events (objects are JSON-encoded, strings and buffers go as they are). */
export async function appendEvents(
  log: StreamLog,
  events: (object | string | Buffer)[],
): Promise<string[]> {
  const outcomes = await log.append(
    'clicks',
    events.map((e, i) => ({
      partitionKey: `k${i}`,
      data: Buffer.isBuffer(e) ? e : Buffer.from(typeof e === 'string' ? e : JSON.stringify(e)),
    })),
  );
  return outcomes.map((o) => {
    if (!o.ok) throw new Error(o.message);
    return o.sequenceNumber;
  });
}

/** Appends to the project's log and closes it (a landing opens it again). */
export async function appendToProject(
  dir: string,
  events: (object | string | Buffer)[],
): Promise<string[]> {
  const log = await openProjectLog(dir);
  try {
    return await appendEvents(log, events);
  } finally {
    await log.close();
  }
}

/** A click event. */
export function click(id: string, ts: string, kind = 'view', amount?: number): object {
  return { event_id: id, ts, kind, ...(amount !== undefined ? { amount } : {}) };
}

/** The processed rows of `clicks`, from the committed Parquet files. */
export async function processedRows(ws: Workspace): Promise<Record<string, unknown>[]> {
  const manifest = await readManifest<TableManifest>(
    ws.store,
    lakeKeys.processedManifest('clicks'),
  );
  if (!manifest?.files.length) return [];
  return readParquet(manifest.files.map((f) => ws.store.readableLocation(f.key)));
}

/** The quarantined rows of `clicks`. */
export async function quarantineRows(ws: Workspace): Promise<Record<string, unknown>[]> {
  const manifest = await readManifest<TableManifest>(
    ws.store,
    lakeKeys.processedManifest('clicks'),
  );
  if (!manifest?.quarantine.length) return [];
  return readParquet(manifest.quarantine.map((f) => ws.store.readableLocation(f.key)));
}

async function readParquet(paths: string[]): Promise<Record<string, unknown>[]> {
  const engine = await openDuckDB({ path: ':memory:' });
  try {
    const list = paths.map((p) => `'${p.replaceAll("'", "''")}'`).join(', ');
    const { rows } = await engine.query(
      `SELECT * FROM read_parquet([${list}], union_by_name = true, hive_partitioning = true)`,
    );
    return rows;
  } finally {
    await engine.close();
  }
}
