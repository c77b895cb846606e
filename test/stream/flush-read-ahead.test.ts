/**
 * Reading ahead between looks (src/stream/flush/flusher.ts readAhead, StreamFlusher.readAhead):
 * the flusher thread reads each group's records into the tables' tails as the group arrives, so
 * the frame cache gives the log's staging buffers back in milliseconds. It must never decide
 * what is cut: the next look still cuts every record exactly once, reads nothing twice, and
 * drops a read-ahead tail whose cursor another flusher moved.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../src/lake/index.js';
import { loadProject, type StreamSourceTable } from '../../src/project/index.js';
import { readRawManifest } from '../../src/sources/index.js';
import {
  StreamFlusher,
  flushOnce,
  type ReadPosition,
  type StreamLog,
} from '../../src/stream/index.js';
import { appendEvents, click, openProjectLog, streamProject } from './flush-helpers.js';

const opened: StreamLog[] = [];
afterEach(async () => {
  for (const log of opened.splice(0)) await log.close();
});

/** The same log underneath, its `read` calls going through `read` (which calls the real one). */
function withRead(
  log: StreamLog,
  read: (
    real: StreamLog['read'],
    ...args: Parameters<StreamLog['read']>
  ) => ReturnType<StreamLog['read']>,
): StreamLog {
  return new Proxy(log, {
    get(target, prop) {
      if (prop === 'read')
        return (...args: Parameters<StreamLog['read']>) => read(target.read.bind(target), ...args);
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
}

/** The log with every read and the records it returned counted (the same log underneath). */
function counted(log: StreamLog) {
  const reads: { from: ReadPosition; records: string[] }[] = [];
  const proxy = withRead(log, async (real, ...args) => {
    const result = await real(...args);
    reads.push({ from: args[2], records: result.records.map((r) => r.sequenceNumber) });
    return result;
  });
  return { log: proxy, reads };
}

/** The log, with read number `failAt` (counted from `arm()`) failing, once. */
function failingRead(log: StreamLog) {
  let reads = 0;
  let failAt = Infinity;
  const proxy = withRead(log, async (real, ...args) => {
    if (++reads === failAt) throw new Error('the disk went away for one read');
    return real(...args);
  });
  return { log: proxy, arm: (n: number) => ((reads = 0), (failAt = n)) };
}

async function setUp() {
  const dir = streamProject('{ max_bytes: 1MB, max_age: 1h }');
  const project = await loadProject(dir);
  const table = project.tables[0] as StreamSourceTable;
  const log = await openProjectLog(dir);
  opened.push(log);
  const store = new LocalObjectStore(project.paths.lake);
  return { table, log, store, tmpDir: project.paths.tmp };
}

const idsOf = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const events = (prefix: string, n: number) =>
  idsOf(prefix, n).map((id) => click(id, '2026-03-02T10:00:00Z'));

async function landedIds(store: LocalObjectStore): Promise<string[]> {
  const manifest = await readRawManifest(store, 'web', 'clicks');
  return manifest.batches.flatMap((b) =>
    readFileSync(store.readableLocation(b.key), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { event_id: string }).event_id),
  );
}

/** Starts a flusher whose own looks come once an hour, and waits for its first look. */
async function startedFlusher(
  table: StreamSourceTable,
  store: LocalObjectStore,
  tmpDir: string,
  log: StreamLog,
  reads: unknown[],
) {
  const flusher = new StreamFlusher({ store, tmpDir, log, tables: [table], pollMs: 3_600_000 });
  flusher.start();
  const deadline = Date.now() + 10_000;
  while (reads.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  // Behind the first look in the table's chain: its tails are set once this settles.
  await flusher.readAhead(table.stream);
  return flusher;
}

describe('reading ahead between looks', () => {
  it('reads new records into the tails at once; the next look cuts each exactly once', async () => {
    const { table, log, store, tmpDir } = await setUp();
    const c = counted(log);
    const flusher = await startedFlusher(table, store, tmpDir, c.log, c.reads);
    try {
      const first = await appendEvents(log, events('a', 20));
      const before = c.reads.length;
      await flusher.readAhead('clicks');
      // Read now, not at the next look an hour away.
      const readAhead = c.reads.slice(before).flatMap((r) => r.records);
      expect(readAhead.sort()).toEqual([...first].sort());
      const second = await appendEvents(log, events('b', 5));
      const landed = await flusher.land(table);
      expect(landed.results.reduce((n, r) => n + r.records, 0)).toBe(25);
      // Nothing read twice: the look continued the tails the read-ahead filled.
      const all = c.reads.flatMap((r) => r.records);
      expect(all.sort()).toEqual([...first, ...second].sort());
      const ids = await landedIds(store);
      expect(ids.sort()).toEqual([...idsOf('a', 20), ...idsOf('b', 5)].sort());
    } finally {
      await flusher.stop();
    }
  });

  it('never lands twice what another flusher committed after a read-ahead', async () => {
    const { table, log, store, tmpDir } = await setUp();
    const c = counted(log);
    const flusher = await startedFlusher(table, store, tmpDir, c.log, c.reads);
    try {
      await appendEvents(log, events('a', 20));
      await flusher.readAhead('clicks');
      // Another flusher (its own tails) lands the same 20 and moves the cursor.
      const other = await flushOnce({ store, tmpDir, log }, table, { force: true });
      expect(other.records).toBe(20);
      await appendEvents(log, events('b', 7));
      await flusher.readAhead('clicks');
      const landed = await flusher.land(table);
      expect(landed.results.reduce((n, r) => n + r.records, 0)).toBe(7);
      const ids = await landedIds(store);
      expect(ids.sort()).toEqual([...idsOf('a', 20), ...idsOf('b', 7)].sort());
    } finally {
      await flusher.stop();
    }
  });
});

describe('a look whose read fails half way', () => {
  // A look reads each shard until a read returns nothing: with records waiting in both shards,
  // read 2 is the first shard's second read (its first read's records already rendered into the
  // list the kept tail continues), read 3 the second shard's first (the first shard done).
  for (const [failAt, where] of [
    [2, 'within a shard'],
    [3, 'at the next shard'],
  ] as const) {
    it(`leaves the kept tails as they were, so the next look lands each record once (${where})`, async () => {
      const { table, log, store, tmpDir } = await setUp();
      const f = failingRead(log);
      const ctx = { store, tmpDir, log: f.log };
      await appendEvents(log, events('a', 20));
      expect((await flushOnce(ctx, table, { force: false })).records).toBe(0); // tails kept
      await appendEvents(log, events('b', 20));
      f.arm(failAt);
      await expect(flushOnce(ctx, table, { force: false })).rejects.toThrow(/went away/);
      const landed = await flushOnce(ctx, table, { force: true });
      expect(landed.records).toBe(40);
      const ids = await landedIds(store);
      expect(ids.sort()).toEqual([...idsOf('a', 20), ...idsOf('b', 20)].sort());
    });
  }
});
