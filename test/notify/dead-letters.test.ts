/**
 * The dead-letter store on a DuckDB state database: entries are added, collapsed by dedupe key,
 * listed and purged; a replay applies an entry exactly once, even when asked twice at once.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/index.js';
import { openDuckDB, type Engine } from '../../src/engines/index.js';
import { DeadLetterStore, type DeadLetter } from '../../src/notify/index.js';
import { tempDir } from '../helpers.js';

const sample = {
  kind: 'notification' as const,
  source: 'ops',
  payload: { channel: 'ops', event: { type: 'success', runId: 'run_1' } },
  error: 'POST answered 500',
  attempts: 3,
};

/** A promise with its resolve function, to hold a handler mid-replay. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('dead-letter store on DuckDB', () => {
  let engine: Engine;
  let dlq: DeadLetterStore;
  beforeEach(async () => {
    engine = await openDuckDB({ path: ':memory:' });
    dlq = await DeadLetterStore.open(engine);
  });
  afterEach(async () => engine.close());

  it('adds a pending entry with its payload, error, attempts and times', async () => {
    const entry = await dlq.add(sample);
    expect(entry).toMatchObject({
      id: expect.stringMatching(/^dl_/),
      kind: 'notification',
      source: 'ops',
      payload: sample.payload,
      error: 'POST answered 500',
      attempts: 3,
      status: 'pending',
      replayedAt: null,
      dedupeKey: null,
    });
    expect(entry.firstSeen).toBe(entry.lastSeen);
    expect(await dlq.get(entry.id)).toEqual(entry);
  });

  it('opens twice on the same database without losing entries', async () => {
    const entry = await dlq.add(sample);
    const again = await DeadLetterStore.open(engine);
    expect(await again.get(entry.id)).toEqual(entry);
  });

  it('updates the pending entry with the same dedupe key instead of adding a second', async () => {
    const first = await dlq.add({ ...sample, dedupeKey: 'ops:freshness:orders' });
    await new Promise((r) => setTimeout(r, 5));
    const second = await dlq.add({
      ...sample,
      attempts: 2,
      error: 'no answer within 200 ms',
      payload: { newer: true },
      dedupeKey: 'ops:freshness:orders',
    });
    expect(second.id).toBe(first.id);
    expect(second).toMatchObject({
      attempts: 5,
      error: 'no answer within 200 ms',
      payload: { newer: true },
      firstSeen: first.firstSeen,
    });
    expect(second.lastSeen > first.lastSeen).toBe(true);
    expect(await dlq.list()).toHaveLength(1);
  });

  it('adds a new entry when the one with the same dedupe key was already replayed', async () => {
    const first = await dlq.add({ ...sample, dedupeKey: 'k' });
    await dlq.replay(first.id, { notification: async () => undefined });
    const second = await dlq.add({ ...sample, dedupeKey: 'k' });
    expect(second.id).not.toBe(first.id);
    expect((await dlq.list()).map((e) => e.status).sort()).toEqual(['pending', 'replayed']);
  });

  it('lists oldest first, filtered by kind, status and source, with a limit', async () => {
    const a = await dlq.add(sample);
    const b = await dlq.add({ ...sample, kind: 'record', source: 'crm' });
    const c = await dlq.add({ ...sample, kind: 'event', source: 'clicks' });
    await dlq.replay(c.id, { event: async () => undefined });
    expect((await dlq.list()).map((e) => e.id)).toEqual([a.id, b.id, c.id]);
    expect((await dlq.list({ kind: 'record' })).map((e) => e.id)).toEqual([b.id]);
    expect((await dlq.list({ status: 'pending' })).map((e) => e.id)).toEqual([a.id, b.id]);
    expect((await dlq.list({ source: 'clicks' })).map((e) => e.id)).toEqual([c.id]);
    expect((await dlq.list({ limit: 2 })).map((e) => e.id)).toEqual([a.id, b.id]);
    expect(await dlq.get('dl_missing')).toBeUndefined();
  });

  it('refuses an unknown kind', async () => {
    await expect(dlq.add({ ...sample, kind: 'letter' as never })).rejects.toThrow(
      /unknown dead-letter kind "letter"/,
    );
  });

  it('purges by ids, by status and by time, returning how many went', async () => {
    const a = await dlq.add(sample);
    const b = await dlq.add(sample);
    const c = await dlq.add(sample);
    const d = await dlq.add(sample);
    await dlq.replay(d.id, { notification: async () => undefined });
    expect(await dlq.purge({ ids: [a.id, 'dl_missing'] })).toBe(1);
    expect(await dlq.purge({ ids: [] })).toBe(0);
    expect(await dlq.purge({ status: 'replayed' })).toBe(1);
    expect(await dlq.purge({ before: '2000-01-01T00:00:00.000Z' })).toBe(0);
    expect((await dlq.list()).map((e) => e.id)).toEqual([b.id, c.id]);
    expect(await dlq.purge({ before: new Date(Date.now() + 1000) })).toBe(2);
    expect(await dlq.list()).toEqual([]);
  });

  it('refuses a purge without criteria, so a slip cannot empty the store', async () => {
    await dlq.add(sample);
    await expect(dlq.purge({})).rejects.toThrow(/purge needs ids, a status or a time/);
    expect(await dlq.list()).toHaveLength(1);
  });

  it('replays an entry with the handler for its kind and marks it replayed', async () => {
    const entry = await dlq.add(sample);
    const seen: DeadLetter[] = [];
    const done = await dlq.replay(entry.id, {
      notification: async (e) => {
        seen.push(e);
      },
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ id: entry.id, payload: sample.payload, status: 'replaying' });
    expect(done).toMatchObject({ id: entry.id, status: 'replayed', attempts: 3 });
    expect(done.replayedAt).toEqual(expect.any(String));
    expect(await dlq.get(entry.id)).toEqual(done);
  });

  it('runs the handler once when replay is called twice at once, refusing the second', async () => {
    const entry = await dlq.add(sample);
    const gate = deferred();
    let runs = 0;
    const handlers = {
      notification: async () => {
        runs++;
        await gate.promise;
      },
    };
    const first = dlq.replay(entry.id, handlers);
    const second = dlq.replay(entry.id, handlers);
    const secondResult = await second.then(
      () => 'replayed',
      (err: unknown) => err,
    );
    gate.resolve();
    await first;
    expect(runs).toBe(1);
    expect(secondResult).toBeInstanceOf(TributaryError);
    expect((secondResult as Error).message).toMatch(/is being replayed/);
    expect((await dlq.get(entry.id))!.status).toBe('replayed');
  });

  it('refuses to replay an entry already replayed, or one that does not exist', async () => {
    const entry = await dlq.add(sample);
    let runs = 0;
    const handlers = { notification: async () => void runs++ };
    await dlq.replay(entry.id, handlers);
    await expect(dlq.replay(entry.id, handlers)).rejects.toThrow(/already replayed at/);
    await expect(dlq.replay('dl_nope', handlers)).rejects.toThrow(/no dead letter dl_nope/);
    expect(runs).toBe(1);
  });

  it('refuses to replay a kind it has no handler for, leaving the entry pending', async () => {
    const entry = await dlq.add({ ...sample, kind: 'record' });
    await expect(dlq.replay(entry.id, { notification: async () => undefined })).rejects.toThrow(
      /nothing replays record entries/,
    );
    expect((await dlq.get(entry.id))!.status).toBe('pending');
  });

  it('puts the entry back to pending with one more attempt when the handler fails', async () => {
    const entry = await dlq.add(sample);
    await new Promise((r) => setTimeout(r, 5));
    await expect(
      dlq.replay(entry.id, {
        notification: async () => {
          throw new Error('still down');
        },
      }),
    ).rejects.toThrow('still down');
    const after = (await dlq.get(entry.id))!;
    expect(after).toMatchObject({
      status: 'pending',
      attempts: 4,
      error: 'still down',
      replayedAt: null,
    });
    expect(after.lastSeen > entry.lastSeen).toBe(true);
    // And it can be replayed again afterwards.
    await dlq.replay(entry.id, { notification: async () => undefined });
    expect((await dlq.get(entry.id))!.status).toBe('replayed');
  });

  it('recovers replays left stuck by a process that died, leaving recent ones alone', async () => {
    const entry = await dlq.add(sample);
    const gate = deferred();
    const running = dlq.replay(entry.id, { notification: () => gate.promise });
    await new Promise((r) => setTimeout(r, 20));
    expect((await dlq.get(entry.id))!.status).toBe('replaying');
    expect(await dlq.recoverStuck({ olderThanMs: 60_000 })).toBe(0);
    expect(await dlq.recoverStuck()).toBe(1);
    expect((await dlq.get(entry.id))!).toMatchObject({ status: 'pending', replayedAt: null });
    gate.resolve();
    await running;
  });

  it('counts entries per status', async () => {
    const a = await dlq.add(sample);
    await dlq.add(sample);
    await dlq.replay(a.id, { notification: async () => undefined });
    expect(await dlq.counts()).toEqual({ pending: 1, replaying: 0, replayed: 1 });
  });
});

describe('dead-letter store shared by two sessions of one DuckDB file', () => {
  let dir: string;
  let engine: Engine;
  beforeEach(async () => {
    dir = tempDir('trib-dlq-');
    engine = await openDuckDB({ path: join(dir, 'state.duckdb') });
  });
  afterEach(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('replays once when two sessions replay the same entry at the same time', async () => {
    const a = await DeadLetterStore.open(engine);
    const other = await engine.fork();
    try {
      const b = await DeadLetterStore.open(other);
      const entry = await a.add(sample);
      let runs = 0;
      const gate = deferred();
      const handlers = {
        notification: async () => {
          runs++;
          await gate.promise;
        },
      };
      const results = Promise.allSettled([
        a.replay(entry.id, handlers),
        b.replay(entry.id, handlers),
      ]);
      await new Promise((r) => setTimeout(r, 50));
      gate.resolve();
      const settled = await results;
      expect(runs).toBe(1);
      expect(settled.map((s) => s.status).sort()).toEqual(['fulfilled', 'rejected']);
      const rejected = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult;
      expect(String(rejected.reason)).toMatch(/is being replayed|already replayed/);
      expect((await b.get(entry.id))!.status).toBe('replayed');
    } finally {
      await other.close();
    }
  });
});
