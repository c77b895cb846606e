/**
 * THE stream-log conformance suite: every adapter in log-adapters.ts must keep the StreamLog
 * contract (src/stream/log.ts) the same way, so the collector, the flusher and the fault tests can
 * run on either. An adapter whose service does not answer is reported as not run (and fails the
 * run under CI=true, where every service must be there).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/index.js';
import {
  compareSequenceNumbers,
  hashKeyOf,
  shardForHashKey,
  shardIdOf,
  shardRange,
  type LogRecord,
  type RecordInput,
  type StreamLog,
  type StreamSettings,
} from '../../src/stream/index.js';
import { logAdapters } from './log-adapters.js';

const DAY = 24 * 3_600_000;
let streamCounter = 0;
/** A stream name unique to this run, so adapters over shared servers never collide. */
const uniqueName = (label: string) =>
  `conf-${label}-${process.pid}-${Date.now().toString(36)}-${streamCounter++}`;

const text = (s: string) => Buffer.from(s, 'utf8');
const records = (n: number, prefix: string, keyOf = (i: number) => `key-${i}`): RecordInput[] =>
  Array.from({ length: n }, (_, i) => ({ partitionKey: keyOf(i), data: text(`${prefix}-${i}`) }));

/** The code of what `promise` rejects with, failing when it resolves or rejects with a non-TributaryError. */
async function errorCodeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof TributaryError) return err.code;
    throw err;
  }
  throw new Error('expected the call to fail');
}

/** Every sequence number of the outcomes, failing on any refused record. */
function acceptedSequences(outcomes: Awaited<ReturnType<StreamLog['append']>>): string[] {
  return outcomes.map((o) => {
    if (!o.ok) throw new Error(`record refused: ${o.code} ${o.message}`);
    return o.sequenceNumber;
  });
}

/** Reads a whole shard from the oldest record, page by page. */
async function readAll(log: StreamLog, stream: string, shardId: string): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  let from = { type: 'oldest' } as Parameters<StreamLog['read']>[2];
  for (;;) {
    const page = await log.read(stream, shardId, from, { maxRecords: 1000 });
    out.push(...page.records);
    if (page.records.length === 0) return out;
    from = page.next;
  }
}

function expectIncreasing(seqs: string[]): void {
  for (let i = 1; i < seqs.length; i++)
    expect(
      compareSequenceNumbers(seqs[i - 1]!, seqs[i]!),
      `${seqs[i - 1]} < ${seqs[i]}`,
    ).toBeLessThan(0);
}

for (const adapter of logAdapters) {
  const whyNot = await adapter.available();
  if (whyNot !== undefined) {
    if (process.env.CI === 'true')
      throw new Error(`stream log adapter ${adapter.name} must run on CI: ${whyNot}`);
    console.warn(`stream log conformance for ${adapter.name} did not run: ${whyNot}`);
  }

  describe.skipIf(whyNot !== undefined)(`stream log conformance: ${adapter.name}`, () => {
    let log: StreamLog;
    const settings = (shards: number, extra: Partial<StreamSettings> = {}): StreamSettings => ({
      shards,
      maxAgeMs: DAY,
      ...extra,
    });

    beforeAll(async () => {
      log = await adapter.open();
    });
    afterAll(async () => {
      await log?.close();
      await adapter.cleanup();
    });

    it('creates, describes, lists and deletes streams with Kinesis shard ranges', async () => {
      const name = uniqueName('crud');
      const before = Date.now();
      const created = await log.createStream(name, settings(3));
      expect(created.name).toBe(name);
      expect(created.settings.shards).toBe(3);
      expect(created.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
      const described = await log.describeStream(name);
      expect(described?.shards.map((s) => s.shardId)).toEqual([0, 1, 2].map(shardIdOf));
      described?.shards.forEach((shard, i) => {
        expect(shard.startingHashKey).toBe(shardRange(i, 3).start.toString());
        expect(shard.endingHashKey).toBe(shardRange(i, 3).end.toString());
        expect(shard.startingSequenceNumber).toMatch(/^\d+$/);
      });
      expect(described?.settings).toMatchObject({ shards: 3, maxAgeMs: DAY });
      expect(await log.listStreams()).toContain(name);
      await log.deleteStream(name);
      expect(await log.describeStream(name)).toBeUndefined();
      expect(await log.listStreams()).not.toContain(name);
      // A deleted name can be created again, empty.
      await log.createStream(name, settings(1));
      const shard = shardIdOf(0);
      expect((await log.read(name, shard, { type: 'oldest' })).records).toEqual([]);
      await log.deleteStream(name);
    });

    it('refuses what exists, what does not and what is malformed with the contract codes', async () => {
      const name = uniqueName('errors');
      await log.createStream(name, settings(1));
      expect(await errorCodeOf(log.createStream(name, settings(1)))).toBe('CONFLICT');
      const missing = uniqueName('missing');
      expect(await errorCodeOf(log.deleteStream(missing))).toBe('NOT_FOUND');
      expect(await errorCodeOf(log.append(missing, records(1, 'x')))).toBe('NOT_FOUND');
      expect(await errorCodeOf(log.read(missing, shardIdOf(0), { type: 'oldest' }))).toBe(
        'NOT_FOUND',
      );
      expect(await errorCodeOf(log.read(name, shardIdOf(1), { type: 'oldest' }))).toBe('NOT_FOUND');
      expect(await errorCodeOf(log.read(name, 'shard-zero', { type: 'oldest' }))).toBe('NOT_FOUND');
      expect(await errorCodeOf(log.enforceRetention(missing))).toBe('NOT_FOUND');
      expect(await errorCodeOf(log.createStream('bad/name', settings(1)))).toBe('INPUT');
      expect(await errorCodeOf(log.createStream(uniqueName('zero'), settings(0)))).toBe('INPUT');
      expect(
        await errorCodeOf(log.read(name, shardIdOf(0), { type: 'at', sequenceNumber: 'abc' })),
      ).toBe('INPUT');
      await log.deleteStream(name);
    });

    it('places records by the MD5 of the partition key, or by an explicit hash key', async () => {
      const name = uniqueName('place');
      await log.createStream(name, settings(4));
      const input = records(200, 'p', (i) => `user-${i}`);
      input.push({
        partitionKey: 'anything',
        explicitHashKey: shardRange(2, 4).start.toString(),
        data: text('explicit'),
      });
      const outcomes = await log.append(name, input);
      outcomes.forEach((outcome, i) => {
        expect(outcome.ok).toBe(true);
        const expected =
          i < 200 ? shardIdOf(shardForHashKey(hashKeyOf(`user-${i}`), 4)) : shardIdOf(2);
        if (outcome.ok) expect(outcome.shardId).toBe(expected);
      });
      const used = new Set(outcomes.map((o) => (o.ok ? o.shardId : '')));
      expect(used.size).toBe(4);
      for (let shard = 0; shard < 4; shard++) {
        const stored = await readAll(log, name, shardIdOf(shard));
        const expected = outcomes.filter((o) => o.ok && o.shardId === shardIdOf(shard));
        expect(stored.map((r) => r.sequenceNumber)).toEqual(
          expected.map((o) => (o.ok ? o.sequenceNumber : '')),
        );
        for (const r of stored) expect(r.shardId).toBe(shardIdOf(shard));
      }
      await log.deleteStream(name);
    });

    it('refuses bad records one by one and takes the rest of the call', async () => {
      const name = uniqueName('refuse');
      await log.createStream(name, settings(1));
      const outcomes = await log.append(name, [
        { partitionKey: 'ok-1', data: text('one') },
        { partitionKey: '', data: text('no key') },
        { partitionKey: 'k'.repeat(257), data: text('long key') },
        { partitionKey: 'ok-2', data: new Uint8Array(1024 * 1024 + 1) },
        { partitionKey: 'ok-3', explicitHashKey: '2'.repeat(40), data: text('bad hash key') },
        { partitionKey: 'ok-4', data: new Uint8Array(0) },
      ]);
      expect(outcomes.map((o) => (o.ok ? 'ok' : o.code))).toEqual([
        'ok',
        'INPUT',
        'INPUT',
        'INPUT',
        'INPUT',
        'ok',
      ]);
      for (const o of outcomes) if (!o.ok) expect(o.message.length).toBeGreaterThan(5);
      const stored = await readAll(log, name, shardIdOf(0));
      expect(stored.map((r) => r.partitionKey)).toEqual(['ok-1', 'ok-4']);
      expect(stored[1]!.data.length).toBe(0);
      await log.deleteStream(name);
    });

    it('hands out strictly increasing sequence numbers and keeps every byte', async () => {
      const name = uniqueName('order');
      await log.createStream(name, settings(1));
      const before = Date.now();
      const binary = Buffer.from([0, 1, 2, 255, 254, 0, 10, 13]);
      const first = acceptedSequences(
        await log.append(name, [{ partitionKey: 'ключ-🔑', data: binary }, ...records(10, 'a')]),
      );
      const second = acceptedSequences(await log.append(name, records(10, 'b')));
      const after = Date.now();
      const all = [...first, ...second];
      for (const s of all) expect(s).toMatch(/^\d+$/);
      expectIncreasing(all);
      const description = await log.describeStream(name);
      expect(
        compareSequenceNumbers(description!.shards[0]!.startingSequenceNumber, all[0]!),
      ).toBeLessThanOrEqual(0);
      const stored = await readAll(log, name, shardIdOf(0));
      expect(stored.map((r) => r.sequenceNumber)).toEqual(all);
      expect(stored[0]!.partitionKey).toBe('ключ-🔑');
      expect(Buffer.compare(stored[0]!.data, binary)).toBe(0);
      expect(stored[5]!.data.toString()).toBe('a-4');
      expect(stored[20]!.data.toString()).toBe('b-9');
      for (const r of stored) {
        expect(r.arrivalMs).toBeGreaterThanOrEqual(before - 5);
        expect(r.arrivalMs).toBeLessThanOrEqual(after + 5);
      }
      await log.deleteStream(name);
    });

    it('stores the data as given when the caller reuses its memory once append may allow it', async () => {
      const name = uniqueName('copies');
      await log.createStream(name, settings(2));
      const given = records(40, 'reused', (i) => `k-${i % 7}`);
      const expected = given.map((r) => Buffer.from(r.data).toString());
      const appending = log.append(name, given);
      // A log that copies on append lets the caller overwrite the data as soon as append returns
      // (the collector decodes the next request's records over a reused body buffer).
      if (log.copiesOnAppend) for (const r of given) (r.data as Buffer).fill(0x21);
      acceptedSequences(await appending);
      const stored = [
        ...(await readAll(log, name, shardIdOf(0))),
        ...(await readAll(log, name, shardIdOf(1))),
      ];
      expect(stored.map((r) => r.data.toString()).sort()).toEqual(expected.sort());
      await log.deleteStream(name);
    });

    it('reads from oldest, at, after, latest and at_time', async () => {
      const name = uniqueName('positions');
      await log.createStream(name, settings(1));
      const shard = shardIdOf(0);
      const empty = await log.read(name, shard, { type: 'latest' });
      expect(empty.records).toEqual([]);
      expect(empty.lastSequenceNumber).toBeUndefined();
      const early = acceptedSequences(await log.append(name, records(10, 'early')));
      await sleep(30);
      const boundary = Date.now();
      await sleep(30);
      const late = acceptedSequences(await log.append(name, records(5, 'late')));
      const all = [...early, ...late];

      const oldest = await log.read(name, shard, { type: 'oldest' });
      expect(oldest.records.map((r) => r.sequenceNumber)).toEqual(all);
      expect(oldest.lastSequenceNumber).toBe(all.at(-1));
      expect(oldest.trimmedBefore).toBeUndefined();

      const at = await log.read(name, shard, { type: 'at', sequenceNumber: all[4]! });
      expect(at.records.map((r) => r.sequenceNumber)).toEqual(all.slice(4));
      const after = await log.read(name, shard, { type: 'after', sequenceNumber: all[4]! });
      expect(after.records.map((r) => r.sequenceNumber)).toEqual(all.slice(5));
      const afterLast = await log.read(name, shard, { type: 'after', sequenceNumber: all.at(-1)! });
      expect(afterLast.records).toEqual([]);

      const atTime = await log.read(name, shard, { type: 'at_time', timestampMs: boundary });
      expect(atTime.records.map((r) => r.sequenceNumber)).toEqual(late);
      const atFuture = await log.read(name, shard, {
        type: 'at_time',
        timestampMs: Date.now() + 60_000,
      });
      expect(atFuture.records).toEqual([]);

      // latest: nothing now, then exactly what is appended after it, through `next`.
      const latest = await log.read(name, shard, { type: 'latest' });
      expect(latest.records).toEqual([]);
      expect(latest.lastSequenceNumber).toBe(all.at(-1));
      const newer = acceptedSequences(await log.append(name, records(3, 'newer')));
      const fromLatest = await log.read(name, shard, latest.next);
      expect(fromLatest.records.map((r) => r.sequenceNumber)).toEqual(newer);
      // An empty shard's latest also continues with the first record appended after it.
      const name2 = uniqueName('latest-empty');
      await log.createStream(name2, settings(1));
      const emptyLatest = await log.read(name2, shard, { type: 'latest' });
      const firstOnes = acceptedSequences(await log.append(name2, records(2, 'first')));
      const fromEmpty = await log.read(name2, shard, emptyLatest.next);
      expect(fromEmpty.records.map((r) => r.sequenceNumber)).toEqual(firstOnes);
      await log.deleteStream(name);
      await log.deleteStream(name2);
    });

    it('bounds reads by count and bytes and continues from next', async () => {
      const name = uniqueName('limits');
      await log.createStream(name, settings(1));
      const shard = shardIdOf(0);
      const input = Array.from({ length: 50 }, (_, i) => ({
        partitionKey: `k${i}`,
        data: Buffer.alloc(100, i),
      }));
      const all = acceptedSequences(await log.append(name, input));
      const page = await log.read(name, shard, { type: 'oldest' }, { maxRecords: 7 });
      expect(page.records.map((r) => r.sequenceNumber)).toEqual(all.slice(0, 7));
      expect(page.next).toEqual({ type: 'after', sequenceNumber: all[6] });
      const byBytes = await log.read(name, shard, page.next, { maxBytes: 350 });
      expect(byBytes.records.length).toBeGreaterThanOrEqual(1);
      expect(byBytes.records.length).toBeLessThanOrEqual(4);
      expect(byBytes.records[0]!.sequenceNumber).toBe(all[7]);
      const tiny = await log.read(name, shard, { type: 'oldest' }, { maxBytes: 1 });
      expect(tiny.records.length).toBe(1);
      const paged: string[] = [];
      let from = { type: 'oldest' } as Parameters<StreamLog['read']>[2];
      for (let guard = 0; guard < 100; guard++) {
        const p = await log.read(name, shard, from, { maxRecords: 6 });
        if (p.records.length === 0) break;
        expect(p.records.length).toBeLessThanOrEqual(6);
        paged.push(...p.records.map((r) => r.sequenceNumber));
        from = p.next;
      }
      expect(paged).toEqual(all);
      await log.deleteStream(name);
    });

    it('keeps every concurrent append, each call contiguous within its shard', async () => {
      const name = uniqueName('concurrent');
      await log.createStream(name, settings(2));
      const calls = 40;
      const perCall = 25;
      const results = await Promise.all(
        Array.from({ length: calls }, (_, c) =>
          log.append(
            name,
            records(perCall, `c${c}`, (i) => `c${c}-k${i}`),
          ),
        ),
      );
      const bySeq = new Map<string, string>();
      results.forEach((outcomes, c) =>
        outcomes.forEach((o, i) => {
          if (!o.ok) throw new Error(o.message);
          bySeq.set(`${o.shardId}/${o.sequenceNumber}`, `c${c}-${i}`);
        }),
      );
      expect(bySeq.size).toBe(calls * perCall);
      let total = 0;
      for (const shard of [shardIdOf(0), shardIdOf(1)]) {
        const stored = await readAll(log, name, shard);
        total += stored.length;
        expectIncreasing(stored.map((r) => r.sequenceNumber));
        for (const r of stored)
          expect(r.data.toString()).toBe(bySeq.get(`${shard}/${r.sequenceNumber}`));
        // Each call's records in this shard sit next to each other, in the call's order.
        const callOrder = stored.map((r) => r.data.toString().split('-')[0]);
        const seen = new Set<string>();
        for (let i = 0; i < callOrder.length; i++) {
          if (i > 0 && callOrder[i] === callOrder[i - 1]) continue;
          expect(seen.has(callOrder[i]!), `call ${callOrder[i]} split`).toBe(false);
          seen.add(callOrder[i]!);
        }
      }
      expect(total).toBe(calls * perCall);
      await log.deleteStream(name);
    });

    it.skipIf(!adapter.reopen)(
      'keeps every acknowledged record and stream across a reopen',
      async () => {
        const name = uniqueName('reopen');
        await log.createStream(name, settings(2, { maxBytes: 1_000_000 }));
        const acknowledged = await log.append(
          name,
          records(300, 'r', (i) => `k${i % 17}`),
        );
        const created = (await log.describeStream(name))!;
        await log.close();
        log = await adapter.reopen!();
        const again = await log.describeStream(name);
        expect(again?.settings).toEqual(created.settings);
        expect(again?.createdAt.getTime()).toBe(created.createdAt.getTime());
        expect(await log.listStreams()).toContain(name);
        for (const shard of [shardIdOf(0), shardIdOf(1)]) {
          const stored = await readAll(log, name, shard);
          const expected = acknowledged.filter((o) => o.ok && o.shardId === shard);
          expect(stored.map((r) => r.sequenceNumber)).toEqual(
            expected.map((o) => (o.ok ? o.sequenceNumber : '')),
          );
        }
        // New appends continue after what was there before the reopen.
        const lastBefore = acknowledged
          .filter((o) => o.ok && o.shardId === shardIdOf(0))
          .map((o) => (o.ok ? o.sequenceNumber : ''))
          .at(-1)!;
        const more = await log.append(name, [{ partitionKey: 'k0', data: text('after reopen') }]);
        const [outcome] = more;
        expect(outcome?.ok).toBe(true);
        if (outcome?.ok && outcome.shardId === shardIdOf(0))
          expect(compareSequenceNumbers(outcome.sequenceNumber, lastBefore)).toBeGreaterThan(0);
        await log.deleteStream(name);
      },
    );

    it('removes records older than the max age and reports the gap', async () => {
      const name = uniqueName('age');
      await log.createStream(name, settings(1, { maxAgeMs: 1000 }));
      const shard = shardIdOf(0);
      const old = acceptedSequences(await log.append(name, records(20, 'old')));
      await sleep(1300);
      const fresh = acceptedSequences(await log.append(name, records(5, 'fresh')));
      await log.enforceRetention(name);
      const oldest = await log.read(name, shard, { type: 'oldest' });
      expect(oldest.records.map((r) => r.sequenceNumber)).toEqual(fresh);
      const fromGone = await log.read(name, shard, { type: 'at', sequenceNumber: old[0]! });
      expect(fromGone.trimmedBefore).toBeDefined();
      expect(fromGone.records.map((r) => r.sequenceNumber)).toEqual(fresh);
      const fromKept = await log.read(name, shard, { type: 'at', sequenceNumber: fresh[0]! });
      expect(fromKept.trimmedBefore).toBeUndefined();
      await log.deleteStream(name);
    });

    it('keeps at most max bytes per shard, oldest removed first', async () => {
      const name = uniqueName('bytes');
      const maxBytes = 16 * 1024;
      await log.createStream(name, settings(1, { maxBytes }));
      const shard = shardIdOf(0);
      const all: string[] = [];
      for (let batch = 0; batch < 16; batch++) {
        const input = Array.from({ length: 4 }, (_, i) => ({
          partitionKey: `b${batch}`,
          data: Buffer.alloc(1000, batch * 4 + i),
        }));
        all.push(...acceptedSequences(await log.append(name, input)));
      }
      await log.enforceRetention(name);
      const kept = await readAll(log, name, shard);
      const keptBytes = kept.reduce((sum, r) => sum + r.data.length, 0);
      expect(keptBytes).toBeLessThanOrEqual(maxBytes);
      expect(kept.length).toBeGreaterThanOrEqual(4);
      // What is kept is the newest, unbroken run.
      expect(kept.map((r) => r.sequenceNumber)).toEqual(all.slice(all.length - kept.length));
      const fromFirst = await log.read(name, shard, { type: 'at', sequenceNumber: all[0]! });
      expect(fromFirst.trimmedBefore).toBeDefined();
      expect(fromFirst.records[0]?.sequenceNumber).toBe(kept[0]!.sequenceNumber);
      await log.deleteStream(name);
    });
  });
}
