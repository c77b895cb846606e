/**
 * The flusher on a real local segment log and a real lake folder, without a run: micro-batches
 * cut by the table's buffer (max_age of the oldest waiting record, max_bytes), the cursor kept in
 * the raw manifest and resumed after the log is closed and opened again, a forced landing that
 * takes everything in batches of at most max_bytes, the loop of a collecting process, and lines
 * that are the same bytes whenever they are cut.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../src/lake/index.js';
import { loadProject, type StreamSourceTable } from '../../src/project/index.js';
import { commitRawBatches, readRawManifest } from '../../src/sources/index.js';
import {
  LocalSegmentLog,
  StreamFlusher,
  cursorOf,
  flushOnce,
  lineOf,
  type StreamLog,
} from '../../src/stream/index.js';
import { tempDir } from '../helpers.js';
import { appendEvents, click, openProjectLog, streamProject } from './flush-helpers.js';

const opened: StreamLog[] = [];
afterEach(async () => {
  for (const log of opened.splice(0)) await log.close();
});

async function setUp(buffer: string) {
  const dir = streamProject(buffer);
  const project = await loadProject(dir);
  const table = project.tables[0] as StreamSourceTable;
  const log = await openProjectLog(dir);
  opened.push(log);
  const store = new LocalObjectStore(project.paths.lake);
  return { dir, project, table, log, store, tmpDir: project.paths.tmp };
}

const batchLines = (store: LocalObjectStore, key: string): string[] =>
  readFileSync(store.readableLocation(key), 'utf8').trimEnd().split('\n');

describe('cutting micro-batches', () => {
  it('waits until the oldest record is max_age old, then cuts one batch', async () => {
    const { table, log, store, tmpDir } = await setUp('{ max_bytes: 1MB, max_age: 10s }');
    await appendEvents(log, [
      click('a', '2026-03-02T10:00:00Z'),
      click('b', '2026-03-02T10:00:01Z'),
    ]);
    const soon = await flushOnce({ store, tmpDir, log, now: () => Date.now() + 2_000 }, table, {
      force: false,
    });
    expect(soon.batch).toBeUndefined();
    expect(soon.waiting.records).toBe(2);
    expect(soon.waiting.oldestArrivalMs).toBeLessThanOrEqual(Date.now());
    const later = await flushOnce({ store, tmpDir, log, now: () => Date.now() + 11_000 }, table, {
      force: false,
    });
    expect(later.batch).toBeDefined();
    expect(later.records).toBe(2);
    expect(later.waiting.records).toBe(0);
    expect(batchLines(store, later.batch!.key)).toHaveLength(2);
  });

  it('keeps what it read between looks, takes what came since once, and follows a cursor another writer moved', async () => {
    const { table, log, store, tmpDir } = await setUp('{ max_bytes: 1MB, max_age: 10s }');
    const ctx = { store, tmpDir, log };
    await appendEvents(log, [
      click('a', '2026-03-02T10:00:00Z'),
      click('b', '2026-03-02T10:00:01Z'),
    ]);
    expect((await flushOnce(ctx, table, { force: false })).waiting.records).toBe(2);
    await appendEvents(log, [
      click('c', '2026-03-02T10:00:02Z'),
      click('d', '2026-03-02T10:00:03Z'),
    ]);
    expect((await flushOnce(ctx, table, { force: false })).waiting.records).toBe(4);
    // Another writer commits a cursor past the first record of one shard (as a flusher of
    // another process would): the kept records of that shard are not taken again.
    const all = [];
    for (const s of (await log.describeStream('clicks'))!.shards)
      all.push(...(await log.read('clicks', s.shardId, { type: 'oldest' })).records);
    const skipped = all[0]!;
    await commitRawBatches(store, table.source, table.table, [], {
      shards: { [skipped.shardId]: skipped.sequenceNumber },
    });
    const forced = await flushOnce(ctx, table, { force: true });
    expect(forced.records).toBe(3);
    const lines = batchLines(store, forced.batch!.key);
    const idOf = (r: { _shard_id: string; _sequence_number: string }) =>
      `${r._shard_id}/${r._sequence_number}`;
    const landed = lines.map((l) => idOf(JSON.parse(l) as Parameters<typeof idOf>[0]));
    expect(landed).not.toContain(`${skipped.shardId}/${skipped.sequenceNumber}`);
    expect(new Set(landed).size).toBe(3);
    // Each line is the general path's line for its record.
    for (const [i, line] of lines.entries()) {
      const record = all.find((r) => `${r.shardId}/${r.sequenceNumber}` === landed[i])!;
      expect(`${line}\n`).toBe(lineOf(record).text);
    }
  });

  it('cuts at max_bytes before max_age, each batch within max_bytes', async () => {
    const { table, log, store, tmpDir } = await setUp('{ max_bytes: 2KB, max_age: 1h }');
    const pad = 'x'.repeat(300);
    await appendEvents(
      log,
      Array.from({ length: 20 }, (_, i) => ({ ...click(`s${i}`, '2026-03-02T10:00:00Z'), pad })),
    );
    const first = await flushOnce({ store, tmpDir, log }, table, { force: false });
    expect(first.batch).toBeDefined();
    expect(first.batch!.bytes).toBeLessThanOrEqual(2_000);
    expect(first.records).toBeGreaterThan(1);
    // What waits is counted up to max_bytes a shard (no more is read than one batch can take).
    expect(first.waiting.records).toBeGreaterThan(0);
    // Less than max_bytes left and nothing old: the next look waits.
    let next = await flushOnce({ store, tmpDir, log }, table, { force: false });
    while (next.batch) next = await flushOnce({ store, tmpDir, log }, table, { force: false });
    expect(next.waiting.bytes).toBeLessThan(2_000);
    expect(next.waiting.records).toBeGreaterThan(0);
  });

  it('lands everything when forced, in batches of at most max_bytes, each record once', async () => {
    const { table, log, store, tmpDir } = await setUp('{ max_bytes: 2KB, max_age: 1h }');
    const pad = 'y'.repeat(200);
    const seqs = await appendEvents(
      log,
      Array.from({ length: 40 }, (_, i) => ({ ...click(`f${i}`, '2026-03-02T10:00:00Z'), pad })),
    );
    const flusher = new StreamFlusher({ store, tmpDir, log, tables: [table] });
    const landed = await flusher.land(table);
    await flusher.stop();
    expect(landed.results.length).toBeGreaterThan(3);
    const lines = landed.results.flatMap((r) => batchLines(store, r.batch!.key));
    const seen = lines.map((l) => (JSON.parse(l) as { _sequence_number: string })._sequence_number);
    expect(seen.sort()).toEqual([...seqs].sort());
    for (const r of landed.results) expect(r.batch!.bytes).toBeLessThanOrEqual(2_000);
    expect((await readRawManifest(store, 'web', 'clicks')).batches).toHaveLength(
      landed.results.length,
    );
  });
});

describe('the cursor', () => {
  it('resumes where the committed cursor says after the log is opened again', async () => {
    const { dir, table, log, store, tmpDir } = await setUp('{ max_bytes: 1MB, max_age: 10s }');
    const firstSeqs = await appendEvents(log, [click('r1', '2026-03-02T10:00:00Z')]);
    await flushOnce({ store, tmpDir, log }, table, { force: true });
    await log.close();
    opened.splice(opened.indexOf(log), 1);
    const reopened = await openProjectLog(dir);
    opened.push(reopened);
    const cursor = cursorOf((await readRawManifest(store, 'web', 'clicks')).cursor);
    expect(Object.values(cursor.shards)).toContain(firstSeqs[0]);
    const secondSeqs = await appendEvents(reopened, [
      click('r2', '2026-03-02T10:00:00Z'),
      click('r3', '2026-03-02T10:00:00Z'),
    ]);
    const second = await flushOnce({ store, tmpDir, log: reopened }, table, { force: true });
    const seen = batchLines(store, second.batch!.key).map(
      (l) => (JSON.parse(l) as { _sequence_number: string })._sequence_number,
    );
    expect(seen.sort()).toEqual([...secondSeqs].sort());
    const nothing = await flushOnce({ store, tmpDir, log: reopened }, table, { force: true });
    expect(nothing.batch).toBeUndefined();
  });
});

describe('the flusher loop', () => {
  it('cuts a batch on its own once the oldest record is max_age old, and stops cleanly', async () => {
    const { table, log, store, tmpDir } = await setUp('{ max_bytes: 1MB, max_age: 300ms }');
    const batches: number[] = [];
    const flusher = new StreamFlusher({
      store,
      tmpDir,
      log,
      tables: [table],
      pollMs: 50,
      onBatch: (_t, r) => batches.push(r.records),
    });
    flusher.start();
    const appendedAt = Date.now();
    await appendEvents(log, [
      click('l1', '2026-03-02T10:00:00Z'),
      click('l2', '2026-03-02T10:00:00Z'),
    ]);
    const deadline = Date.now() + 10_000;
    while (!batches.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    const tookMs = Date.now() - appendedAt;
    await flusher.stop();
    expect(batches).toEqual([2]);
    expect(tookMs).toBeGreaterThanOrEqual(250);
    const manifest = await readRawManifest(store, 'web', 'clicks');
    expect(manifest.batches).toHaveLength(1);
  });
});

describe('landed lines', () => {
  const record = (data: string | Buffer) => ({
    shardId: 'shardId-000000000001',
    sequenceNumber: '42',
    partitionKey: 'user-7',
    data: Buffer.isBuffer(data) ? data : Buffer.from(data),
    arrivalMs: Date.UTC(2026, 2, 2, 10, 0, 0),
  });

  it('keeps the event text and adds the metadata, the same bytes every time', () => {
    const line = lineOf(record('{"n": 12345678901234567890, "s": "a\\nb"}'));
    expect(line.rejected).toBeUndefined();
    expect(line.text).toBe(
      '{"n": 12345678901234567890, "s": "a\\nb","_sequence_number":"42","_shard_id":"shardId-000000000001","_partition_key":"user-7","_arrival_ts":"2026-03-02T10:00:00.000Z"}\n',
    );
    expect(lineOf(record('{"n": 12345678901234567890, "s": "a\\nb"}')).text).toBe(line.text);
    expect(lineOf(record('{ }')).text).toMatch(/^\{"_sequence_number":"42",/);
    expect(lineOf(record('{\n "a": 1\n}\n')).text.split('\n')).toHaveLength(2);
  });

  it('marks what is not a JSON object, keeping its text (or its bytes as base64)', () => {
    const notJson = JSON.parse(lineOf(record('oops')).text) as Record<string, string>;
    expect(notJson).toMatchObject({ _reject_reason: 'not_json', _reject_value: 'oops' });
    const array = JSON.parse(lineOf(record('[1]')).text) as Record<string, string>;
    expect(array._reject_reason).toBe('not_object');
    const binary = lineOf(record(Buffer.from([0xff, 0xfe, 0x00])));
    expect(binary.rejected).toBe('not_json');
    expect((JSON.parse(binary.text) as Record<string, string>)._reject_value).toBe('base64://4A');
    const deep = lineOf(record(`${'['.repeat(2000)}${']'.repeat(2000)}`));
    expect(deep.rejected).toBe('not_object');
    const deepObject = lineOf(record(`{"a":${'['.repeat(2000)}${']'.repeat(2000)}}`));
    expect(deepObject.rejected).toBe('too_deep');
  });
});

describe('retention gaps', () => {
  it('names the range retention removed before it was flushed, once, and keeps it in the cursor', async () => {
    const dir = streamProject();
    const project = await loadProject(dir);
    const table = project.tables[0] as StreamSourceTable;
    const store = new LocalObjectStore(project.paths.lake);
    const tmpDir = project.paths.tmp;
    // Tiny segments, so each append seals one and retention can drop them one by one.
    const log = await LocalSegmentLog.open(join(dir, '.tributary', 'stream'), {
      segmentBytes: 64,
      retentionIntervalMs: 0,
    });
    opened.push(log);
    await log.createStream('clicks', { shards: 1, maxAgeMs: 400 });
    await appendEvents(log, [click('g1', '2026-03-02T10:00:00Z')]);
    await flushOnce({ store, tmpDir, log }, table, { force: true });
    const [lost] = await appendEvents(log, [click('g2', '2026-03-02T10:00:00Z')]);
    await new Promise((r) => setTimeout(r, 600));
    const [kept] = await appendEvents(log, [click('g3', '2026-03-02T10:00:00Z')]);
    await log.enforceRetention('clicks');
    const flushed = await flushOnce({ store, tmpDir, log }, table, { force: true });
    expect(flushed.gaps).toHaveLength(1);
    const gap = flushed.gaps[0]!;
    expect(gap.table).toBe('web.clicks');
    expect(gap.before).toBe(kept);
    expect(BigInt(gap.after)).toBeLessThan(BigInt(lost!));
    expect(flushed.records).toBe(1);
    const cursor = cursorOf((await readRawManifest(store, 'web', 'clicks')).cursor);
    expect(cursor.gaps).toHaveLength(1);
    const again = await flushOnce({ store, tmpDir, log }, table, { force: true });
    expect(again.gaps).toEqual([]);
  });

  it('lands records it had read and kept for the next batch even when retention then removes them', async () => {
    const dir = streamProject('{ max_bytes: 1MB, max_age: 10s }');
    const project = await loadProject(dir);
    const table = project.tables[0] as StreamSourceTable;
    const store = new LocalObjectStore(project.paths.lake);
    const tmpDir = project.paths.tmp;
    // One record per segment and a byte limit of one and a half segments: retention drops
    // exactly the older records when asked, whatever the machine's speed.
    const segment = await oneRecordSegmentBytes(click('r0', '2026-03-02T10:00:00Z'));
    const log = await LocalSegmentLog.open(join(dir, '.tributary', 'stream'), {
      segmentBytes: 64,
      retentionIntervalMs: 0,
    });
    opened.push(log);
    await log.createStream('clicks', {
      shards: 1,
      maxAgeMs: 24 * 3_600_000,
      maxBytes: Math.floor(segment * 1.5),
    });
    await appendEvents(log, [click('r1', '2026-03-02T10:00:00Z')]);
    await appendEvents(log, [click('r2', '2026-03-02T10:00:00Z')]);
    // A look that does not cut (max_age 10 s): the flusher keeps both records.
    const look = await flushOnce({ store, tmpDir, log }, table, { force: false });
    expect(look.waiting.records).toBe(2);
    await appendEvents(log, [click('r3', '2026-03-02T10:00:00Z')]);
    await log.enforceRetention('clicks');
    const inLog = await log.read('clicks', 'shardId-000000000000', { type: 'oldest' });
    expect(inLog.records).toHaveLength(1);
    const flushed = await flushOnce({ store, tmpDir, log }, table, { force: true });
    expect(flushed.gaps).toEqual([]);
    expect(flushed.records).toBe(3);
    const ids = batchLines(store, flushed.batch!.key).map(
      (l) => (JSON.parse(l) as { event_id: string }).event_id,
    );
    expect(ids).toEqual(['r1', 'r2', 'r3']);
  });
});

/** The bytes of a segment holding one record of `event` (in a throwaway log). */
async function oneRecordSegmentBytes(event: object): Promise<number> {
  const dir = tempDir('trib-flush-seg-');
  const log = await LocalSegmentLog.open(dir, { segmentBytes: 64, retentionIntervalMs: 0 });
  try {
    await log.createStream('clicks', { shards: 1, maxAgeMs: 3_600_000 });
    await appendEvents(log, [event]);
  } finally {
    await log.close();
  }
  const shardDir = join(dir, 'streams', 'clicks', 'shard-000000000000');
  return Math.max(
    ...readdirSync(shardDir)
      .filter((n) => n.endsWith('.seg'))
      .map((n) => statSync(join(shardDir, n)).size),
  );
}
