/**
 * Leadership among processes sharing a PostgreSQL state (src/state/leader.ts) and the tick claim
 * that fences it (StateStore.claimTick): of two candidates on two connections exactly one leads;
 * when the leader's connection is killed (pg_terminate_backend, as PostgreSQL sees a process
 * die) the other takes over within a few seconds and the old leader steps down; two projects'
 * schemas never contend; on a DuckDB state the one process leads at once; of many claims of one
 * tick made at once, exactly one wins.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDuckDB, openPostgres, type Engine } from '../../src/engines/index.js';
import { Leadership, StateStore } from '../../src/state/index.js';
import { tempDir } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';

const available = await serviceAvailable('postgres', postgresTestUrl);
const CHECK_MS = 300;

/** Waits (real time) until `cond` holds; fails after `ms`. */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<number> {
  const started = Date.now();
  while (!cond()) {
    if (Date.now() - started > ms) throw new Error(`${what} never happened`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - started;
}

/**
 * The backend pids holding a role's leader lock, asked on a session of the state's schema (the
 * lock is keyed by its search_path, as the engine keys it).
 */
async function lockHolders(observer: Engine, role: string): Promise<number[]> {
  const { rows } = await observer.query(
    `WITH k AS (SELECT hashtextextended(current_setting('search_path') || '/' || $1, 0) AS id)
     SELECT l.pid FROM pg_locks l, k
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
       AND l.classid = ((k.id >> 32) & 4294967295)::oid AND l.objid = (k.id & 4294967295)::oid`,
    [`tributary.leader/${role}`],
  );
  return rows.map((r) => Number(r.pid));
}

describe.skipIf(!available)('leadership on a shared PostgreSQL state', () => {
  const schemas: string[] = [];
  const engines: Engine[] = [];
  const leaderships: Leadership[] = [];
  let admin: Engine;

  const newSchema = () => {
    const name = `leader_${Date.now().toString(36)}_${process.pid}_${schemas.length}`;
    schemas.push(name);
    return name;
  };

  /** A process's view of the state: its own pool on the schema. */
  async function stateEngine(schema: string): Promise<Engine> {
    const engine = await openPostgres({ url: postgresTestUrl, schema, poolSize: 4 });
    await engine.ensureSchema(schema);
    engines.push(engine);
    return engine;
  }

  async function candidate(engine: Engine, role: string, changes: boolean[] = []) {
    const leadership = await Leadership.open(engine, role, {
      checkEveryMs: CHECK_MS,
      onChange: (leading) => void changes.push(leading),
    });
    leaderships.push(leadership);
    await leadership.start();
    return leadership;
  }

  beforeEach(async () => {
    admin = await openPostgres({ url: postgresTestUrl });
  });

  afterEach(async () => {
    for (const l of leaderships.splice(0)) await l.stop();
    for (const e of engines.splice(0)) await e.close();
    for (const s of schemas.splice(0)) await admin.dropSchema(s);
    await admin.close();
  });

  it('lets exactly one of two candidates lead, and records which', async () => {
    const schema = newSchema();
    const a = await candidate(await stateEngine(schema), 'scheduler/p');
    const b = await candidate(await stateEngine(schema), 'scheduler/p');
    expect([a.leading, b.leading]).toEqual([true, false]);
    // Checks go round several times: nothing changes hands while the leader lives.
    await new Promise((r) => setTimeout(r, CHECK_MS * 4));
    expect([a.leading, b.leading]).toEqual([true, false]);
    expect(await lockHolders(engines[0]!, 'scheduler/p')).toHaveLength(1);
    const record = await Leadership.current(engines[0]!, 'scheduler/p');
    expect(record).toMatchObject({ role: 'scheduler/p', pid: process.pid, instance: a.instance });
  });

  it('passes leadership on within a few seconds when the leader’s connection dies, and the old leader steps down', async () => {
    const schema = newSchema();
    const aChanges: boolean[] = [];
    const bChanges: boolean[] = [];
    const a = await candidate(await stateEngine(schema), 'scheduler/p', aChanges);
    const b = await candidate(await stateEngine(schema), 'scheduler/p', bChanges);
    expect(a.leading).toBe(true);
    const [holder] = await lockHolders(engines[0]!, 'scheduler/p');
    expect(holder).toBeDefined();
    await admin.query('SELECT pg_terminate_backend($1)', [holder]);
    const failover = await until(() => bChanges.length > 0, 'b taking over', 5000);
    await until(() => aChanges.length > 1, 'a stepping down', 5000);
    expect(failover).toBeLessThan(3 * CHECK_MS + 1000);
    expect(aChanges).toEqual([true, false]);
    expect(bChanges).toEqual([true]);
    expect(await lockHolders(engines[0]!, 'scheduler/p')).toHaveLength(1);
    expect((await Leadership.current(engines[0]!, 'scheduler/p'))?.instance).toBe(b.instance);
    // The old leader is a candidate again, and leads when the new one stops.
    await b.stop();
    await until(() => aChanges.length > 2, 'a leading again', 5000);
    expect(aChanges).toEqual([true, false, true]);
  });

  it('releases the lock on stop, so the other candidate leads at its next try', async () => {
    const schema = newSchema();
    const a = await candidate(await stateEngine(schema), 'scheduler/p');
    const b = await candidate(await stateEngine(schema), 'scheduler/p');
    await a.stop();
    expect(a.leading).toBe(false);
    await until(() => b.leading, 'b taking over', 3000);
    expect(await lockHolders(engines[0]!, 'scheduler/p')).toHaveLength(1);
  });

  it('keys the lock by schema and role: two projects on one server each have a leader', async () => {
    const one = newSchema();
    const two = newSchema();
    const a = await candidate(await stateEngine(one), 'scheduler/p');
    const b = await candidate(await stateEngine(two), 'scheduler/p');
    const c = await candidate(await stateEngine(one), 'scheduler/q');
    expect([a.leading, b.leading, c.leading]).toEqual([true, true, true]);
  });

  it('claims a tick once, however many stores claim it at once', async () => {
    const schema = newSchema();
    const stores = await Promise.all(
      [0, 1, 2, 3].map(async () => StateStore.open(await stateEngine(schema))),
    );
    await stores[0]!.beginTicks('s', '2024-01-01T00:00:00.000Z');
    // A later begin does not move a begun schedule.
    expect(await stores[1]!.beginTicks('s', '2025-01-01T00:00:00.000Z')).toBe(
      '2024-01-01T00:00:00.000Z',
    );
    for (let second = 1; second <= 20; second++) {
      const tick = new Date(Date.UTC(2024, 0, 1, 0, 0, second)).toISOString();
      const won = await Promise.all(stores.map((s) => s.claimTick('s', tick)));
      expect(won.filter(Boolean)).toHaveLength(1);
    }
    // An earlier tick than the last handled one is never claimed again.
    expect(await stores[2]!.claimTick('s', '2024-01-01T00:00:05.000Z')).toBe(false);
    expect(await stores[3]!.lastTick('s')).toBe('2024-01-01T00:00:20.000Z');
  });
});

describe('leadership on a DuckDB state', () => {
  it('leads at once: the file is one process’s', async () => {
    const engine = await openDuckDB({ path: join(tempDir('trib-leader-'), 'state.duckdb') });
    const changes: boolean[] = [];
    try {
      const leadership = await Leadership.open(engine, 'scheduler/p', {
        onChange: (leading) => void changes.push(leading),
      });
      await leadership.start();
      expect(leadership.leading).toBe(true);
      expect((await Leadership.current(engine, 'scheduler/p'))?.pid).toBe(process.pid);
      await leadership.stop();
      expect(changes).toEqual([true, false]);
    } finally {
      await engine.close();
    }
  });
});
