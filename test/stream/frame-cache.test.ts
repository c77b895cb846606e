/**
 * The flusher thread's copy of durable frames (src/stream/flush/frame-cache.ts): it answers a
 * read exactly as the log would, or not at all. Frames are built by the log's own staging
 * buffer, as the collector hands them over.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FrameCache } from '../../src/stream/flush/frame-cache.js';
import { FrameStaging, StagingPool } from '../../src/stream/local/frame.js';

const CREATED = 1_764_700_000_000;
const PREFIX = String(CREATED).padStart(13, '0');
const seq = (counter: number) => PREFIX + String(counter).padStart(20, '0');
const SHARD = 'shardId-000000000000';

/** Frames of counters first..last as one group write hands them over. */
function group(first: number, last: number, arrivalMs = Date.now()) {
  const staging = new FrameStaging(1024);
  for (let c = first; c <= last; c++)
    staging.add(c, arrivalMs, `key-${c}`, Buffer.from(JSON.stringify({ n: c })));
  const taken = staging.take();
  return { bytes: taken.bytes, firstCounter: taken.firstCounter, lastCounter: taken.lastCounter };
}

const after = (counter: number) => ({ type: 'after' as const, sequenceNumber: seq(counter) });
const opts = (maxRecords = 100) => ({ limits: { maxRecords }, cutoffMs: 0 });

describe('FrameCache', () => {
  it('reads pushed frames back in order across groups, within the limits', async () => {
    const cache = new FrameCache();
    cache.push('s', CREATED, SHARD, group(1, 5));
    cache.push('s', CREATED, SHARD, group(6, 9));
    const first = (await cache.read('s', SHARD, after(0), opts(3)))!;
    expect(first.records.map((r) => r.sequenceNumber)).toEqual([seq(1), seq(2), seq(3)]);
    expect(first.records[1]).toMatchObject({ shardId: SHARD, partitionKey: 'key-2' });
    expect(JSON.parse(first.records[1]!.data.toString())).toEqual({ n: 2 });
    expect(first.next).toEqual(after(3));
    const rest = (await cache.read('s', SHARD, first.next, opts()))!;
    expect(rest.records.map((r) => r.partitionKey)).toEqual(
      [4, 5, 6, 7, 8, 9].map((n) => `key-${n}`),
    );
    expect(rest.lastSequenceNumber).toBe(seq(9));
    // Nothing new after the last pushed frame: an empty answer, not a read of the log.
    expect(await cache.read('s', SHARD, after(9), opts())).toMatchObject({
      records: [],
      next: after(9),
    });
    // What was read past is dropped.
    expect(cache.bytes).toBe(0);
  });

  it('leaves to the log what it cannot answer exactly', async () => {
    const cache = new FrameCache();
    cache.push('s', CREATED, SHARD, group(10, 12));
    expect(await cache.read('s', SHARD, after(0), opts(1000))).toBeUndefined();
    expect(await cache.read('s', SHARD, after(5), opts())).toBeUndefined(); // before the copy
    expect(await cache.read('s', 'shardId-000000000001', after(9), opts())).toBeUndefined();
    expect(
      await cache.read('s', SHARD, { type: 'after', sequenceNumber: '1' + seq(9) }, opts()),
    ).toBeUndefined(); // another stream of that name
    // A failed group's counters are skipped by the log: past the gap the copy does not answer.
    cache.push('s', CREATED, SHARD, group(15, 16));
    expect((await cache.read('s', SHARD, after(9), opts()))!.records).toHaveLength(3);
    expect(await cache.read('s', SHARD, after(12), opts())).toBeUndefined();
  });

  it('does not answer with records retention may have removed', async () => {
    const cache = new FrameCache();
    cache.push('s', CREATED, SHARD, group(1, 3, 1_000));
    expect(await cache.read('s', SHARD, after(0), { limits: {}, cutoffMs: 2_000 })).toBeUndefined();
    expect(
      (await cache.read('s', SHARD, after(0), { limits: {}, cutoffMs: 500 }))!.records,
    ).toHaveLength(3);
  });

  it('stops taking frames at its size bound and starts again once read past', async () => {
    const one = group(1, 4).bytes.length;
    const cache = new FrameCache(one + 10);
    cache.push('s', CREATED, SHARD, group(1, 4));
    cache.push('s', CREATED, SHARD, group(5, 8)); // over the bound: dropped
    expect((await cache.read('s', SHARD, after(0), opts()))!.records).toHaveLength(4);
    expect(await cache.read('s', SHARD, after(4), opts())).toBeUndefined(); // 5.. only in the log
    cache.push('s', CREATED, SHARD, group(9, 10)); // emptied: a fresh copy from 9
    expect(await cache.read('s', SHARD, after(4), opts())).toBeUndefined();
    expect((await cache.read('s', SHARD, after(8), opts()))!.records).toHaveLength(2);
  });

  it('reads frames beyond its memory bound from where they lie in the segment file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'frame-cache-'));
    try {
      const first = group(1, 3);
      const second = group(4, 6);
      const path = join(dir, '00000000000000000001.seg');
      writeFileSync(path, Buffer.concat([first.bytes, second.bytes]));
      const cache = new FrameCache(first.bytes.length + 10);
      cache.push('s', CREATED, SHARD, { ...first, where: { path, position: 0 } });
      cache.push('s', CREATED, SHARD, {
        ...second,
        where: { path, position: first.bytes.length },
      });
      const read = (await cache.read('s', SHARD, after(0), opts()))!;
      expect(read.records.map((r) => r.partitionKey)).toEqual(['key-1', 'key-2', 'key-3']);
      const fromDisk = (await cache.read('s', SHARD, read.next, opts()))!;
      expect(fromDisk.records.map((r) => r.partitionKey)).toEqual(['key-4', 'key-5', 'key-6']);
      expect(JSON.parse(fromDisk.records[2]!.data.toString())).toEqual({ n: 6 });
      // A segment removed by retention: the log, not the copy, says what is left.
      cache.push('s', CREATED, SHARD, { ...group(7, 7), where: { path, position: 0 } });
      cache.push('s', CREATED, SHARD, { ...group(8, 8), where: { path, position: 0 } });
      rmSync(path);
      expect(await cache.read('s', SHARD, after(7), opts())).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('staging buffers given back', () => {
  it('the cache gives back a handed-over group once read past, and only then', async () => {
    const released: ArrayBufferLike[] = [];
    const cache = new FrameCache(undefined, (memory) => released.push(memory));
    const first = group(1, 3);
    cache.push('s', CREATED, SHARD, first);
    cache.push('s', CREATED, SHARD, group(4, 6));
    const read = (await cache.read('s', SHARD, after(0), opts(3)))!;
    expect(read.records.map((r) => r.partitionKey)).toEqual(['key-1', 'key-2', 'key-3']);
    expect(released.length).toBe(0); // its records were just returned: still in use
    await cache.read('s', SHARD, after(3), opts());
    expect(released.length).toBe(1);
    expect(released[0] === first.bytes.buffer).toBe(true);
  });

  it('a pool hands out the smallest buffer big enough, and keeps within its bound', () => {
    const pool = new StagingPool(3 * 1024 * 1024);
    const [a, b] = [Buffer.allocUnsafe(1024 * 1024), Buffer.allocUnsafe(2 * 1024 * 1024)];
    pool.give(b);
    pool.give(a);
    pool.give(Buffer.allocUnsafe(512 * 1024)); // over the bound: left to the GC
    pool.give(Buffer.allocUnsafe(1024)); // too small to stage in
    expect(pool.bytes).toBe(3 * 1024 * 1024);
    expect(pool.take(600 * 1024) === a).toBe(true);
    expect(pool.take(3 * 1024 * 1024) === undefined).toBe(true);
    expect(pool.take(600 * 1024) === b).toBe(true);
    expect(pool.bytes).toBe(0);
  });

  it('a staging buffer built in a reused buffer holds only its own frames', () => {
    const pool = new StagingPool();
    // Room for all 300 frames: the staging never grows, so the pool holds only what is given back.
    const staging = new FrameStaging(512 * 1024, pool);
    for (let c = 1; c <= 300; c++) staging.add(c, CREATED, `k${c}`, Buffer.alloc(1000, c % 251));
    const taken = staging.take();
    pool.give(Buffer.from(taken.bytes.buffer)); // written: given back
    staging.add(301, CREATED, 'k301', Buffer.from('{"n":301}'));
    staging.take(); // the next buffer the staging takes is the one given back
    staging.add(302, CREATED, 'k302', Buffer.from('{"n":302}'));
    const again = staging.take();
    expect(again.bytes.buffer === taken.bytes.buffer).toBe(true);
    const cache = new FrameCache();
    cache.push('s', CREATED, SHARD, again);
    return cache.read('s', SHARD, after(301), opts()).then((read) => {
      expect(read!.records.map((r) => [r.partitionKey, r.data.toString()])).toEqual([
        ['k302', '{"n":302}'],
      ]);
    });
  });

  it('a staging buffer that grows keeps its frames and gives its smaller buffer to the pool', () => {
    const pool = new StagingPool();
    const staging = new FrameStaging(256 * 1024, pool);
    const first = staging.buffer;
    for (let c = 1; c <= 300; c++) staging.add(c, CREATED, `k${c}`, Buffer.alloc(1000, c % 251));
    expect(staging.buffer.length).toBe(512 * 1024); // grown to the next power of two
    expect(pool.take(256 * 1024)).toBe(first);
    const cache = new FrameCache();
    cache.push('s', CREATED, SHARD, staging.take());
    return cache.read('s', SHARD, after(0), opts(1000)).then((read) => {
      expect(read!.records).toHaveLength(300);
      read!.records.forEach((r, i) => {
        expect(r.partitionKey).toBe(`k${i + 1}`);
        expect(r.data.equals(Buffer.alloc(1000, (i + 1) % 251))).toBe(true);
      });
    });
  });

  it('gives back at once the frames it does not keep, so shared staging memory is never lost', () => {
    const released: ArrayBufferLike[] = [];
    // Room for one group only: the second is left on disk (where it lies), its memory given back.
    const first = group(1, 3);
    const cache = new FrameCache(first.bytes.length, (memory) => released.push(memory));
    cache.push('s', CREATED, SHARD, { ...first, where: { path: '/nowhere', position: 0 } });
    expect(released).toEqual([]);
    const second = group(4, 6);
    cache.push('s', CREATED, SHARD, { ...second, where: { path: '/nowhere', position: 0 } });
    expect(released).toEqual([second.bytes.buffer]);
    // A gap in the counters (a failed group): the shard's copy is incomplete, the next frames are
    // not kept while it holds any, and are given back too.
    const afterGap = group(9, 10);
    cache.push('s', CREATED, SHARD, afterGap);
    expect(released).toEqual([second.bytes.buffer, afterGap.bytes.buffer]);
  });
});
