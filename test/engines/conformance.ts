/**
 * The engine conformance suite: every Engine adapter must pass it unchanged. It is written in
 * portable SQL (standard types, $n parameters) so a PostgreSQL adapter runs the same cases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError, type Engine, type LogicalType } from '../../src/engines/index.js';

export interface ConformanceOptions {
  /** Skip the whole suite, e.g. when the engine's server is not reachable (test/services.ts). */
  skip?: boolean;
}

export function describeEngineConformance(
  name: string,
  open: () => Promise<Engine>,
  options: ConformanceOptions = {},
): void {
  describe.skipIf(options.skip ?? false)(`${name} engine conformance`, () => {
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

    it('interrupt cancels the running statement and leaves the session usable', async () => {
      const long = engine.query(
        `SELECT count(*) AS n FROM generate_series(1, 100000) a CROSS JOIN generate_series(1, 100000) b`,
      );
      const outcome = long.then(
        () => 'finished',
        (err: unknown) => (err instanceof Error ? err.message : String(err)),
      );
      await new Promise((r) => setTimeout(r, 300));
      const t0 = performance.now();
      await engine.interrupt();
      const message = await outcome;
      expect(message).toMatch(/interrupt|cancel/i);
      expect(performance.now() - t0).toBeLessThan(5000);
      const { rows } = await engine.query('SELECT 1 AS one');
      expect(Number(rows[0]!.one)).toBe(1);
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

    it('drops a schema with its tables, and ensureSchema creates it again afterwards', async () => {
      const other = `${schema}_dropped`;
      await engine.ensureSchema(other);
      await engine.exec(`CREATE TABLE ${q(other)}.t (a INTEGER)`);
      await engine.dropSchema(other);
      expect(await engine.listTables(other)).toEqual([]);
      await engine.ensureSchema(other);
      await engine.exec(`CREATE TABLE ${q(other)}.t (a INTEGER)`);
      expect(await engine.listTables(other)).toEqual([{ schema: other, name: 't', type: 'table' }]);
      await engine.dropSchema(other);
      await engine.dropSchema(other); // absent: harmless
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

    it('try-casts text that would lose information to NULL: a fraction to an integer, a time to a date', async () => {
      const d = engine.dialect;
      const { rows } = await engine.query(
        `SELECT ${d.tryCast(d.quoteString('7.5'), 'integer')} AS frac, ${d.tryCast(d.quoteString('1e3'), 'bigint')} AS expo,
                ${d.tryCast(d.quoteString(' 42 '), 'integer')} AS padded, ${d.tryCast(d.quoteString('2025-01-02 10:30:00'), 'date')} AS timed`,
      );
      expect(rows[0]).toEqual({ frac: null, expo: null, padded: 42, timed: null });
    });

    it('serialises concurrent queries on one engine', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => engine.query(`SELECT ${i} AS i`)),
      );
      expect(results.map((r) => r.rows[0]!.i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    });

    it('holds a session lock against other sessions until unlocked or closed (where there are session locks)', async () => {
      const key = `conformance/${schema}`;
      const one = await engine.fork();
      const two = await engine.fork();
      try {
        expect(await one.tryLockSession(key)).toBe(true);
        expect(await one.holdsSessionLock(key)).toBe(true);
        if (!engine.capabilities.sessionLocks) {
          // One process owns the database: every session may take it (there is nobody to exclude).
          expect(await two.tryLockSession(key)).toBe(true);
          return;
        }
        expect(await two.tryLockSession(key)).toBe(false);
        expect(await two.holdsSessionLock(key)).toBe(false);
        await one.unlockSession(key);
        expect(await one.holdsSessionLock(key)).toBe(false);
        expect(await two.tryLockSession(key)).toBe(true);
        // Closing the holding session releases its lock (it is not pooled with the lock held).
        await two.close();
        expect(await one.tryLockSession(key)).toBe(true);
      } finally {
        await one.close();
        await two.close();
      }
    });

    it('keeps session state between statements and shares the database with a fork', async () => {
      await engine.exec(`CREATE TEMPORARY TABLE session_tmp (a INTEGER)`);
      await engine.exec(`INSERT INTO session_tmp VALUES (7)`);
      expect((await engine.query(`SELECT a FROM session_tmp`)).rows).toEqual([{ a: 7 }]);
      await engine.exec(
        `CREATE TABLE ${q(schema)}.shared (a INTEGER); INSERT INTO ${q(schema)}.shared VALUES (1)`,
      );
      const fork = await engine.fork();
      try {
        expect((await fork.query(`SELECT a FROM ${q(schema)}.shared`)).rows).toEqual([{ a: 1 }]);
      } finally {
        await fork.close();
      }
      expect((await engine.query(`SELECT a FROM ${q(schema)}.shared`)).rows).toEqual([{ a: 1 }]);
      await engine.exec(`DROP TABLE session_tmp`);
    });

    it('replaces a view with one whose columns are dropped, renamed and retyped', async () => {
      await engine.exec(`CREATE TABLE ${q(schema)}.view_src (a INTEGER, b VARCHAR)`);
      await engine.exec(`INSERT INTO ${q(schema)}.view_src VALUES (1, 'x')`);
      await engine.replaceView(schema, 'v_shape', `SELECT a, b FROM ${q(schema)}.view_src`);
      await engine.replaceView(
        schema,
        'v_shape',
        `SELECT CAST(a AS VARCHAR) AS a_text, 2 AS extra FROM ${q(schema)}.view_src`,
      );
      expect((await engine.query(`SELECT * FROM ${q(schema)}.v_shape`)).rows).toEqual([
        { a_text: '1', extra: 2 },
      ]);
      expect(await engine.listTables(schema)).toContainEqual({
        schema,
        name: 'v_shape',
        type: 'view',
      });
    });

    it('keeps the old view when a replacement view does not compile', async () => {
      await engine.replaceView(schema, 'v_kept', `SELECT 1 AS a`);
      await expect(
        engine.replaceView(schema, 'v_kept', `SELECT a FROM ${q(schema)}.does_not_exist`),
      ).rejects.toThrow();
      expect((await engine.query(`SELECT * FROM ${q(schema)}.v_kept`)).rows).toEqual([{ a: 1 }]);
    });

    it('turns a table into a view and the view back into a table', async () => {
      await engine.replaceTable(schema, 'flip', `SELECT 1 AS a`);
      await engine.replaceView(schema, 'flip', `SELECT 2 AS b`);
      expect(await engine.listTables(schema)).toContainEqual({
        schema,
        name: 'flip',
        type: 'view',
      });
      expect((await engine.query(`SELECT * FROM ${q(schema)}.flip`)).rows).toEqual([{ b: 2 }]);
      expect(await engine.replaceTable(schema, 'flip', `SELECT 3 AS c UNION ALL SELECT 4`)).toBe(2);
      expect(await engine.listTables(schema)).toContainEqual({
        schema,
        name: 'flip',
        type: 'table',
      });
      const names = (await engine.listTables(schema)).map((t) => t.name);
      expect(names.filter((n) => n.startsWith('flip'))).toEqual(['flip']);
    });

    it('replaces a table inside a transaction, and a rollback keeps the old one', async () => {
      await engine.replaceTable(schema, 'tx_replace', `SELECT 1 AS a`);
      await expect(
        engine.transaction(async (tx) => {
          await tx.replaceTable(schema, 'tx_replace', `SELECT 2 AS a`);
          throw new Error('undo');
        }),
      ).rejects.toThrow('undo');
      expect((await engine.query(`SELECT * FROM ${q(schema)}.tx_replace`)).rows).toEqual([
        { a: 1 },
      ]);
    });

    it('says whether views built on a replaced table survive (lateBindingViews)', async () => {
      await engine.replaceTable(schema, 'base_t', `SELECT 1 AS a`);
      await engine.replaceView(schema, 'on_base', `SELECT a FROM ${q(schema)}.base_t`);
      await engine.replaceTable(schema, 'base_t', `SELECT 5 AS a`);
      // Either way the view reads the new table; bound at creation (PostgreSQL), it was re-made
      // over it in the swap's transaction.
      expect((await engine.query(`SELECT a FROM ${q(schema)}.on_base`)).rows).toEqual([{ a: 5 }]);
      // A table without the column it reads: late bound, the view stays (and fails when read);
      // bound at creation, it cannot be re-made and is dropped, as dbt-postgres drops it.
      await engine.replaceTable(schema, 'base_t', `SELECT 6 AS b`);
      const views = (await engine.listTables(schema)).filter((t) => t.name === 'on_base');
      if (engine.capabilities.lateBindingViews) {
        expect(views.length).toBe(1);
        await expect(engine.query(`SELECT a FROM ${q(schema)}.on_base`)).rejects.toThrow();
      } else {
        expect(views).toEqual([]);
      }
    });

    it('keeps a view over a table dropped and made again in one transaction', async () => {
      if (!engine.capabilities.transactionalDdl) return; // stated: no DDL in transactions
      await engine.replaceTable(schema, 'seeded_t', `SELECT 1 AS a, 2 AS b`);
      await engine.replaceView(schema, 'on_seeded', `SELECT a FROM ${q(schema)}.seeded_t`);
      await engine.transaction(async (tx) => {
        await tx.dropRelation(schema, 'seeded_t');
        await tx.exec(`CREATE TABLE ${q(schema)}.seeded_t AS SELECT 7 AS a`);
      });
      expect((await engine.query(`SELECT a FROM ${q(schema)}.on_seeded`)).rows).toEqual([{ a: 7 }]);
      // Swapped in under another name (forecast tables): the same.
      await engine.exec(`CREATE TABLE ${q(schema)}.seeded_aside AS SELECT 8 AS a`);
      await engine.transaction(async (tx) => {
        await tx.dropRelation(schema, 'seeded_t');
        await tx.renameRelation(schema, 'seeded_aside', 'seeded_t');
      });
      expect((await engine.query(`SELECT a FROM ${q(schema)}.on_seeded`)).rows).toEqual([{ a: 8 }]);
    });

    it('drops tables and views if they exist, with what depends on them', async () => {
      await engine.replaceTable(schema, 'dropped_t', `SELECT 1 AS a`);
      await engine.exec(`CREATE VIEW ${q(schema)}.dropped_v AS SELECT 1 AS a`);
      await engine.dropRelation(schema, 'dropped_t');
      await engine.dropRelation(schema, 'dropped_v');
      await engine.dropRelation(schema, 'never_existed');
      const names = (await engine.listTables(schema)).map((t) => t.name);
      expect(names).not.toContain('dropped_t');
      expect(names).not.toContain('dropped_v');
    });

    it('renames tables and views', async () => {
      await engine.replaceTable(schema, 'rn_t', `SELECT 1 AS a`);
      await engine.replaceView(schema, 'rn_v', `SELECT 2 AS b`);
      await engine.renameRelation(schema, 'rn_t', 'rn_t2');
      await engine.renameRelation(schema, 'rn_v', 'rn_v2');
      const tables = await engine.listTables(schema);
      expect(tables).toContainEqual({ schema, name: 'rn_t2', type: 'table' });
      expect(tables).toContainEqual({ schema, name: 'rn_v2', type: 'view' });
      expect(tables.map((t) => t.name)).not.toContain('rn_t');
    });

    it('describes types that DDL takes back verbatim', async () => {
      await engine.exec(
        `CREATE TABLE ${q(schema)}.typed (i INTEGER, b BIGINT, d DOUBLE PRECISION, m DECIMAL(12,2), s VARCHAR, f BOOLEAN, dt DATE, ts TIMESTAMP)`,
      );
      const cols = (await engine.describe(schema, 'typed'))!;
      expect(cols.map((c) => c.kind)).toEqual([
        'number',
        'string',
        'number',
        'string',
        'string',
        'boolean',
        'string',
        'string',
      ]);
      await engine.exec(`CREATE TABLE ${q(schema)}.typed_copy (placeholder INTEGER)`);
      for (const c of cols) {
        await engine.exec(`ALTER TABLE ${q(schema)}.typed_copy ADD COLUMN ${q(c.name)} ${c.type}`);
      }
      const copied = (await engine.describe(schema, 'typed_copy'))!;
      expect(copied.slice(1)).toEqual(cols);
      expect(cols.find((c) => c.name === 'm')!.type).toMatch(/12,\s*2/);
    });

    it('names every logical type in DDL the engine accepts', async () => {
      const types: LogicalType[] = [
        'string',
        'integer',
        'bigint',
        'double',
        'boolean',
        'date',
        'timestamp',
        'decimal(10,3)',
      ];
      const t = engine.dialect.typeName;
      await engine.exec(
        `CREATE TABLE ${q(schema)}.logical (${types.map((ty, i) => `c${i} ${t(ty)}`).join(', ')})`,
      );
      await engine.insertRows(
        schema,
        'logical',
        types.map((_, i) => `c${i}`),
        [['x', '1', '9007199254740993', '0.5', 'true', '2025-11-28', '2025-11-28 13:04:05', '1.5']],
      );
      expect((await engine.query(`SELECT * FROM ${q(schema)}.logical`)).rows).toEqual([
        {
          c0: 'x',
          c1: 1,
          c2: '9007199254740993',
          c3: 0.5,
          c4: true,
          c5: '2025-11-28',
          c6: '2025-11-28 13:04:05',
          c7: '1.500',
        },
      ]);
    });

    it('describes a view', async () => {
      await engine.replaceView(schema, 'described_v', `SELECT CAST(1 AS INTEGER) AS one`);
      expect((await engine.describe(schema, 'described_v'))?.map((c) => c.name)).toEqual(['one']);
    });

    it('loads text rows into a typed table, casting each value to its column', async () => {
      await engine.exec(
        `CREATE TABLE ${q(schema)}.loaded (i INTEGER, b BIGINT, d DOUBLE PRECISION, m DECIMAL(12,2), s VARCHAR, f BOOLEAN, dt DATE, ts TIMESTAMP)`,
      );
      const n = await engine.insertRows(
        schema,
        'loaded',
        ['i', 'b', 'd', 'm', 's', 'f', 'dt', 'ts'],
        [
          [
            '1',
            '9007199254740993',
            '1.5',
            '12.50',
            'plain',
            'true',
            '2025-11-28',
            '2025-11-28 13:04:05',
          ],
          ['2', null, null, null, '', 'false', null, null],
          [
            '3',
            '-1',
            '-0.25',
            '0.01',
            'a "quoted", comma\nnewline',
            null,
            '2024-02-29',
            '2024-02-29 00:00:00.5',
          ],
        ],
      );
      expect(n).toBe(3);
      const { rows } = await engine.query(`SELECT * FROM ${q(schema)}.loaded ORDER BY i`);
      expect(rows).toEqual([
        {
          i: 1,
          b: '9007199254740993',
          d: 1.5,
          m: '12.50',
          s: 'plain',
          f: true,
          dt: '2025-11-28',
          ts: '2025-11-28 13:04:05',
        },
        { i: 2, b: null, d: null, m: null, s: '', f: false, dt: null, ts: null },
        {
          i: 3,
          b: '-1',
          d: -0.25,
          m: '0.01',
          s: 'a "quoted", comma\nnewline',
          f: null,
          dt: '2024-02-29',
          ts: '2024-02-29 00:00:00.5',
        },
      ]);
    });

    it('loads a subset of columns, leaving the others to their defaults', async () => {
      await engine.exec(
        `CREATE TABLE ${q(schema)}.partial (a INTEGER, b VARCHAR, c INTEGER DEFAULT 9)`,
      );
      await engine.insertRows(schema, 'partial', ['b', 'a'], [['x', '1']]);
      expect((await engine.query(`SELECT * FROM ${q(schema)}.partial`)).rows).toEqual([
        { a: 1, b: 'x', c: 9 },
      ]);
    });

    it('loads 100,000 rows in one call', async () => {
      await engine.exec(
        `CREATE TABLE ${q(schema)}.bulk (id INTEGER, label VARCHAR, amount DECIMAL(12,2))`,
      );
      const rows = Array.from({ length: 100_000 }, (_, i) => [String(i), `row ${i}`, `${i}.25`]);
      expect(await engine.insertRows(schema, 'bulk', ['id', 'label', 'amount'], rows)).toBe(
        100_000,
      );
      const { rows: out } = await engine.query(
        `SELECT count(*) AS n, CAST(sum(id) AS BIGINT) AS ids, CAST(sum(amount) AS DECIMAL(18,2)) AS total FROM ${q(schema)}.bulk`,
      );
      expect(out[0]).toEqual({ n: '100000', ids: '4999950000', total: '4999975000.00' });
    });

    it('loads rows inside a transaction, and a rollback takes them back', async () => {
      await engine.exec(`CREATE TABLE ${q(schema)}.tx_load (a INTEGER)`);
      await engine.transaction(async (tx) => {
        await tx.insertRows(schema, 'tx_load', ['a'], [['1']]);
      });
      await expect(
        engine.transaction(async (tx) => {
          await tx.insertRows(schema, 'tx_load', ['a'], [['2'], ['3']]);
          await tx.replaceView(schema, 'tx_view', `SELECT a FROM ${q(schema)}.tx_load`);
          throw new Error('undo');
        }),
      ).rejects.toThrow('undo');
      expect((await engine.query(`SELECT a FROM ${q(schema)}.tx_load`)).rows).toEqual([{ a: 1 }]);
      expect((await engine.listTables(schema)).map((t) => t.name)).not.toContain('tx_view');
    });

    it('fails a load whose value does not fit its column, loading nothing', async () => {
      await engine.exec(`CREATE TABLE ${q(schema)}.bad_load (a INTEGER)`);
      await expect(engine.insertRows(schema, 'bad_load', ['a'], [['1'], ['x']])).rejects.toThrow(
        EngineError,
      );
      expect((await engine.query(`SELECT count(*) AS n FROM ${q(schema)}.bad_load`)).rows).toEqual([
        { n: '0' },
      ]);
    });

    it('merges with a standard MERGE statement when the engine has one', async () => {
      if (!engine.capabilities.mergeStatement) return;
      await engine.exec(
        `CREATE TABLE ${q(schema)}.merged (id INTEGER, v VARCHAR); INSERT INTO ${q(schema)}.merged VALUES (1, 'a'), (2, 'b')`,
      );
      await engine.exec(
        `MERGE INTO ${q(schema)}.merged AS t
         USING (SELECT 2 AS id, 'B' AS v UNION ALL SELECT 3, 'c') AS s ON t.id = s.id
         WHEN MATCHED THEN UPDATE SET v = s.v
         WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)`,
      );
      expect((await engine.query(`SELECT * FROM ${q(schema)}.merged ORDER BY id`)).rows).toEqual([
        { id: 1, v: 'a' },
        { id: 2, v: 'B' },
        { id: 3, v: 'c' },
      ]);
    });

    it('try-casts booleans, doubles, bigints and timestamps', async () => {
      const d = engine.dialect;
      const s = d.quoteString;
      const { rows } = await engine.query(
        `SELECT ${d.tryCast(s('yes'), 'boolean')} AS yes, ${d.tryCast(s('maybe'), 'boolean')} AS maybe,
                ${d.tryCast(s('1.5e3'), 'double')} AS dbl, ${d.tryCast(s('abc'), 'double')} AS no_dbl,
                ${d.tryCast(s('99999999999999999999'), 'bigint')} AS too_big, ${d.tryCast(s(' 12 '), 'bigint')} AS big,
                ${d.tryCast(s('2025-11-28 13:04:05'), 'timestamp')} AS ts, ${d.tryCast(s('nope'), 'timestamp')} AS no_ts,
                ${d.tryCast(s('123456.789'), 'decimal(5,2)')} AS overflow, ${d.tryCast(s('x'), 'string')} AS str`,
      );
      expect(rows[0]).toEqual({
        yes: true,
        maybe: null,
        dbl: 1500,
        no_dbl: null,
        too_big: null,
        big: '12',
        ts: '2025-11-28 13:04:05',
        no_ts: null,
        overflow: null,
        str: 'x',
      });
    });

    it('try-casts a column where only some values parse', async () => {
      const d = engine.dialect;
      const { rows } = await engine.query(
        `SELECT ${d.tryCast('v', 'date')} AS dt, ${d.tryCast('v', 'integer')} AS i
           FROM (SELECT '2025-11-28' AS v UNION ALL SELECT '42' UNION ALL SELECT NULL) t ORDER BY v`,
      );
      expect(rows).toEqual([
        { dt: '2025-11-28', i: null },
        { dt: null, i: 42 },
        { dt: null, i: null },
      ]);
    });
  });
}
