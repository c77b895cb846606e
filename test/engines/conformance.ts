/**
 * The engine conformance suite: every Engine adapter must pass it unchanged. It is written in
 * portable SQL (standard types, $n parameters) so a PostgreSQL adapter runs the same cases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError, type Engine } from '../../src/engines/index.js';

export function describeEngineConformance(name: string, open: () => Promise<Engine>): void {
  describe(`${name} engine conformance`, () => {
    let engine: Engine;
    const schema = `conf_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
    const q = (n: string) => engine.dialect.quoteIdentifier(n);

    beforeAll(async () => {
      engine = await open();
      await engine.exec(`CREATE SCHEMA ${q(schema)}`);
    });
    afterAll(async () => {
      await engine.exec(`DROP SCHEMA ${q(schema)} CASCADE`);
      await engine.close();
    });

    it('runs several statements in one exec', async () => {
      await engine.exec(
        `CREATE TABLE ${q(schema)}.multi (a INTEGER); INSERT INTO ${q(schema)}.multi VALUES (1); INSERT INTO ${q(schema)}.multi VALUES (2);`,
      );
      const { rows } = await engine.query(`SELECT count(*) AS n FROM ${q(schema)}.multi`);
      expect(Number(rows[0]!.n)).toBe(2);
    });

    it('returns column names, engine types and JSON kinds', async () => {
      const { columns } = await engine.query(
        `SELECT CAST(1 AS INTEGER) AS i, CAST('x' AS VARCHAR) AS s, TRUE AS b`,
      );
      expect(columns.map((c) => [c.name, c.kind])).toEqual([
        ['i', 'number'],
        ['s', 'string'],
        ['b', 'boolean'],
      ]);
      expect(columns[0]!.type.toUpperCase()).toMatch(/INT/);
    });

    it('returns BIGINT and DECIMAL as strings so no precision is lost', async () => {
      const { rows, columns } = await engine.query(
        `SELECT CAST(9007199254740993 AS BIGINT) AS big, CAST(12345678901234.56 AS DECIMAL(16,2)) AS money`,
      );
      expect(rows[0]).toEqual({ big: '9007199254740993', money: '12345678901234.56' });
      expect(columns.map((c) => c.kind)).toEqual(['string', 'string']);
    });

    it('returns integers and doubles as numbers and NULL as null', async () => {
      const { rows } = await engine.query(
        `SELECT CAST(42 AS INTEGER) AS i, CAST(1.5 AS DOUBLE PRECISION) AS d, CAST(NULL AS INTEGER) AS n`,
      );
      expect(rows[0]).toEqual({ i: 42, d: 1.5, n: null });
    });

    it('returns dates as YYYY-MM-DD and timestamps as YYYY-MM-DD HH:MM:SS', async () => {
      const { rows } = await engine.query(
        `SELECT DATE '2025-11-28' AS d, TIMESTAMP '2025-11-28 13:04:05' AS ts`,
      );
      expect(rows[0]).toEqual({ d: '2025-11-28', ts: '2025-11-28 13:04:05' });
    });

    it('binds positional parameters, including NULL and quotes', async () => {
      await engine.exec(`CREATE TABLE ${q(schema)}.params (id INTEGER, name VARCHAR)`);
      await engine.query(`INSERT INTO ${q(schema)}.params VALUES ($1, $2)`, [1, "O'Brien"]);
      await engine.query(`INSERT INTO ${q(schema)}.params VALUES ($1, $2)`, [2, null]);
      const { rows } = await engine.query(
        `SELECT id, name FROM ${q(schema)}.params WHERE name = $1 OR id = $2 ORDER BY id`,
        ["O'Brien", 2],
      );
      expect(rows).toEqual([
        { id: 1, name: "O'Brien" },
        { id: 2, name: null },
      ]);
    });

    it('commits a transaction', async () => {
      await engine.exec(`CREATE TABLE ${q(schema)}.tx_ok (a INTEGER)`);
      await engine.transaction(async (tx) => {
        await tx.exec(`INSERT INTO ${q(schema)}.tx_ok VALUES (1)`);
      });
      const { rows } = await engine.query(`SELECT count(*) AS n FROM ${q(schema)}.tx_ok`);
      expect(Number(rows[0]!.n)).toBe(1);
    });

    it('rolls a transaction back when its function throws', async () => {
      await engine.exec(`CREATE TABLE ${q(schema)}.tx_bad (a INTEGER)`);
      await expect(
        engine.transaction(async (tx) => {
          await tx.exec(`INSERT INTO ${q(schema)}.tx_bad VALUES (1)`);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      const { rows } = await engine.query(`SELECT count(*) AS n FROM ${q(schema)}.tx_bad`);
      expect(Number(rows[0]!.n)).toBe(0);
    });

    it('replaces a table with a query result and returns its row count', async () => {
      expect(
        await engine.replaceTable(schema, 'replaced', `SELECT 1 AS a UNION ALL SELECT 2`),
      ).toBe(2);
      expect(await engine.replaceTable(schema, 'replaced', `SELECT 3 AS a, 'x' AS b`)).toBe(1);
      const { rows } = await engine.query(`SELECT * FROM ${q(schema)}.replaced`);
      expect(rows).toEqual([{ a: 3, b: 'x' }]);
    });

    it('keeps the old table when a replacement query fails', async () => {
      await engine.replaceTable(schema, 'kept', `SELECT 1 AS a`);
      await expect(
        engine.replaceTable(schema, 'kept', `SELECT a FROM ${q(schema)}.does_not_exist`),
      ).rejects.toThrow();
      const { rows } = await engine.query(`SELECT * FROM ${q(schema)}.kept`);
      expect(rows).toEqual([{ a: 1 }]);
    });

    it('creates a schema once, and asking again is harmless', async () => {
      const other = `${schema}_b`;
      await engine.ensureSchema(other);
      await engine.ensureSchema(other);
      await engine.exec(`CREATE TABLE ${q(other)}.t (a INTEGER)`);
      expect(await engine.listTables(other)).toEqual([{ schema: other, name: 't', type: 'table' }]);
      await engine.exec(`DROP SCHEMA ${q(other)} CASCADE`);
    });

    it('describes a table, and says undefined for one that does not exist', async () => {
      await engine.exec(`CREATE TABLE ${q(schema)}.described (id BIGINT, label VARCHAR)`);
      const cols = await engine.describe(schema, 'described');
      expect(cols?.map((c) => c.name)).toEqual(['id', 'label']);
      expect(await engine.describe(schema, 'missing_table')).toBeUndefined();
    });

    it('lists tables and views of a schema', async () => {
      await engine.exec(
        `CREATE TABLE ${q(schema)}.listed (a INTEGER); CREATE VIEW ${q(schema)}.listed_view AS SELECT * FROM ${q(schema)}.listed`,
      );
      const tables = await engine.listTables(schema);
      expect(tables).toContainEqual({ schema, name: 'listed', type: 'table' });
      expect(tables).toContainEqual({ schema, name: 'listed_view', type: 'view' });
    });

    it('raises an EngineError that keeps the failing SQL', async () => {
      const sql = 'SELECT * FROM no_such_table_anywhere';
      const err = await engine.query(sql).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineError);
      expect((err as EngineError).sql).toBe(sql);
      expect((err as EngineError).message).toMatch(/no_such_table_anywhere/);
    });

    it('quotes identifiers and strings so any name and value round-trips', async () => {
      const odd = 'we"ird name';
      await engine.exec(`CREATE TABLE ${q(schema)}.${q(odd)} (${q('col"x')} VARCHAR)`);
      await engine.exec(
        `INSERT INTO ${q(schema)}.${q(odd)} VALUES (${engine.dialect.quoteString("it's")})`,
      );
      const { rows } = await engine.query(`SELECT ${q('col"x')} AS v FROM ${q(schema)}.${q(odd)}`);
      expect(rows).toEqual([{ v: "it's" }]);
    });

    it('try-casts values that do not parse to NULL', async () => {
      const d = engine.dialect;
      const { rows } = await engine.query(
        `SELECT ${d.tryCast(d.quoteString('12'), 'integer')} AS ok, ${d.tryCast(d.quoteString('1x'), 'integer')} AS bad,
                ${d.tryCast(d.quoteString('2025-13-45'), 'date')} AS bad_date, ${d.tryCast(d.quoteString('12.50'), 'decimal(12,2)')} AS money`,
      );
      expect(rows[0]).toEqual({ ok: 12, bad: null, bad_date: null, money: '12.50' });
    });

    it('serialises concurrent queries on one engine', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => engine.query(`SELECT ${i} AS i`)),
      );
      expect(results.map((r) => r.rows[0]!.i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    });
  });
}
