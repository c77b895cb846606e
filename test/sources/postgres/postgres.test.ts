/**
 * The PostgreSQL connector against a real PostgreSQL: the shared database cases, then what is
 * PostgreSQL's own — every mapped type's text form, refused types, and parallel extraction over
 * one exported snapshot.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/core/index.js';
import type { DatabaseBatch } from '../../../src/sources/index.js';
import { postgresTestUrl, serviceAvailable } from '../../services.js';
import {
  describeDatabaseSource,
  lakeFor,
  tableFor,
  uniqueTable,
  type TestDb,
} from '../database-cases.js';

const available = await serviceAvailable('postgres', postgresTestUrl);
const namespace = uniqueTable('src_pg');

async function withClient<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresTestUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const db: TestDb = {
  kind: 'postgres',
  url: postgresTestUrl,
  namespace,
  setup: () => withClient(async (c) => void (await c.query(`CREATE SCHEMA ${namespace}`))),
  teardown: () =>
    withClient(async (c) => void (await c.query(`DROP SCHEMA IF EXISTS ${namespace} CASCADE`))),
  exec: (sql) => withClient(async (c) => void (await c.query(sql))),
  fill: (table, n) =>
    `INSERT INTO ${namespace}.${table} SELECT g, repeat('x', 100) FROM generate_series(1, ${n}) g`,
  killExtract: (table) =>
    withClient(async (c) => {
      for (let i = 0; i < 500; i++) {
        const { rows } = await c.query<{ ok: boolean }>(
          `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
            WHERE application_name = 'tributary-extract' AND query LIKE 'COPY%' AND query LIKE $1`,
          [`%${table}%`],
        );
        if (rows.some((r) => r.ok)) return true;
        await new Promise((r) => setTimeout(r, 10));
      }
      return false;
    }),
};

describe.skipIf(!available)('postgres', () => {
  describeDatabaseSource(db, () => {
    describe('postgres type mapping', () => {
      it('extracts every mapped type as its documented text', async () => {
        const name = uniqueTable('types');
        await db.exec(`CREATE TYPE ${namespace}.${name}_mood AS ENUM ('sad', 'happy')`);
        await db.exec(`CREATE DOMAIN ${namespace}.${name}_pos AS int4 CHECK (VALUE > 0)`);
        await db.exec(`CREATE TABLE ${namespace}.${name} (
        id int4, i2 int2, i8 int8, f4 float4, f8 float8, num numeric(20,6), cash money,
        t text, vc varchar(10), ch char(3), u uuid, b bool, d date, tm time, ttz timetz,
        ts timestamp, tstz timestamptz, iv interval, j json, jb jsonb, by bytea, ip inet,
        net cidr, mac macaddr, bits bit(4), arr int4[], tarr text[], tsarr timestamptz[],
        mood ${namespace}.${name}_mood, dom ${namespace}.${name}_pos, x xml, empty_text text, null_text text)`);
        await db.exec(`INSERT INTO ${namespace}.${name} VALUES (
        1, -2, 9007199254740993, 1.5, 0.1, 12345678901234.123456, 12.34,
        E'a,"b"\\nc', 'v', 'ab', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', true, '2024-02-29',
        '13:45:06.5', '13:45:06+02', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05+02',
        '1 day 2 hours', '{"a": [1, 2]}', '{"b": 1, "a": 2}', '\\xdeadbeef', '192.168.0.1',
        '10.0.0.0/8', '08:00:2b:01:02:03', B'1010', '{1,NULL,3}', '{"x y",NULL}',
        '{"2024-01-02 03:04:05+02"}', 'happy', 7, '<a/>', '', NULL)`);
        const lake = lakeFor(tableFor(db, name));
        await lake.land();
        const [row] = await lake.rows();
        expect(row).toEqual({
          id: '1',
          i2: '-2',
          i8: '9007199254740993',
          f4: '1.5',
          f8: '0.1',
          num: '12345678901234.123456',
          cash: '12.34',
          t: 'a,"b"\nc',
          vc: 'v',
          ch: 'ab ',
          u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
          b: 'true',
          d: '2024-02-29',
          tm: '13:45:06.5',
          ttz: '13:45:06+02',
          ts: '2024-01-02 03:04:05.123456',
          tstz: '2024-01-02 01:04:05+00',
          iv: 'P1DT2H',
          j: '{"a": [1, 2]}',
          jb: '{"a": 2, "b": 1}',
          by: 'deadbeef',
          ip: '192.168.0.1',
          net: '10.0.0.0/8',
          mac: '08:00:2b:01:02:03',
          bits: '1010',
          arr: '[1,null,3]',
          tarr: '["x y",null]',
          tsarr: '["2024-01-02T01:04:05+00:00"]',
          mood: 'happy',
          dom: '7',
          x: '<a/>',
          empty_text: '',
          null_text: '',
        });
        // NULL and the empty string stay apart in the raw CSV: an empty field vs `""`.
        expect((await lake.texts())[0]!.trimEnd().endsWith(',"",')).toBe(true);
      });

      it('refuses a column whose type has no documented text form, naming table and column', async () => {
        const name = uniqueTable('geo');
        await db.exec(`CREATE TABLE ${namespace}.${name} (id int, spot point)`);
        const err = await lakeFor(tableFor(db, name))
          .land()
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TributaryError);
        expect((err as TributaryError).message).toBe(
          `column spot of ${namespace}.${name} has type point, which has no documented text form for extraction`,
        );
        expect((err as TributaryError).hint).toMatch(/columns:/);
      });

      it('extracts the other columns when the refused one is left out', async () => {
        const name = uniqueTable('geo');
        await db.exec(`CREATE TABLE ${namespace}.${name} (id int, spot point)`);
        await db.exec(`INSERT INTO ${namespace}.${name} VALUES (1, '(1,2)')`);
        const lake = lakeFor(tableFor(db, name, { columns: ['id'] }));
        await lake.land();
        expect(await lake.rows()).toEqual([{ id: '1' }]);
      });

      it('resolves an unqualified table in the source schema', async () => {
        const name = uniqueTable('plain');
        await db.exec(`CREATE TABLE ${namespace}.${name} (id int)`);
        await db.exec(`INSERT INTO ${namespace}.${name} VALUES (1)`);
        const table = tableFor(db, name, { table: name });
        table.sourceConfig = { ...table.sourceConfig, schema: namespace };
        const lake = lakeFor(table);
        await lake.land();
        expect(await lake.rows()).toEqual([{ id: '1' }]);
      });
    });

    describe('postgres full extracts of an unchanged table', () => {
      it('land the same bytes (so nothing) after another scan of the table stopped midway', async () => {
        // PostgreSQL starts a sequential scan of a table larger than a quarter of shared_buffers
        // where the last one left off (synchronized scans): a scan that stopped early would make
        // the next full extract start mid-table, so the same rows would land again as new bytes.
        const name = uniqueTable('sync');
        const quarter = await withClient(async (c) => {
          const { rows } = await c.query<{ bytes: string }>(
            `SELECT (setting::bigint * 8192 / 4)::text AS bytes FROM pg_settings WHERE name = 'shared_buffers'`,
          );
          return Number(rows[0]!.bytes);
        });
        await db.exec(`CREATE TABLE ${namespace}.${name} (id bigint, pad text)`);
        await db.exec(db.fill(name, Math.ceil((quarter * 1.5) / 130)));
        const lake = lakeFor(tableFor(db, name, { disposition: 'replace' }));
        expect((await lake.land()).landed).toHaveLength(1);
        const half = Math.ceil((quarter * 0.75) / 130);
        await db.exec(`SELECT * FROM ${namespace}.${name} OFFSET ${half} LIMIT 1`);
        const again = await lake.land();
        expect(again.landed).toHaveLength(0);
        expect(again.unchanged).toBe(1);
        expect((await lake.rows())[0]!.id).toBe('1');
      });
    });

    describe('postgres parallel extraction', () => {
      it('splits the table into ranges of split_by, one batch each, every row once', async () => {
        const name = uniqueTable('par');
        await db.exec(`CREATE TABLE ${namespace}.${name} (id bigint PRIMARY KEY, pad text)`);
        await db.exec(db.fill(name, 10_001));
        const lake = lakeFor(
          tableFor(db, name, { mode: 'incremental', cursor: 'id', parallel: 3, split_by: 'id' }),
        );
        const result = await lake.land();
        const batches = result.landed as DatabaseBatch[];
        expect(batches.map((b) => [b.part, b.parts])).toEqual([
          [0, 3],
          [1, 3],
          [2, 3],
        ]);
        expect(batches.reduce((n, b) => n + b.rows, 0)).toBe(10_001);
        const ids = (await lake.rows()).map((r) => Number(r.id));
        expect(new Set(ids).size).toBe(10_001);
        expect((await lake.manifest()).cursor).toEqual({ [name]: '10001' });
      });

      it('asks for an integer split_by when parallel is set without one', async () => {
        const name = uniqueTable('par');
        await db.exec(`CREATE TABLE ${namespace}.${name} (code text)`);
        const err = await lakeFor(tableFor(db, name, { parallel: 2 }))
          .land()
          .catch((e: unknown) => e);
        expect((err as TributaryError).message).toMatch(/needs split_by: an integer column/);
      });
    });
  });
});
