/**
 * The PostgreSQL destination against a real PostgreSQL (a throwaway database per run): describe
 * from information_schema, upsert / update / insert / delete, per-record rejection (NOT NULL,
 * CHECK, a value that does not fit its type, a duplicate on insert, a missing row on update)
 * that keeps the batch's good rows, lookup, idempotent re-sends, and a whole sync into it.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDestination } from '../../src/sync/destinations/postgres.js';
import { runSync } from '../../src/sync/runner.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { freshPostgresDatabase, openWarehouse, syncDefinition } from './support.js';

const available = await serviceAvailable('postgres', postgresTestUrl);

describe.skipIf(!available)('postgres destination', () => {
  let url: string;
  let drop: () => Promise<void>;
  let client: pg.Client;
  let dest: PostgresDestination;

  beforeAll(async () => {
    const db = await freshPostgresDatabase('syncdest');
    url = db.url;
    drop = db.drop;
    client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`CREATE SCHEMA crm`);
    await client.query(`CREATE TABLE crm.contacts (
      id integer GENERATED ALWAYS AS IDENTITY,
      email text PRIMARY KEY,
      name text NOT NULL,
      plan varchar(10) CHECK (plan IN ('free', 'pro', 'gold')),
      ltv numeric(12, 2),
      since date,
      vip boolean DEFAULT false)`);
    dest = new PostgresDestination({ url, schema: 'crm' });
  });
  afterAll(async () => {
    await dest?.close();
    await client?.end();
    await drop?.();
  });

  const rows = async () =>
    (
      await client.query(
        `SELECT email, name, plan, ltv::text AS ltv, since::text AS since, vip FROM crm.contacts ORDER BY email`,
      )
    ).rows;

  it('describes the table from information_schema', async () => {
    const fields = await dest.describe('contacts');
    expect(fields.map((f) => [f.name, f.type, f.unique, f.readOnly])).toEqual([
      ['id', 'integer', false, true],
      ['email', 'text', true, false],
      ['name', 'text', false, false],
      ['plan', 'character varying(10)', false, false],
      ['ltv', 'numeric(12,2)', false, false],
      ['since', 'date', false, false],
      ['vip', 'boolean', false, false],
    ]);
    await expect(dest.describe('nope')).rejects.toThrow(/crm\.nope does not exist/);
  });

  it('upserts, updates and deletes, per record, keeping good rows when some are refused', async () => {
    const up = await dest.write({
      object: 'contacts',
      operation: 'upsert',
      matchField: 'email',
      records: [
        { key: 'a@x.io', fields: { name: 'Ann', plan: 'free', ltv: 10.5, since: '2024-01-02' } },
        { key: 'b@x.io', fields: { name: null, plan: 'pro' } },
        { key: 'c@x.io', fields: { name: 'Cid', plan: 'platinum' } },
        { key: 'd@x.io', fields: { name: 'Dee', ltv: 'lots' } },
        { key: 'e@x.io', fields: { name: 'Eve', vip: true } },
      ],
    });
    expect(up.map((r) => [r.key, r.status, r.status === 'rejected' ? r.code : ''])).toEqual([
      ['a@x.io', 'ok', ''],
      ['b@x.io', 'rejected', '23502'],
      ['c@x.io', 'rejected', '23514'],
      ['d@x.io', 'rejected', '22P02'],
      ['e@x.io', 'ok', ''],
    ]);
    expect(up[1]).toMatchObject({ message: expect.stringContaining('"name"') });
    expect(await rows()).toEqual([
      // A field a record lacks is written as NULL (the batch writes the union of its fields).
      { email: 'a@x.io', name: 'Ann', plan: 'free', ltv: '10.50', since: '2024-01-02', vip: null },
      { email: 'e@x.io', name: 'Eve', plan: null, ltv: null, since: null, vip: true },
    ]);

    // The same upsert again changes nothing (idempotent re-send); a changed value updates.
    const again = await dest.write({
      object: 'contacts',
      operation: 'upsert',
      matchField: 'email',
      records: [
        { key: 'a@x.io', fields: { name: 'Ann', plan: 'gold', ltv: 10.5, since: '2024-01-02' } },
      ],
    });
    expect(again).toEqual([{ status: 'ok', key: 'a@x.io', destinationId: 'a@x.io' }]);

    const upd = await dest.write({
      object: 'contacts',
      operation: 'update',
      matchField: 'email',
      records: [
        { key: 'e@x.io', fields: { plan: 'pro' } },
        { key: 'zz@x.io', fields: { plan: 'pro' } },
      ],
    });
    expect(upd[0]).toMatchObject({ status: 'ok' });
    expect(upd[1]).toMatchObject({ status: 'rejected', code: 'OBJECT_NOT_FOUND' });

    const ins = await dest.write({
      object: 'contacts',
      operation: 'insert',
      matchField: 'email',
      records: [
        { key: 'a@x.io', fields: { name: 'Dup' } },
        { key: 'f@x.io', fields: { name: 'Fay' } },
      ],
    });
    expect(ins.map((r) => r.status)).toEqual(['rejected', 'ok']);
    expect(ins[0]).toMatchObject({ code: '23505' });

    expect(await dest.lookup('contacts', 'email', ['a@x.io', 'b@x.io', 'f@x.io'])).toEqual(
      new Map([
        ['a@x.io', 'a@x.io'],
        ['f@x.io', 'f@x.io'],
      ]),
    );

    const del = await dest.write({
      object: 'contacts',
      operation: 'delete',
      matchField: 'email',
      records: [
        { key: 'f@x.io', fields: {} },
        { key: 'gone@x.io', fields: {} },
      ],
    });
    expect(del.map((r) => r.status)).toEqual(['ok', 'ok']);
    expect((await rows()).map((r) => [r.email, r.plan])).toEqual([
      ['a@x.io', 'gold'],
      ['e@x.io', 'pro'],
    ]);
  });

  it('refuses a batch naming a column the table lacks, as a whole', async () => {
    await expect(
      dest.write({
        object: 'contacts',
        operation: 'upsert',
        matchField: 'email',
        records: [{ key: 'x@x.io', fields: { name: 'X', phone: '1' } }],
      }),
    ).rejects.toThrow(/has no column phone/);
  });

  it('takes a whole sync from a DuckDB warehouse, with a refused row in dead letters', async () => {
    await client.query(
      `CREATE TABLE crm.people (email text PRIMARY KEY, name text NOT NULL, plan text)`,
    );
    const wh = await openWarehouse('duckdb');
    try {
      await wh.engine.exec(`CREATE TABLE customers AS SELECT * FROM (VALUES
        ('a@x.io', 'Ann', 'free'), ('b@x.io', NULL, 'pro'), ('c@x.io', 'Cid', 'gold')) t(email, name, plan)`);
      const def = syncDefinition({ object: 'people', mode: 'mirror' });
      const run = (fullResync = false) =>
        runSync({
          definition: def,
          warehouse: wh.engine,
          state: wh.state,
          destination: dest,
          sourceRelation: 'customers',
          runId: 'r1',
          dryRun: false,
          fullResync,
        });
      expect(await run()).toMatchObject({ inserted: 2, rejected: 1 });
      await wh.engine.exec(`DELETE FROM customers WHERE email = 'c@x.io'`);
      await wh.engine.exec(`UPDATE customers SET name = 'Bob' WHERE email = 'b@x.io'`);
      expect(await run()).toMatchObject({ inserted: 1, deleted: 1, rejected: 0, unchanged: 1 });
      const { rows: people } = await client.query(
        `SELECT email, name FROM crm.people ORDER BY email`,
      );
      expect(people).toEqual([
        { email: 'a@x.io', name: 'Ann' },
        { email: 'b@x.io', name: 'Bob' },
      ]);
    } finally {
      await wh.close();
    }
  });
});
