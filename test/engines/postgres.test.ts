/**
 * PostgreSQL runs the shared engine conformance suite, plus what only PostgreSQL has: its own
 * value types (timestamptz, arrays, JSON, enums), its error details, and pooled sessions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/index.js';
import { EngineError, openPostgres, type Engine } from '../../src/engines/index.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { describeEngineConformance } from './conformance.js';

const available = await serviceAvailable('postgres', postgresTestUrl);

describeEngineConformance('postgres', () => openPostgres({ url: postgresTestUrl }), {
  skip: !available,
});

describe.skipIf(!available)('postgres engine', () => {
  let engine: Engine;
  const schema = `pgx_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;

  beforeAll(async () => {
    engine = await openPostgres({ url: postgresTestUrl, poolSize: 4 });
    await engine.ensureSchema(schema);
  });
  afterAll(async () => {
    await engine.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await engine.close();
  });

  it('returns timestamps with time zone as PostgreSQL prints them in UTC', async () => {
    const { rows } = await engine.query(
      `SELECT TIMESTAMPTZ '2025-11-28 14:04:05+01' AS tz, TIMESTAMP '2025-11-28 13:04:05.123456' AS ts`,
    );
    expect(rows[0]).toEqual({ tz: '2025-11-28 13:04:05+00', ts: '2025-11-28 13:04:05.123456' });
  });

  it('returns arrays as lists and JSON as parsed values', async () => {
    const { rows, columns } = await engine.query(
      `SELECT ARRAY[1, 2, NULL]::int[] AS ints, ARRAY['a b', 'c"d', 'NULL', NULL] AS texts,
              ARRAY[[1, 2], [3, 4]]::int8[] AS nested, ARRAY[DATE '2025-11-28'] AS dates,
              '{"a": [1, true, null]}'::jsonb AS doc, '[1, "x"]'::json AS arr, '{}'::int[] AS empty`,
    );
    expect(rows[0]).toEqual({
      ints: [1, 2, null],
      texts: ['a b', 'c"d', 'NULL', null],
      nested: [
        ['1', '2'],
        ['3', '4'],
      ],
      dates: ['2025-11-28'],
      doc: { a: [1, true, null] },
      arr: [1, 'x'],
      empty: [],
    });
    expect(columns.map((c) => [c.type, c.kind])).toEqual([
      ['integer[]', 'list'],
      ['text[]', 'list'],
      ['bigint[]', 'list'],
      ['date[]', 'list'],
      ['jsonb', 'object'],
      ['json', 'object'],
      ['integer[]', 'list'],
    ]);
  });

  it('names column types with their modifiers, and user-defined types by asking the server', async () => {
    await engine.exec(`CREATE TYPE "${schema}".mood AS ENUM ('ok', 'sad')`);
    const { rows, columns } = await engine.query(
      `SELECT CAST(1.5 AS numeric(12,2)) AS m, CAST('x' AS varchar(20)) AS v, CAST('ok' AS "${schema}".mood) AS e,
              CAST('1 day' AS interval) AS i, CAST('NaN' AS double precision) AS nan, CAST(1 AS smallint) AS s`,
    );
    expect(rows[0]).toEqual({ m: '1.50', v: 'x', e: 'ok', i: '1 day', nan: 'NaN', s: 1 });
    expect(columns.map((c) => c.type)).toEqual([
      'numeric(12,2)',
      'character varying(20)',
      `${schema}.mood`,
      'interval',
      'double precision',
      'smallint',
    ]);
    expect(columns[2]!.kind).toBe('string');
  });

  it('puts the position, detail and hint of an error in its message', async () => {
    const sql = `SELECT 1\n  FROM "${schema}".nowhere`;
    const err = (await engine.query(sql).catch((e: unknown) => e)) as EngineError;
    expect(err).toBeInstanceOf(EngineError);
    expect(err.message).toMatch(/relation ".*nowhere" does not exist/);
    expect(err.message).toMatch(/at line 2, column 8: FROM/);
    await engine.exec(`CREATE TABLE "${schema}".uniq (a INTEGER PRIMARY KEY)`);
    const dup = (await engine
      .exec(`INSERT INTO "${schema}".uniq VALUES (1), (1)`)
      .catch((e: unknown) => e)) as EngineError;
    expect(dup.message).toMatch(/duplicate key[\s\S]*detail: Key \(a\)=\(1\) already exists/);
    const hinted = (await engine
      .query(`SELECT lenght('x')`)
      .catch((e: unknown) => e)) as EngineError;
    expect(hinted.message).toMatch(/hint: No function matches/);
  });

  it('resolves unqualified names in the schema it was opened with', async () => {
    const scoped = await openPostgres({ url: postgresTestUrl, schema, poolSize: 2 });
    try {
      await scoped.exec(`CREATE TABLE scoped_t (a INTEGER)`);
      expect(await engine.listTables(schema)).toContainEqual({
        schema,
        name: 'scoped_t',
        type: 'table',
      });
      expect((await scoped.describe(undefined, 'scoped_t'))?.map((c) => c.name)).toEqual(['a']);
      await scoped.replaceTable(undefined, 'scoped_r', 'SELECT 1 AS a');
      expect((await engine.query(`SELECT a FROM "${schema}".scoped_r`)).rows).toEqual([{ a: 1 }]);
    } finally {
      await scoped.close();
    }
  });

  it('gives every fork a session of its own, and closing a fork leaves the root open', async () => {
    const pid = async (e: Engine) => (await e.query('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const fork = await engine.fork();
    expect(await pid(fork)).not.toEqual(await pid(engine));
    await fork.exec('CREATE TEMPORARY TABLE only_in_fork (a INTEGER)');
    await expect(engine.query('SELECT * FROM only_in_fork')).rejects.toThrow(/only_in_fork/);
    await fork.close();
    await expect(fork.query('SELECT 1')).rejects.toThrow(/closed/);
    expect((await engine.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('opens a new session when its connection was terminated', async () => {
    const fork = await engine.fork();
    try {
      const { rows } = await fork.query('SELECT pg_backend_pid() AS pid');
      await engine.query('SELECT pg_terminate_backend($1, 5000)', [rows[0]!.pid]);
      // Whether the session notices the loss while idle or on its next statement, it says so
      // at most once and then carries on with a new connection.
      const first = await fork.query('SELECT 1 AS one').catch((e: unknown) => e);
      if (first instanceof Error)
        expect(first.message).toMatch(/lost the connection to PostgreSQL/);
      const after = await fork.query('SELECT pg_backend_pid() AS pid');
      expect(after.rows[0]!.pid).not.toEqual(rows[0]!.pid);
    } finally {
      await fork.close();
    }
  });

  it('gives sessions back to the pool when forks close, so a small pool serves many forks', async () => {
    const small = await openPostgres({ url: postgresTestUrl, poolSize: 2 });
    try {
      for (let i = 0; i < 25; i++) {
        const fork = await small.fork();
        expect((await fork.query('SELECT $1::int AS i', [i])).rows).toEqual([{ i }]);
        await fork.close();
      }
    } finally {
      await small.close();
    }
  });

  it('recovers when the session dies inside a transaction', async () => {
    const fork = await engine.fork();
    try {
      await expect(
        fork.transaction(async (tx) => {
          await tx.query('SELECT pg_terminate_backend(pg_backend_pid())');
        }),
      ).rejects.toThrow();
      expect((await fork.query('SELECT 3 AS three')).rows).toEqual([{ three: 3 }]);
    } finally {
      await fork.close();
    }
  });

  it('ends every session when the root closes, even forks left open', async () => {
    const root = await openPostgres({ url: postgresTestUrl, poolSize: 2 });
    const fork = await root.fork();
    await fork.query('SELECT 1');
    await root.close();
    await expect(fork.query('SELECT 1')).rejects.toThrow(/closed/);
  });

  it('keeps scratch names within 63 bytes when replacing a long-named table', async () => {
    const long = 'a_table_name_that_is_exactly_sixty_three_bytes_long_xxxxxxxxxxx';
    expect(long.length).toBe(63);
    expect(await engine.replaceTable(schema, long, 'SELECT 1 AS a')).toBe(1);
    expect(await engine.replaceTable(schema, long, 'SELECT 2 AS a')).toBe(1);
    await engine.replaceView(schema, long, 'SELECT 3 AS a');
    expect((await engine.query(`SELECT a FROM "${schema}"."${long}"`)).rows).toEqual([{ a: 3 }]);
    expect(
      (await engine.listTables(schema)).filter((t) => t.name.startsWith('a_table')),
    ).toHaveLength(1);
  });

  it('says which server it could not reach and what to do', async () => {
    const err = await openPostgres({ host: '127.0.0.1', port: 1, database: 'nowhere' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TributaryError);
    expect((err as TributaryError).code).toBe('ENGINE');
    expect((err as TributaryError).message).toMatch(
      /cannot connect to PostgreSQL at 127\.0\.0\.1:1\/nowhere/,
    );
    expect((err as TributaryError).hint).toMatch(/start PostgreSQL/);
  });
});
