/**
 * dbt's cross-database macros give the same rows on DuckDB and PostgreSQL: each builder runs over
 * one small fixture (loaded through insertRows on both) and the two engines' results must match,
 * values and JSON kinds alike. Edge values on purpose: leap days, month ends, negatives, '' and NULL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openDuckDB,
  openPostgres,
  type CrossDbMacros,
  type Engine,
} from '../../src/engines/index.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';

const available = await serviceAvailable('postgres', postgresTestUrl);

const FIXTURE: (string | null)[][] = [
  ['1', 'a,b,c', '2024-02-29', '2024-02-29 23:59:59', '7', 'true', 'x'],
  ['2', 'hello', '2025-01-31', '2025-01-31 00:00:00', '-7', 'false', 'x'],
  ['3', '', '2025-12-31', '2025-12-31 12:30:45.5', '0', null, 'y'],
  ['4', null, null, null, null, null, 'y'],
  ['5', '12', '2023-03-05', '2026-01-01 00:00:00', '2', 'false', 'z'],
];

const PARTS = ['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second'];

/** Each case: a name and the select list built from one engine's macros (`t` is the fixture). */
const CASES: [string, (c: CrossDbMacros, q: (v: string) => string) => string][] = [
  [
    'type_*',
    (c) =>
      `CAST(s AS ${c.type_string()}) AS s, CAST(n AS ${c.type_int()}) AS i, CAST(n AS ${c.type_bigint()}) AS b,
       CAST(n AS ${c.type_float()}) AS f, CAST(n AS ${c.type_numeric()}) AS num, CAST(ts AS ${c.type_timestamp()}) AS t,
       CAST(f AS ${c.type_boolean()}) AS bo`,
  ],
  [
    'current_timestamp',
    (c) => `${c.current_timestamp()} > ts AS later, ${c.current_timestamp()} IS NULL AS missing`,
  ],
  [
    'date_trunc',
    (c) =>
      PARTS.map(
        (p) => `${c.date_trunc(p, 'd')} AS d_${p}, ${c.date_trunc(p, 'ts')} AS ts_${p}`,
      ).join(', '),
  ],
  [
    'dateadd',
    (c) =>
      PARTS.map(
        (p) => `${c.dateadd(p, 'n', 'd')} AS d_${p}, ${c.dateadd(p, 2, 'ts')} AS ts_${p}`,
      ).join(', '),
  ],
  [
    'datediff',
    (c) =>
      PARTS.map(
        (p) =>
          `${c.datediff('d', 'ts', p)} AS d_ts_${p}, ${c.datediff('ts', "TIMESTAMP '2025-06-15 08:00:00'", p)} AS ts_fixed_${p}`,
      ).join(', '),
  ],
  [
    'safe_cast',
    (c) =>
      `${c.safe_cast('s', 'integer')} AS si, ${c.safe_cast('s', 'date')} AS sd, ${c.safe_cast('CAST(n AS TEXT)', c.type_bigint())} AS nb,
       ${c.safe_cast('s', c.type_float())} AS sf, ${c.safe_cast('s', 'numeric(6,2)')} AS sn`,
  ],
  ['concat', (c, q) => `${c.concat(['s', q('-'), 'CAST(id AS TEXT)'])} AS v`],
  ['hash', (c) => `${c.hash('s')} AS hs, ${c.hash('id')} AS hi, ${c.hash('d')} AS hd`],
  [
    'split_part',
    (c, q) =>
      `${c.split_part('s', q(','), 1)} AS p1, ${c.split_part('s', q(','), 2)} AS p2, ${c.split_part('s', q(','), -1)} AS plast`,
  ],
  [
    'position, length, right, replace',
    (c, q) =>
      `${c.position(q('l'), 's')} AS pos, ${c.length('s')} AS len, ${c.right('s', 2)} AS r,
       ${c.replace('s', q('l'), q('L'))} AS rep`,
  ],
  ['cast_bool_to_text', (c) => `${c.cast_bool_to_text('f')} AS v`],
  [
    'last_day',
    (c) =>
      `${c.last_day('d', 'month')} AS m, ${c.last_day('d', 'quarter')} AS q, ${c.last_day('ts', 'year')} AS y`,
  ],
  [
    'int_divide',
    (c) =>
      `${c.int_divide('n', '2')} AS half, ${c.int_divide('n', '-3')} AS third, ${c.int_divide('id', 'n')} AS by_n`,
  ],
];

const GROUPED: [string, (c: CrossDbMacros, q: (v: string) => string) => string][] = [
  ['any_value', (c) => `${c.any_value('g')} AS v`],
  ['bool_or', (c) => `${c.bool_or('f')} AS v`],
  [
    'listagg',
    (c, q) =>
      `${c.listagg('s', q('|'), 'ORDER BY id')} AS ordered, ${c.listagg('s', q(','), 'id DESC', 1)} AS first_only`,
  ],
];

describe.skipIf(!available)(
  'cross-database macros give identical rows on DuckDB and PostgreSQL',
  () => {
    const engines: Engine[] = [];
    const schema = `xdb_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;

    beforeAll(async () => {
      engines.push(
        await openDuckDB({ path: ':memory:' }),
        await openPostgres({ url: postgresTestUrl }),
      );
      for (const e of engines) {
        await e.ensureSchema(schema);
        await e.exec(
          `CREATE TABLE ${e.dialect.relation(schema, 't')} (id INTEGER, s VARCHAR, d DATE, ts TIMESTAMP, n INTEGER, f BOOLEAN, g VARCHAR)`,
        );
        await e.insertRows(schema, 't', ['id', 's', 'd', 'ts', 'n', 'f', 'g'], FIXTURE);
      }
    });
    afterAll(async () => {
      for (const e of engines) {
        await e.exec(`DROP SCHEMA ${e.dialect.quoteIdentifier(schema)} CASCADE`);
        await e.close();
      }
    });

    /** Runs the same case on both engines and returns both results. */
    async function both(sql: (e: Engine) => string) {
      return Promise.all(engines.map((e) => e.query(sql(e))));
    }

    it.each(CASES)('%s', async (_name, build) => {
      const [duck, pg] = await both(
        (e) =>
          `SELECT id, ${build(e.dialect.crossDb, e.dialect.quoteString)} FROM ${e.dialect.relation(schema, 't')} ORDER BY id`,
      );
      expect(pg!.rows).toEqual(duck!.rows);
      expect(pg!.columns.map((c) => [c.name, c.kind])).toEqual(
        duck!.columns.map((c) => [c.name, c.kind]),
      );
      // Guard against a case that agrees only because everything came out NULL.
      const values = duck!.rows.flatMap((r) =>
        Object.entries(r)
          .filter(([k]) => k !== 'id')
          .map(([, v]) => v),
      );
      expect(values.some((v) => v !== null)).toBe(true);
    });

    it.each(GROUPED)('%s', async (_name, build) => {
      const [duck, pg] = await both(
        (e) =>
          `SELECT g, ${build(e.dialect.crossDb, e.dialect.quoteString)} FROM ${e.dialect.relation(schema, 't')} GROUP BY g ORDER BY g`,
      );
      expect(pg!.rows).toEqual(duck!.rows);
      expect(pg!.columns.map((c) => [c.name, c.kind])).toEqual(
        duck!.columns.map((c) => [c.name, c.kind]),
      );
    });

    it('shows why int_divide exists: `/` on integers differs between the engines', async () => {
      const [duck, pg] = await both(() => `SELECT 7 / 2 AS v`);
      expect(duck!.rows[0]!.v).toBe(3.5);
      expect(pg!.rows[0]!.v).toBe(3);
    });
  },
);
