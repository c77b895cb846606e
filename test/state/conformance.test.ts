/**
 * One state-store conformance suite, run on both state databases: a DuckDB file (the default)
 * and a PostgreSQL schema (`state: {store: postgres}`). Every store that keeps its tables in the
 * state database is exercised through its own API: run history (runs, steps, logs), catalog and
 * schema versions, asset versions, partitions, schedule ticks, freshness breaches, API tokens and
 * sessions, the audit log, dead letters and sync run history, plus the migrations that made
 * them. Each test gets a fresh database: a new DuckDB file, or a new PostgreSQL schema dropped
 * after it. (Source cursors and stream offsets live in the lake's raw manifests, committed with
 * the data they cover: docs/state.md.)
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engines/index.js';
import { DeadLetterStore } from '../../src/notify/index.js';
import { SyncHistory, type SyncRunRecord } from '../../src/orchestrator/index.js';
import { TokenStore } from '../../src/serve/index.js';
import {
  ServingPointerStore,
  StateStore,
  appliedMigrations,
  openStateEngine,
  type StateLocation,
} from '../../src/state/index.js';
import { tempDir } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';

const pgAvailable = await serviceAvailable('postgres', postgresTestUrl);
const RUN = `${Date.now().toString(36)}_${process.pid}`;
let serial = 0;

interface Backend {
  name: string;
  skip: boolean;
  location(): StateLocation;
  /** Removes what the test made (the PostgreSQL schema; DuckDB files are temp files). */
  drop(engine: Engine, location: StateLocation): Promise<void>;
}

const BACKENDS: Backend[] = [
  {
    name: 'DuckDB',
    skip: false,
    location: () => ({ store: 'duckdb', path: join(tempDir('trib-state-'), 'state.duckdb') }),
    drop: async () => undefined,
  },
  {
    name: 'PostgreSQL',
    skip: !pgAvailable,
    location: () => ({
      store: 'postgres',
      url: postgresTestUrl,
      schema: `state_conf_${RUN}_${++serial}`,
    }),
    drop: async (engine, location) => {
      if (location.store === 'postgres') await engine.dropSchema(location.schema);
    },
  },
];

/** Every store of the state database, opened as a workspace and `serve` open them. */
interface Stores {
  engine: Engine;
  state: StateStore;
  dlq: DeadLetterStore;
  tokens: TokenStore;
  syncs: SyncHistory;
}

async function openStores(engine: Engine): Promise<Stores> {
  return {
    engine,
    state: await StateStore.open(engine),
    dlq: await DeadLetterStore.open(engine),
    tokens: await TokenStore.open(engine),
    syncs: await SyncHistory.open(engine),
  };
}

function syncRun(over: Partial<SyncRunRecord>): SyncRunRecord {
  return {
    sync: 'crm',
    runId: 'r1',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
    status: 'succeeded',
    dryRun: false,
    fullResync: false,
    inserted: 3,
    updated: 2,
    deleted: 1,
    rejected: 0,
    unchanged: 9_000_000_000,
    failedShare: 0.25,
    message: 'ok',
    ...over,
  };
}

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip)(`state stores on ${backend.name}`, () => {
    let s: Stores;
    let location: StateLocation;
    beforeEach(async () => {
      location = backend.location();
      s = await openStores(await openStateEngine(location));
    });
    afterEach(async () => {
      await backend.drop(s.engine, location);
      await s.engine.close();
    });

    it('records every store’s migrations once, and opening again applies none', async () => {
      const applied = await appliedMigrations(s.engine);
      expect(applied.map((m) => `${m.store}:${m.version}`)).toEqual([
        'audit:1',
        'audit:2',
        'dead_letters:1',
        'state:1',
        'state:2',
        'sync_runs:1',
        'tokens:1',
        'tokens:2',
      ]);
      expect(applied.every((m) => /^[0-9a-f]{16}$/.test(m.checksum) && m.appliedAt)).toBe(true);
      await openStores(s.engine);
      expect(await appliedMigrations(s.engine)).toEqual(applied);
    });

    it('keeps runs, steps and logs: upserts, order, limits, resumes and abandoned runs', async () => {
      await s.state.startRun('r1', 'run', { plan: ['a', 'b'], trigger: 'schedule:nightly' });
      await s.state.startRun('r2', 'run', { resumedFrom: 'r1' });
      const step = {
        runId: 'r1',
        asset: 'model:a',
        kind: 'model',
        startedAt: '2026-01-01T00:00:01Z',
      };
      await s.state.upsertSteps([
        { ...step, status: 'running' },
        { ...step, asset: 'test:a', kind: 'test', status: 'running' },
      ]);
      await s.state.upsertSteps([
        {
          ...step,
          status: 'succeeded',
          finishedAt: '2026-01-01T00:00:02Z',
          rowsIn: 5_000_000_000,
          rowsOut: 4,
          rowsRejected: 1,
          message: 'it’s done',
          attempts: 2,
        },
      ]);
      await s.state.insertStepLogs([
        { runId: 'r1', asset: 'model:a', seq: 1, at: '2026-01-01T00:00:01Z', line: 'first' },
        { runId: 'r1', asset: 'model:a', seq: 2, at: '2026-01-01T00:00:02Z', line: 'second' },
      ]);
      // A log line written twice (a retried flush) is kept once.
      await s.state.insertStepLogs([
        { runId: 'r1', asset: 'model:a', seq: 2, at: '2026-01-01T00:00:02Z', line: 'second' },
      ]);
      await s.state.finishRun('r1', 'succeeded');

      expect(await s.state.getRun('r1')).toMatchObject({
        runId: 'r1',
        status: 'succeeded',
        plan: ['a', 'b'],
        trigger: 'schedule:nightly',
        resumedFrom: null,
      });
      expect(await s.state.getRun('nope')).toBeUndefined();
      expect((await s.state.listRuns(1)).map((r) => r.runId)).toHaveLength(1);
      expect((await s.state.runningRuns()).map((r) => r.runId)).toEqual(['r2']);
      expect((await s.state.stepLogs('r1', 'model:a')).map((l) => [l.seq, l.line])).toEqual([
        [1, 'first'],
        [2, 'second'],
      ]);
      expect((await s.state.listSteps('r1')).find((x) => x.asset === 'model:a')).toEqual({
        ...step,
        status: 'succeeded',
        finishedAt: '2026-01-01T00:00:02Z',
        rowsIn: 5_000_000_000,
        rowsOut: 4,
        rowsRejected: 1,
        message: 'it’s done',
        attempts: 2,
      });
      expect((await s.state.latestSteps('model')).map((x) => x.runId)).toEqual(['r1']);

      // r1's running test step belongs to a finished run; r2 is still running: abandoned.
      await s.state.upsertSteps([
        { runId: 'r2', asset: 'model:b', kind: 'model', status: 'running', startedAt: 't' },
      ]);
      expect(await s.state.markAbandonedRuns()).toEqual(['r2']);
      expect((await s.state.getRun('r2'))!.status).toBe('failed');
      expect((await s.state.listSteps('r2'))[0]!.status).toBe('failed');
    });

    it('keeps the catalog with schema versions, and asset versions atomically', async () => {
      const entry = {
        zone: 'processed',
        name: 'orders',
        location: 'processed/orders',
        format: 'parquet',
        columns: [{ name: 'id', type: 'BIGINT' }],
        rowCount: 10,
        partitions: ['2026-01'],
      };
      expect((await s.state.upsertCatalogEntry(entry)).schemaVersion).toBe(1);
      expect((await s.state.upsertCatalogEntry({ ...entry, rowCount: 20 })).schemaVersion).toBe(1);
      const widened = { ...entry, columns: [...entry.columns, { name: 'note', type: 'VARCHAR' }] };
      expect((await s.state.upsertCatalogEntry(widened)).schemaVersion).toBe(2);
      const [listed] = await s.state.listCatalog();
      expect(listed).toMatchObject({ ...widened, schemaVersion: 2 });
      expect((await s.state.schemaVersions('processed', 'orders')).map((v) => v.version)).toEqual([
        1, 2,
      ]);

      await s.state.setAssetVersion('model:a', 'f1');
      await s.state.setAssetVersion('model:a', 'f2');
      expect(await s.state.getAssetVersion('model:a')).toBe('f2');
      expect([...(await s.state.assetUpdatedAt()).keys()]).toEqual(['model:a']);
      await expect(
        s.state.atomically(async (tx) => {
          await tx.setAssetVersion('model:a', 'f3');
          await tx.setAssetVersion('model:b', 'f1');
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await s.state.getAssetVersion('model:a')).toBe('f2');
      expect(await s.state.getAssetVersion('model:b')).toBeUndefined();
    });

    it('keeps partitions, schedule ticks and freshness breaches', async () => {
      await s.state.setPartition('model:daily', '2026-01-02', 'running', 'r1');
      await s.state.setPartition('model:daily', '2026-01-01', 'succeeded', 'r1');
      await s.state.setPartition('model:daily', '2026-01-02', 'failed', 'r2', 'boom');
      expect(
        (await s.state.listPartitions('model:daily')).map((p) => [
          p.partition,
          p.status,
          p.runId,
          p.message,
        ]),
      ).toEqual([
        ['2026-01-01', 'succeeded', 'r1', null],
        ['2026-01-02', 'failed', 'r2', 'boom'],
      ]);

      expect(await s.state.lastTick('nightly')).toBeUndefined();
      await s.state.setLastTick('nightly', '2026-01-01T02:00:00.000Z');
      await s.state.setLastTick('nightly', '2026-01-02T02:00:00.000Z');
      expect(await s.state.lastTick('nightly')).toBe('2026-01-02T02:00:00.000Z');

      expect(await s.state.recordBreach('model:a', '2026-01-01')).toBe(true);
      expect(await s.state.recordBreach('model:a', '2026-01-01')).toBe(false);
      expect(await s.state.recordBreach('model:a', null)).toBe(true);
      await s.state.clearBreach('model:a');
      expect(await s.state.recordBreach('model:a', null)).toBe(true);
    });

    it('keeps tokens, producer keys, sessions and server-token rotation', async () => {
      const alice = await s.tokens.create('viewer', 'alice');
      expect(await s.tokens.check(alice.token)).toMatchObject({
        ok: true,
        info: { name: 'alice' },
      });
      expect((await s.tokens.check(`${alice.token.slice(0, -1)}x`)).ok).toBe(false);
      const session = await s.tokens.createSession(alice.info);
      expect((await s.tokens.checkSession(session)).ok).toBe(true);
      await s.tokens.endSession(session);
      expect((await s.tokens.checkSession(session)).ok).toBe(false);

      const producer = await s.tokens.createProducer('site');
      expect(await s.tokens.producerSecret(producer.accessKeyId)).toBe(producer.secretAccessKey);
      expect(await s.tokens.checkProducer(producer.token)).toBe(true);

      const server1 = await s.tokens.rotateServerToken('local cli (pid 1)');
      const server2 = await s.tokens.rotateServerToken('local cli (pid 2)');
      const revoked = await s.tokens.revoke(alice.info.id);
      expect(revoked.revokedAt).not.toBeNull();
      const fresh = await TokenStore.open(s.engine); // no cache: what the database says
      expect((await fresh.check(alice.token)).ok).toBe(false);
      expect((await fresh.check(server1.token)).ok).toBe(false);
      expect((await fresh.check(server2.token)).ok).toBe(true);
      expect((await fresh.list()).map((t) => [t.name, t.role, t.kind])).toEqual([
        ['alice', 'viewer', 'user'],
        ['site', 'producer', 'user'],
        ['local cli (pid 1)', 'admin', 'server'],
        ['local cli (pid 2)', 'admin', 'server'],
      ]);
    });

    it('keeps the audit log: started, finished, refused and interrupted entries', async () => {
      const who = {
        tokenId: 'aaaaaaaaaa',
        tokenName: 'alice',
        role: 'operator',
        credential: 'bearer',
      };
      const first = await s.tokens.audit.start({
        ...who,
        method: 'POST',
        path: '/api/runs',
        summary: '{}',
      });
      await s.tokens.audit.finish(first, { status: 202, outcome: 'succeeded', error: null });
      await s.tokens.audit.record(
        { ...who, method: 'GET', path: '/api/tokens', summary: '' },
        { status: 403, outcome: 'refused', error: 'FORBIDDEN' },
      );
      await s.tokens.audit.start({ ...who, method: 'POST', path: '/api/replay', summary: '' });
      expect(await s.tokens.audit.closeInterrupted()).toBe(1);
      const entries = await s.tokens.audit.list(10);
      expect(entries.map((e) => [e.path, e.status, e.outcome])).toEqual([
        ['/api/replay', null, 'interrupted'],
        ['/api/tokens', 403, 'refused'],
        ['/api/runs', 202, 'succeeded'],
      ]);
      expect(entries[2]).toMatchObject({ id: first, tokenName: 'alice', credential: 'bearer' });
      expect(Number(entries[0]!.id)).toBeGreaterThan(Number(entries[1]!.id));
    });

    it('keeps dead letters: dedupe, filters, replay exactly once, purge and counts', async () => {
      const a = await s.dlq.add({
        kind: 'event',
        source: 'clicks',
        payload: { n: 1, nested: ['x'] },
        error: 'bad',
        attempts: 1,
        dedupeKey: 'k',
      });
      const again = await s.dlq.add({
        kind: 'event',
        source: 'clicks',
        payload: { n: 2 },
        error: 'worse',
        attempts: 2,
        dedupeKey: 'k',
      });
      expect(again).toMatchObject({ id: a.id, attempts: 3, error: 'worse', payload: { n: 2 } });
      const b = await s.dlq.add({
        kind: 'notification',
        source: 'slack',
        payload: 'hi',
        error: 'x',
        attempts: 1,
      });
      expect((await s.dlq.list({ kind: 'event' })).map((e) => e.id)).toEqual([a.id]);
      expect(await s.dlq.list({ limit: 1 })).toHaveLength(1);

      let applied = 0;
      const replayed = await s.dlq.replay(a.id, { event: async () => void applied++ });
      expect(replayed.status).toBe('replayed');
      await expect(s.dlq.replay(a.id, { event: async () => void applied++ })).rejects.toThrow();
      expect(applied).toBe(1);
      await expect(
        s.dlq.replay(b.id, {
          notification: () => Promise.reject(new Error('still down')),
        }),
      ).rejects.toThrow('still down');
      expect(await s.dlq.get(b.id)).toMatchObject({ status: 'pending', attempts: 2 });
      expect(await s.dlq.counts()).toEqual({ pending: 1, replaying: 0, replayed: 1 });
      expect(await s.dlq.recoverStuck()).toBe(0);
      expect(await s.dlq.purge({ status: 'replayed' })).toBe(1);
      expect(await s.dlq.purge({ before: new Date(Date.now() + 60_000) })).toBe(1);
      expect(await s.dlq.list()).toEqual([]);
    });

    it('keeps sync runs: a retried run replaces its record, dry runs are not the latest', async () => {
      await s.syncs.record(syncRun({ status: 'failed', message: 'first try' }));
      await s.syncs.record(syncRun({}));
      await s.syncs.record(
        syncRun({
          runId: 'r2',
          startedAt: '2026-01-02T00:00:00.000Z',
          dryRun: true,
          fullResync: true,
        }),
      );
      const runs = await s.syncs.runs('crm');
      expect(runs.map((r) => [r.runId, r.status, r.dryRun, r.fullResync])).toEqual([
        ['r2', 'succeeded', true, true],
        ['r1', 'succeeded', false, false],
      ]);
      expect(runs[1]).toEqual(syncRun({}));
      expect(await s.syncs.runs('crm', 1)).toHaveLength(1);
      expect([...(await s.syncs.latest()).values()].map((r) => r.runId)).toEqual(['r1']);
    });

    it('keeps the serving pointer: unchanged versions send no record, an older publish never wins', async () => {
      const pointers = await ServingPointerStore.open(s.engine);
      expect(await pointers.read()).toBeUndefined();
      const v2 = { version: 'v2', publishedAt: '2026-01-02T00:00:00.000Z', snapshot: '{"n":2}' };
      expect(await pointers.write(v2)).toBe(true);
      expect(await pointers.read()).toEqual(v2);
      expect(await pointers.read('v2')).toBe('unchanged');
      const v1 = { version: 'v1', publishedAt: '2026-01-01T00:00:00.000Z', snapshot: '{}' };
      expect(await pointers.write(v1)).toBe(false);
      expect(await pointers.read('v1')).toEqual(v2);
      const v3 = { version: 'v3', publishedAt: '2026-01-03T00:00:00.000Z', snapshot: '{"n":3}' };
      expect(await pointers.write(v3)).toBe(true);
      expect(await pointers.read('v2')).toEqual(v3);
    });
  });
}
