/**
 * Versioned migrations of the state database: an old state file (made by the code path of the
 * release before versions) upgrades and keeps its data; versions apply in order, once, each in a
 * transaction; a failed one leaves nothing behind; a changed or unknown version is refused; and
 * on PostgreSQL several processes opening a fresh schema at once apply each version once.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDuckDB, type Engine } from '../../src/engines/index.js';
import { DeadLetterStore } from '../../src/notify/index.js';
import { SyncHistory } from '../../src/orchestrator/index.js';
import { TokenStore } from '../../src/serve/index.js';
import {
  StateStore,
  appliedMigrations,
  migrate,
  openStateEngine,
  type Migration,
  type StateLocation,
} from '../../src/state/index.js';
import { tempDir } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { openAsBeforeVersions } from './pre-versions.js';

const pgAvailable = await serviceAvailable('postgres', postgresTestUrl);
const RUN = `${Date.now().toString(36)}_${process.pid}`;
let serial = 0;
const pgLocation = (): StateLocation => ({
  store: 'postgres',
  url: postgresTestUrl,
  schema: `state_mig_${RUN}_${++serial}`,
});

/** Engines to close and PostgreSQL schemas to drop after each test. */
const cleanup: { engine: Engine; schema?: string }[] = [];
afterEach(async () => {
  for (const { engine, schema } of cleanup.splice(0).reverse()) {
    if (schema) await engine.dropSchema(schema);
    await engine.close();
  }
});

async function open(location: StateLocation, drop = true): Promise<Engine> {
  const engine = await openStateEngine(location);
  cleanup.push({
    engine,
    schema: drop && location.store === 'postgres' ? location.schema : undefined,
  });
  return engine;
}

async function openAllStores(engine: Engine) {
  const state = await StateStore.open(engine);
  const dlq = await DeadLetterStore.open(engine);
  const tokens = await TokenStore.open(engine);
  const syncs = await SyncHistory.open(engine);
  return { state, dlq, tokens, syncs };
}

describe('a state file from before versioned migrations', () => {
  it('upgrades on open, keeps its data, and records every store’s versions once', async () => {
    const path = join(tempDir('trib-state-old-'), 'state.duckdb');
    const old = await openDuckDB({ path });
    await openAsBeforeVersions(old);
    await old.exec(`INSERT INTO runs (run_id, command, status, started_at, finished_at, plan, trigger)
      VALUES ('run_old', 'run', 'succeeded', '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z', '["a"]', 'cli')`);
    await old.exec(
      `INSERT INTO asset_versions VALUES ('model:a', 'f-old', '2026-01-01T00:01:00Z')`,
    );
    await old.exec(`INSERT INTO schedule_ticks VALUES ('nightly', '2026-01-01T02:00:00Z', 'now')`);
    await old.exec(`INSERT INTO api_tokens (id, name, role, secret_hash, created_at, kind)
      VALUES ('aaaaaaaaaa', 'alice', 'viewer', 'x', '2026-01-01T00:00:00Z', 'user')`);
    await old.exec(`INSERT INTO audit_log (id, logged_at, method, path, summary, status, outcome)
      VALUES (nextval('audit_log_ids'), '2026-01-01T00:00:00Z', 'POST', '/api/runs', '{}', 202, 'succeeded')`);
    await old.exec(`INSERT INTO dead_letters VALUES ('dl_1', 'event', 'clicks', '{"n":1}', 'bad', 1,
      '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'pending', NULL, NULL)`);
    await old.close();

    const engine = await open({ store: 'duckdb', path });
    const { state, dlq, tokens } = await openAllStores(engine);
    expect(
      (await state.listRuns()).map((r) => [r.runId, r.plan, r.trigger, r.publishedAt]),
    ).toEqual([['run_old', ['a'], 'cli', null]]);
    expect(await state.getAssetVersion('model:a')).toBe('f-old');
    expect(await state.lastTick('nightly')).toBe('2026-01-01T02:00:00Z');
    expect((await tokens.list()).map((t) => t.name)).toEqual(['alice']);
    const id = await tokens.audit.start({
      tokenId: null,
      tokenName: null,
      role: null,
      credential: null,
      method: 'POST',
      path: '/api/session',
      summary: '',
    });
    expect((await tokens.audit.list()).map((e) => [e.id, e.path])).toEqual([
      [id, '/api/session'],
      ['1', '/api/runs'],
    ]);
    expect((await dlq.list()).map((d) => d.payload)).toEqual([{ n: 1 }]);
    const applied = await appliedMigrations(engine);
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
    // Opening again applies nothing.
    await openAllStores(engine);
    expect(await appliedMigrations(engine)).toEqual(applied);
  });
});

const CREATE_ONCE: Migration = {
  version: 1,
  name: 'create t (fails if run twice)',
  statements: [
    'CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT)',
    `INSERT INTO t VALUES (1, 'one')`,
  ],
};
const ADD_NOTE: Migration = {
  version: 2,
  name: 'more rows',
  statements: [`INSERT INTO t VALUES (2, 'two')`],
};

const BACKENDS: { name: string; skip: boolean; location: () => StateLocation }[] = [
  {
    name: 'DuckDB',
    skip: false,
    location: () => ({ store: 'duckdb', path: join(tempDir('trib-mig-'), 'state.duckdb') }),
  },
  { name: 'PostgreSQL', skip: !pgAvailable, location: pgLocation },
];

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip)(`migrations on ${backend.name}`, () => {
    it('apply in order, each once; a later version applies alone', async () => {
      const engine = await open(backend.location());
      expect(await migrate(engine, 'demo', [CREATE_ONCE])).toEqual([1]);
      expect(await migrate(engine, 'demo', [CREATE_ONCE])).toEqual([]);
      expect(await migrate(engine, 'demo', [CREATE_ONCE, ADD_NOTE])).toEqual([2]);
      const { rows } = await engine.query('SELECT id FROM t ORDER BY id');
      expect(rows.map((r) => Number(r.id))).toEqual([1, 2]);
      expect((await appliedMigrations(engine)).map((m) => [m.store, m.version, m.name])).toEqual([
        ['demo', 1, CREATE_ONCE.name],
        ['demo', 2, ADD_NOTE.name],
      ]);
    });

    it('roll a failed version back whole, leave it unrecorded, and apply it once fixed', async () => {
      const engine = await open(backend.location());
      const broken: Migration = {
        version: 1,
        name: 'broken',
        statements: [
          'CREATE TABLE t (id INTEGER)',
          'INSERT INTO t VALUES (1)',
          'SELECT * FROM missing',
        ],
      };
      await expect(migrate(engine, 'demo', [broken])).rejects.toThrow(/missing/);
      expect(await appliedMigrations(engine)).toEqual([]);
      expect(await engine.describe(undefined, 't')).toBeUndefined();
      expect(await migrate(engine, 'demo', [CREATE_ONCE])).toEqual([1]);
    });

    it('refuse a changed version and one newer than the code knows', async () => {
      const engine = await open(backend.location());
      await migrate(engine, 'demo', [CREATE_ONCE, ADD_NOTE]);
      const edited = { ...ADD_NOTE, statements: [`INSERT INTO t VALUES (3, 'three')`] };
      await expect(migrate(engine, 'demo', [CREATE_ONCE, edited])).rejects.toThrow(
        /demo migration 2 \(more rows\) differs/,
      );
      await expect(migrate(engine, 'demo', [CREATE_ONCE])).rejects.toThrow(
        /at version 2, newer than this Tributary knows \(1\)/,
      );
      // Folding whitespace: reformatting a migration is no change.
      const reformatted = { ...ADD_NOTE, statements: [`INSERT INTO t\n  VALUES (2, 'two')`] };
      expect(await migrate(engine, 'demo', [CREATE_ONCE, reformatted])).toEqual([]);
    });
  });
}

describe.skipIf(!pgAvailable)('PostgreSQL state opened by several processes at once', () => {
  it('applies each version once and none of them fails', async () => {
    const location = pgLocation();
    // Separate engines are separate pools: separate server sessions, as separate processes are.
    const engines = await Promise.all(Array.from({ length: 4 }, (_, i) => open(location, i === 0)));
    await Promise.all(
      engines.map(async (engine) => {
        await openAllStores(engine);
        await migrate(engine, 'demo', [CREATE_ONCE, ADD_NOTE]);
      }),
    );
    const applied = await appliedMigrations(engines[0]!);
    expect(applied.map((m) => `${m.store}:${m.version}`)).toEqual([
      'audit:1',
      'audit:2',
      'dead_letters:1',
      'demo:1',
      'demo:2',
      'state:1',
      'state:2',
      'sync_runs:1',
      'tokens:1',
      'tokens:2',
    ]);
    const { rows } = await engines[0]!.query('SELECT count(*) AS n FROM t');
    expect(Number(rows[0]!.n)).toBe(2);
  });
});
