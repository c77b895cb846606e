/**
 * The sync's diff and runner over both warehouses (DuckDB in memory; PostgreSQL in a throwaway
 * database): new / changed / gone / unchanged keys by mode, full resync, mapping transforms,
 * dry runs, partial rejections into dead letters, batch sizes, an interrupted batch's recovery,
 * and the abort signal. The destination is the in-memory double of the seam (support.ts), so each
 * test sees exactly what was sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeadLetterStore } from '../../src/notify/index.js';
import { runSync } from '../../src/sync/runner.js';
import { stateExists, syncTables } from '../../src/sync/state.js';
import type { SyncDefinition, SyncRunInput } from '../../src/sync/types.js';
import { restoreFaultAfterEach } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import {
  MemoryDestination,
  freshPostgresDatabase,
  openWarehouse,
  syncDefinition,
  type Warehouse,
} from './support.js';

const pgAvailable = await serviceAvailable('postgres', postgresTestUrl);

restoreFaultAfterEach();

for (const kind of ['duckdb', 'postgres'] as const) {
  describe.skipIf(kind === 'postgres' && !pgAvailable)(`sync diff and runner on ${kind}`, () => {
    let wh: Warehouse;
    let drop: (() => Promise<void>) | undefined;
    let table = 0;

    beforeAll(async () => {
      if (kind === 'postgres') {
        const db = await freshPostgresDatabase('syncdiff');
        drop = db.drop;
        wh = await openWarehouse('postgres', db.url);
      } else wh = await openWarehouse('duckdb');
    });
    afterAll(async () => {
      await wh?.close();
      await drop?.();
    });

    /** A fresh source table of (email, name, plan, spend, signup) rows; returns its name. */
    async function source(rows: [string | null, string, string, number, string][]) {
      const name = `customers_${++table}`;
      const d = wh.engine.dialect;
      await wh.engine.exec(
        `CREATE TABLE ${name} (email ${d.typeName('string')}, name ${d.typeName('string')},
          plan ${d.typeName('string')}, spend ${d.typeName('double')}, signup ${d.typeName('date')})`,
      );
      for (const r of rows)
        await wh.engine.query(
          `INSERT INTO ${name} VALUES ($1, $2, $3, CAST($4 AS ${d.typeName('double')}), CAST($5 AS ${d.typeName('date')}))`,
          r,
        );
      return name;
    }

    function input(
      def: SyncDefinition,
      dest: MemoryDestination,
      src: string,
      extra: Partial<SyncRunInput> = {},
    ): SyncRunInput {
      return {
        definition: def,
        warehouse: wh.engine,
        state: wh.state,
        destination: dest,
        sourceRelation: `SELECT * FROM ${src}`,
        runId: 'run_test',
        dryRun: false,
        fullResync: false,
        // One batch at a time, so tests can name the order of writes (one test runs several).
        concurrency: 1,
        ...extra,
      };
    }

    const base: [string, string, string, number, string][] = [
      ['a@x.io', 'Ann', 'free', 10, '2024-01-02'],
      ['b@x.io', 'Bob', 'pro', 20, '2024-02-03'],
      ['c@x.io', 'Cid', 'free', 30, '2024-03-04'],
    ];

    it('upsert: first run inserts all, an unchanged re-run sends nothing, then new/changed only', async () => {
      const src = await source(base);
      const def = syncDefinition();
      const dest = new MemoryDestination();
      const first = await runSync(input(def, dest, src));
      expect(first).toMatchObject({
        inserted: 3,
        updated: 0,
        deleted: 0,
        rejected: 0,
        unchanged: 0,
      });
      expect(dest.records.get('a@x.io')).toEqual({ name: 'Ann', plan: 'free' });
      const again = await runSync(input(def, dest, src));
      expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: 3 });
      expect(dest.writes).toHaveLength(1);

      await wh.engine.exec(`UPDATE ${src} SET plan = 'pro' WHERE email = 'a@x.io'`);
      await wh.engine.exec(`DELETE FROM ${src} WHERE email = 'c@x.io'`);
      await wh.engine.exec(
        `INSERT INTO ${src} (email, name, plan) VALUES ('d@x.io', 'Dee', 'free')`,
      );
      const third = await runSync(input(def, dest, src));
      expect(third).toMatchObject({ inserted: 1, updated: 1, deleted: 0, unchanged: 1 });
      expect(dest.writes.slice(1)).toEqual([
        { operation: 'upsert', keys: ['d@x.io'] },
        { operation: 'upsert', keys: ['a@x.io'] },
      ]);
      // Upsert never deletes: c stays in the destination.
      expect(dest.records.has('c@x.io')).toBe(true);
    });

    it('mirror deletes keys that left the source; insert sends new keys only; update sends new and changed as updates', async () => {
      const src = await source(base);
      const mirror = syncDefinition({ mode: 'mirror' });
      const insert = syncDefinition({ mode: 'insert' });
      const update = syncDefinition({ mode: 'update' });
      const mDest = new MemoryDestination();
      const iDest = new MemoryDestination();
      const uDest = new MemoryDestination();
      await runSync(input(mirror, mDest, src));
      await runSync(input(insert, iDest, src));
      // update mode: the destination knows a and b only; c is refused (not found).
      uDest.records.set('a@x.io', {}).set('b@x.io', {});
      const u1 = await runSync(input(update, uDest, src));
      expect(u1).toMatchObject({ inserted: 0, updated: 2, rejected: 1 });
      expect(u1.failedShare).toBeCloseTo(1 / 3);

      await wh.engine.exec(`UPDATE ${src} SET name = 'Bobby' WHERE email = 'b@x.io'`);
      await wh.engine.exec(`DELETE FROM ${src} WHERE email = 'c@x.io'`);
      await wh.engine.exec(
        `INSERT INTO ${src} (email, name, plan) VALUES ('e@x.io', 'Eve', 'pro')`,
      );

      const m = await runSync(input(mirror, mDest, src));
      expect(m).toMatchObject({ inserted: 1, updated: 1, deleted: 1, unchanged: 1 });
      expect([...mDest.records.keys()].sort()).toEqual(['a@x.io', 'b@x.io', 'e@x.io']);
      expect(mDest.writes.at(-1)).toEqual({ operation: 'delete', keys: ['c@x.io'] });

      const i = await runSync(input(insert, iDest, src));
      expect(i).toMatchObject({ inserted: 1, updated: 0, deleted: 0, unchanged: 2 });
      expect(iDest.writes.at(-1)).toEqual({ operation: 'insert', keys: ['e@x.io'] });
      expect(iDest.records.get('b@x.io')).toEqual({ name: 'Bob', plan: 'pro' });

      const u = await runSync(input(update, uDest, src));
      // b changed; e is new (refused: not found); c left (update never deletes).
      expect(u).toMatchObject({ updated: 1, rejected: 1, deleted: 0 });
      expect(uDest.writes.at(-1)!.operation).toBe('update');
    });

    it('a full resync sends every source row again; mirror still deletes what left', async () => {
      const src = await source(base);
      const def = syncDefinition({ mode: 'mirror' });
      const dest = new MemoryDestination();
      await runSync(input(def, dest, src));
      await wh.engine.exec(`DELETE FROM ${src} WHERE email = 'a@x.io'`);
      const full = await runSync(input(def, dest, src, { fullResync: true }));
      expect(full).toMatchObject({ inserted: 0, updated: 2, deleted: 1, unchanged: 0 });
      // insert mode's full resync looks keys up and inserts only the missing ones.
      const ins = syncDefinition({ mode: 'insert' });
      const iDest = new MemoryDestination();
      iDest.records.set('b@x.io', { name: 'old' });
      const r = await runSync(input(ins, iDest, src, { fullResync: true }));
      expect(r).toMatchObject({ inserted: 2, rejected: 0 });
      expect(iDest.writes).toEqual([{ operation: 'insert', keys: ['c@x.io'] }]);
      expect(iDest.records.get('b@x.io')).toEqual({ name: 'old' });
    });

    it('maps fields with casts, transforms and constants; a changed constant re-sends all', async () => {
      const src = await source([
        ['A@X.io', '  Ann ', 'free', 10.5, '2024-01-02'],
        ['b@x.io', 'Bob', 'PRO', 20, '2024-02-03'],
      ]);
      const fields: SyncDefinition['fields'] = [
        { source: 'name', destination: 'name', transform: ['trim', 'upper'], line: 1 },
        { source: 'plan', destination: 'plan', transform: 'lower', line: 2 },
        { source: 'spend', destination: 'spend', cast: 'string', line: 3 },
        { source: 'spend', destination: 'ltv', cast: 'number', line: 4 },
        { source: 'signup', destination: 'since', cast: 'date', line: 5 },
        { source: 'email', destination: 'email_lower', transform: 'lower', line: 6 },
        { destination: 'lifecycle', constant: 'customer', line: 7 },
      ];
      const def = syncDefinition({ fields });
      const dest = new MemoryDestination();
      await runSync(input(def, dest, src));
      expect(dest.records.get('A@X.io')).toEqual({
        name: 'ANN',
        plan: 'free',
        spend: '10.5',
        ltv: 10.5,
        since: '2024-01-02',
        email_lower: 'a@x.io',
        lifecycle: 'customer',
      });
      expect(dest.records.get('b@x.io')).toMatchObject({ plan: 'pro', ltv: 20 });
      const changed = {
        ...def,
        fields: [...fields.slice(0, 6), { destination: 'lifecycle', constant: 'lead', line: 7 }],
      };
      const r = await runSync(input(changed, dest, src));
      expect(r).toMatchObject({ updated: 2, unchanged: 0 });
      expect(dest.records.get('b@x.io')!.lifecycle).toBe('lead');
    });

    it('a dry run counts and samples what it would send, and sends and writes nothing', async () => {
      const src = await source(base);
      const def = syncDefinition({ mode: 'mirror' });
      const dest = new MemoryDestination();
      const dry = await runSync(input(def, dest, src, { dryRun: true }));
      expect(dry).toMatchObject({ inserted: 3, updated: 0, deleted: 0, unchanged: 0 });
      expect(dry.samples!.insert.map((r) => r.key)).toEqual(['a@x.io', 'b@x.io', 'c@x.io']);
      expect(dest.writes).toEqual([]);
      expect(await stateExists(wh.engine, syncTables(wh.engine, def.name))).toBe(false);

      await runSync(input(def, dest, src));
      await wh.engine.exec(`UPDATE ${src} SET plan = 'x' WHERE email <> 'b@x.io'`);
      await wh.engine.exec(`DELETE FROM ${src} WHERE email = 'b@x.io'`);
      const writes = dest.writes.length;
      const dry2 = await runSync(input(def, dest, src, { dryRun: true }));
      expect(dry2).toMatchObject({ inserted: 0, updated: 2, deleted: 1, unchanged: 0 });
      expect(dry2.samples!.update[0]).toEqual({
        key: 'a@x.io',
        fields: { name: 'Ann', plan: 'x' },
      });
      expect(dry2.samples!.delete).toEqual([{ key: 'b@x.io', fields: {} }]);
      expect(dest.writes.length).toBe(writes);
      // Nothing was recorded: the real run still sends the same.
      expect(await runSync(input(def, dest, src))).toMatchObject({ updated: 2, deleted: 1 });
    });

    it('rejected records become one dead letter each, keep their old state and are retried next run', async () => {
      const src = await source(base);
      const def = syncDefinition();
      const dest = new MemoryDestination();
      dest.refuse = (r) =>
        r.key === 'b@x.io' ? 'VALIDATION_ERROR: plan is not allowed' : undefined;
      const dlq = await DeadLetterStore.open(wh.state.engine);
      const r1 = await runSync(input(def, dest, src, { deadLetters: dlq }));
      expect(r1).toMatchObject({ inserted: 2, rejected: 1 });
      expect(r1.failedShare).toBeCloseTo(1 / 3);
      const r2 = await runSync(input(def, dest, src, { deadLetters: dlq }));
      expect(r2).toMatchObject({ inserted: 0, rejected: 1, unchanged: 2 });
      const letters = await dlq.list({ source: `sync:${def.name}` });
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({ kind: 'record', attempts: 2 });
      expect(letters[0]!.error).toContain('plan is not allowed');
      expect(letters[0]!.payload).toMatchObject({
        sync: def.name,
        operation: 'upsert',
        record: { key: 'b@x.io', fields: { name: 'Bob', plan: 'pro' } },
      });
      dest.refuse = () => undefined;
      expect(await runSync(input(def, dest, src, { deadLetters: dlq }))).toMatchObject({
        inserted: 1,
        rejected: 0,
      });
    });

    it('sends batches of the smaller of the sync batch size and the destination maxBatch', async () => {
      const rows = Array.from({ length: 23 }, (_, i): [string, string, string, number, string] => [
        `u${String(i).padStart(2, '0')}@x.io`,
        `n${i}`,
        'free',
        i,
        '2024-01-01',
      ]);
      const src = await source(rows);
      const dest = new MemoryDestination(10);
      await runSync(input(syncDefinition({ batchSize: 4 }), dest, src));
      expect(dest.writes.map((w) => w.keys.length)).toEqual([4, 4, 4, 4, 4, 3]);
      const dest2 = new MemoryDestination(10);
      await runSync(input(syncDefinition({ batchSize: 50 }), dest2, src));
      expect(dest2.writes.map((w) => w.keys.length)).toEqual([10, 10, 3]);
    });

    it('with several batches in flight, sends each key once and records every accepted one', async () => {
      const rows = Array.from({ length: 57 }, (_, i): [string, string, string, number, string] => [
        `k${String(i).padStart(2, '0')}@x.io`,
        `n${i}`,
        i % 7 === 0 ? 'bad' : 'free',
        i,
        '2024-01-01',
      ]);
      const src = await source(rows);
      const dest = new MemoryDestination(5);
      dest.refuse = (r) => (r.fields.plan === 'bad' ? 'plan bad' : undefined);
      const def = syncDefinition({ mode: 'mirror' });
      const r = await runSync(input(def, dest, src, { concurrency: 4 }));
      expect(r).toMatchObject({ inserted: 48, rejected: 9 });
      const sent = dest.writes.flatMap((w) => w.keys);
      expect(sent).toHaveLength(57);
      expect(new Set(sent).size).toBe(57);
      expect(dest.records.size).toBe(48);
      await wh.engine.exec(`UPDATE ${src} SET plan = 'free'`);
      expect(await runSync(input(def, dest, src, { concurrency: 4 }))).toMatchObject({
        inserted: 9,
        updated: 0,
        unchanged: 48,
      });
    });

    it('resolves a batch left in flight: insert mode looks it up instead of inserting twice', async () => {
      const src = await source(base);
      const def = syncDefinition({ mode: 'insert', batchSize: 2 });
      const dest = new MemoryDestination();
      process.env.TRIBUTARY_FAULT = `sync-sent:${def.name}`;
      await expect(runSync(input(def, dest, src))).rejects.toThrow(/fault injected/);
      delete process.env.TRIBUTARY_FAULT;
      expect(dest.writes).toEqual([{ operation: 'insert', keys: ['a@x.io', 'b@x.io'] }]);
      const r = await runSync(input(def, dest, src));
      expect(r.message).toContain('resolved 2 records left in flight');
      expect(r).toMatchObject({ inserted: 1, rejected: 0, unchanged: 2 });
      expect(dest.writes.at(-1)).toEqual({ operation: 'insert', keys: ['c@x.io'] });

      // upsert: the interrupted batch is sent again (idempotent), even if the source went back.
      const up = syncDefinition({ batchSize: 5 });
      const uDest = new MemoryDestination();
      await runSync(input(up, uDest, src));
      await wh.engine.exec(`UPDATE ${src} SET plan = 'gold' WHERE email = 'a@x.io'`);
      process.env.TRIBUTARY_FAULT = `sync-sent:${up.name}`;
      await expect(runSync(input(up, uDest, src))).rejects.toThrow(/fault injected/);
      delete process.env.TRIBUTARY_FAULT;
      await wh.engine.exec(`UPDATE ${src} SET plan = 'free' WHERE email = 'a@x.io'`);
      const r2 = await runSync(input(up, uDest, src));
      expect(r2).toMatchObject({ updated: 1 });
      expect(uDest.records.get('a@x.io')).toEqual({ name: 'Ann', plan: 'free' });
    });

    it('resolves an interrupted mirror batch by lookup: a new key that arrived is deleted once it leaves', async () => {
      const src = await source(base);
      const def = syncDefinition({ mode: 'mirror', batchSize: 5 });
      const dest = new MemoryDestination();
      // The batch reaches the destination, the process dies before recording it.
      process.env.TRIBUTARY_FAULT = `sync-sent:${def.name}`;
      await expect(runSync(input(def, dest, src))).rejects.toThrow(/fault injected/);
      delete process.env.TRIBUTARY_FAULT;
      expect([...dest.records.keys()].sort()).toEqual(['a@x.io', 'b@x.io', 'c@x.io']);
      // b leaves the source before the re-run; c is removed in the destination meanwhile.
      await wh.engine.exec(`DELETE FROM ${src} WHERE email = 'b@x.io'`);
      dest.records.delete('c@x.io');
      const r = await runSync(input(def, dest, src));
      expect(r.message).toContain('resolved 3 records left in flight');
      expect(r).toMatchObject({ deleted: 1, rejected: 0 });
      expect([...dest.records.keys()].sort()).toEqual(['a@x.io', 'c@x.io']);
      const { rows } = await wh.engine.query(
        `SELECT key FROM tributary_sync.${def.name}__state ORDER BY key`,
      );
      expect(rows.map((row) => row.key)).toEqual(['a@x.io', 'c@x.io']);
    });

    it('does not send keys found on several source rows, nor rows without a key, and says so', async () => {
      const src = await source([
        ...base,
        ['a@x.io', 'Ann again', 'pro', 1, '2024-01-01'],
        [null, 'Nobody', 'free', 0, '2024-01-01'],
      ]);
      const dest = new MemoryDestination();
      const r = await runSync(input(syncDefinition(), dest, src));
      expect(r).toMatchObject({ inserted: 2, rejected: 0 });
      expect(r.message).toContain(
        '1 keys appear on more than one source row and were not sent (a@x.io)',
      );
      expect([...dest.records.keys()].sort()).toEqual(['b@x.io', 'c@x.io']);
    });

    it('stops between batches when the signal aborts, with what was sent recorded', async () => {
      const src = await source(base);
      const def = syncDefinition({ batchSize: 1 });
      const dest = new MemoryDestination();
      const controller = new AbortController();
      const origWrite = dest.write.bind(dest);
      dest.write = async (b) => {
        const r = await origWrite(b);
        controller.abort(new Error('stopped'));
        return r;
      };
      await expect(runSync(input(def, dest, src, { signal: controller.signal }))).rejects.toThrow(
        /stopped/,
      );
      expect(dest.writes).toHaveLength(1);
      const rest = await runSync(input(def, new MemoryDestination(), src));
      expect(rest).toMatchObject({ inserted: 2, unchanged: 1 });
    });
  });
}
