/**
 * The cases every database connector passes (PostgreSQL, MySQL/MariaDB): full and incremental
 * extraction, column choice, a connection dropped mid-stream followed by a re-run that lands
 * every row exactly once, and secrets kept out of messages. Each database's test file provides a
 * TestDb (how to run SQL and kill the extract) and adds its own type-mapping cases.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TributaryError, silentProgress } from '../../src/core/index.js';
import { LocalObjectStore, type ObjectStore } from '../../src/lake/index.js';
import type { DatabaseSourceTable, DatabaseTableConfig } from '../../src/project/index.js';
import {
  readRawManifest,
  sourceFor,
  type DatabaseBatch,
  type LandResult,
} from '../../src/sources/index.js';
import { describeSourceConformance } from './conformance.js';

export interface TestDb {
  kind: 'postgres' | 'mysql';
  url: string;
  /** A schema (postgres) or database (mysql) made for this test file, dropped after it. */
  namespace: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  exec(sql: string): Promise<void>;
  /** SQL that fills `table (id, pad)` with ids 1..n and a 100-character pad. */
  fill(table: string, n: number): string;
  /** Ends the connection running an extract of `table` once it is streaming; false if none found. */
  killExtract(table: string): Promise<boolean>;
}

let seq = 0;
/** A unique table name for one test. */
export const uniqueTable = (prefix: string) =>
  `${prefix}_${Date.now().toString(36)}_${seq++}_${Math.floor(Math.random() * 1e4)}`;

/** A project table for `dbTable` in the test namespace, with the URL read from an env var. */
export function tableFor(
  db: TestDb,
  dbTable: string,
  config: Partial<DatabaseTableConfig> = {},
  urlEnv = `TRIB_TEST_${db.kind.toUpperCase()}_URL`,
): DatabaseSourceTable {
  process.env[`TRIB_TEST_${db.kind.toUpperCase()}_URL`] = db.url;
  const tableConfig: DatabaseTableConfig = {
    table: `${db.namespace}.${dbTable}`,
    mode: 'full',
    parallel: 1,
    disposition: 'append',
    schema_evolution: 'evolve',
    ...config,
  };
  return {
    id: `app.${dbTable}`,
    source: 'app',
    table: dbTable,
    kind: db.kind,
    sourceConfig: { type: db.kind, url: { env: urlEnv }, tables: {} },
    tableConfig,
    format: 'csv',
    csv: { delimiter: ',', quote: '"', escape: '"', header: true },
    records: undefined,
    contract: { columns: [{ name: 'id', type: 'bigint', required: true }] },
    contractFile: 'contracts/x.yml',
    disposition: tableConfig.disposition,
    schemaEvolution: 'evolve',
  };
}

/** A fresh lake and a land() for a table. */
export function lakeFor(table: DatabaseSourceTable) {
  const store: ObjectStore = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'trib-db-lake-')));
  const tmpDir = mkdtempSync(join(tmpdir(), 'trib-db-tmp-'));
  const source = sourceFor(table);
  const land = (): Promise<LandResult> =>
    source.land({ store, progress: silentProgress, now: new Date(), tmpDir });
  const manifest = () => readRawManifest(store, table.source, table.table);
  /** Every landed batch's text, in manifest order. */
  const texts = async () =>
    Promise.all((await manifest()).batches.map(async (b) => (await store.get(b.key))!.toString()));
  /** Every landed row, parsed, header rows left out. */
  const rows = async () =>
    (await texts()).flatMap((t) => parse(t, { columns: true }) as Record<string, string>[]);
  return { store, land, manifest, texts, rows };
}

/**
 * Runs the shared database cases (and the source conformance suite) against `db`, then the
 * database's own cases (`own`), all inside the test namespace.
 */
export function describeDatabaseSource(db: TestDb, own: () => void): void {
  describe(`${db.kind} source`, () => {
    beforeAll(() => db.setup());
    afterAll(() => db.teardown());
    own();

    describe('conformance (full mode, a one-column table)', () => {
      describeSourceConformance(db.kind, async () => {
        const name = uniqueTable('conf');
        await db.exec(`CREATE TABLE ${db.namespace}.${name} (id bigint)`);
        const table = tableFor(db, name);
        return {
          source: sourceFor(table),
          sourceName: 'app',
          tableName: name,
          // Offering a CSV makes it the table's contents; a full extract lands the table as it is.
          offer: async (_n, bytes) => {
            const ids = bytes.trim().split('\n').slice(1);
            await db.exec(`DELETE FROM ${db.namespace}.${name}`);
            await db.exec(
              `INSERT INTO ${db.namespace}.${name} (id) VALUES ${ids.map((i) => `(${i})`).join(', ')}`,
            );
          },
          landsAs: (offered) => [offered.at(-1)!],
        };
      });
    });

    const orders = async () => {
      const name = uniqueTable('orders');
      await db.exec(
        `CREATE TABLE ${db.namespace}.${name} (id bigint PRIMARY KEY, customer varchar(40), amount decimal(12,2), secret_note varchar(40))`,
      );
      await db.exec(
        `INSERT INTO ${db.namespace}.${name} VALUES (1, 'ann', 10.50, 'x'), (2, 'bob', 20.00, NULL), (3, 'cy', 0.05, '')`,
      );
      return name;
    };

    it('full mode lands the whole table as one CSV batch with a header, each run', async () => {
      const name = await orders();
      const lake = lakeFor(tableFor(db, name));
      const first = await lake.land();
      expect(first.landed).toHaveLength(1);
      expect((first.landed[0] as DatabaseBatch).rows).toBe(3);
      const sorted = (await lake.rows()).sort((a, b) => Number(a.id) - Number(b.id));
      expect(sorted).toEqual([
        { id: '1', customer: 'ann', amount: '10.50', secret_note: 'x' },
        { id: '2', customer: 'bob', amount: '20.00', secret_note: '' },
        { id: '3', customer: 'cy', amount: '0.05', secret_note: '' },
      ]);
      await db.exec(`INSERT INTO ${db.namespace}.${name} VALUES (4, 'di', 1.00, NULL)`);
      const second = await lake.land();
      expect((second.landed[0] as DatabaseBatch).rows).toBe(4);
      const m = await lake.manifest();
      expect(m.batches).toHaveLength(2);
      expect(m.cursor?.[name]).toMatchObject({ snapshot: [second.landed[0]!.id], rows: 4 });
    });

    it('full mode lands nothing new when the table did not change', async () => {
      const name = await orders();
      const lake = lakeFor(tableFor(db, name, { disposition: 'replace' }));
      await lake.land();
      const again = await lake.land();
      expect(again.landed).toEqual([]);
      expect(again.unchanged).toBe(1);
      expect(again.warnings).toEqual([]);
    });

    it('full mode with disposition append warns that every change appends the table again', async () => {
      const name = await orders();
      const result = await lakeFor(tableFor(db, name)).land();
      expect(result.warnings.join('\n')).toMatch(/disposition: replace/);
    });

    it('writes NULL as an empty field and an empty string as "" ', async () => {
      const name = await orders();
      const lake = lakeFor(tableFor(db, name, { columns: ['id', 'secret_note'] }));
      await lake.land();
      const lines = (await lake.texts())[0]!.trim().split('\n').sort();
      expect(lines).toEqual(['1,x', '2,', '3,""', 'id,secret_note']);
    });

    it('extracts only the chosen columns, in the order given', async () => {
      const name = await orders();
      const lake = lakeFor(tableFor(db, name, { columns: ['amount', 'id'] }));
      await lake.land();
      expect((await lake.texts())[0]!.split('\n')[0]).toBe('amount,id');
    });

    it('names the table and column when a chosen column does not exist', async () => {
      const name = await orders();
      const err = await lakeFor(tableFor(db, name, { columns: ['id', 'nope'] }))
        .land()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TributaryError);
      expect((err as TributaryError).message).toBe(
        `column nope is not a column of ${db.namespace}.${name}`,
      );
    });

    it('incremental mode lands only rows past the committed cursor, in cursor order', async () => {
      const name = await orders();
      const table = tableFor(db, name, { mode: 'incremental', cursor: 'id' });
      const lake = lakeFor(table);
      await lake.land();
      expect((await lake.manifest()).cursor).toEqual({ [name]: '3' });
      await db.exec(
        `INSERT INTO ${db.namespace}.${name} VALUES (6, 'fay', 6.00, NULL), (5, 'ed', 5.00, NULL)`,
      );
      const second = await lake.land();
      expect((second.landed[0] as DatabaseBatch).rows).toBe(2);
      const texts = await lake.texts();
      expect(texts[1]!.split('\n').map((l) => l.split(',')[0])).toEqual(['id', '5', '6', '']);
      expect((await lake.manifest()).cursor).toEqual({ [name]: '6' });
    });

    it('incremental mode with no new rows lands nothing and keeps the cursor', async () => {
      const name = await orders();
      const lake = lakeFor(tableFor(db, name, { mode: 'incremental', cursor: 'id' }));
      await lake.land();
      const version = (await lake.manifest()).version;
      const again = await lake.land();
      expect(again.landed).toEqual([]);
      expect((await lake.manifest()).version).toBe(version);
    });

    it('a dropped connection mid-stream commits nothing, and a re-run lands every row once', async () => {
      const name = uniqueTable('big');
      const n = 400_000;
      await db.exec(`CREATE TABLE ${db.namespace}.${name} (id bigint PRIMARY KEY, pad text)`);
      await db.exec(db.fill(name, n));
      const lake = lakeFor(tableFor(db, name, { mode: 'incremental', cursor: 'id' }));
      const running = lake.land().catch((e: unknown) => e);
      expect(await db.killExtract(name)).toBe(true);
      const err = await running;
      expect(err).toBeInstanceOf(TributaryError);
      const message = (err as TributaryError).format();
      expect(message).toMatch(
        new RegExp(`lost the connection to ${db.kind} 127\\.0\\.0\\.1:\\d+/\\w+ while extracting`),
      );
      expect(message).toContain(`${db.namespace}.${name}`);
      expect((await lake.manifest()).batches).toEqual([]);
      expect((await lake.manifest()).cursor).toBeUndefined();

      const rerun = await lake.land();
      expect((rerun.landed[0] as DatabaseBatch).rows).toBe(n);
      const ids = (await lake.rows()).map((r) => Number(r.id));
      expect(ids).toHaveLength(n);
      expect(new Set(ids).size).toBe(n);
      expect((await lake.manifest()).cursor).toEqual({ [name]: String(n) });
    }, 60_000);

    it('never puts the password of the connection URL in an error message', async () => {
      const name = await orders();
      const url = new URL(db.url);
      url.username = url.username || 'root';
      url.password = 'Sup3r-Secret-Pw';
      process.env.TRIB_TEST_SECRET_URL = url.toString();
      const missing = tableFor(
        db,
        name,
        { table: `${db.namespace}.no_such_table` },
        'TRIB_TEST_SECRET_URL',
      );
      const refused = tableFor(db, name, {}, 'TRIB_TEST_SECRET_URL');
      url.port = '1';
      process.env.TRIB_TEST_SECRET_URL_DOWN = url.toString();
      const down = tableFor(db, name, {}, 'TRIB_TEST_SECRET_URL_DOWN');
      for (const t of [missing, refused, down]) {
        const err = await lakeFor(t)
          .land()
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        if (err === undefined) continue; // trust authentication may accept any password
        expect(err).toBeInstanceOf(TributaryError);
        const text = `${(err as TributaryError).format()} ${String((err as Error).stack)}`;
        expect(text).not.toContain('Sup3r-Secret-Pw');
      }
      const downErr = await lakeFor(down)
        .land()
        .catch((e: unknown) => e);
      expect((downErr as TributaryError).message).toMatch(
        new RegExp(`^cannot connect to ${db.kind} 127\\.0\\.0\\.1:1/`),
      );
    });

    it('says which environment variable is missing when the URL secret is not set', async () => {
      const name = await orders();
      const err = await lakeFor(tableFor(db, name, {}, 'TRIB_TEST_UNSET_URL_VARIABLE'))
        .land()
        .catch((e: unknown) => e);
      expect((err as TributaryError).message).toBe(
        'environment variable TRIB_TEST_UNSET_URL_VARIABLE is not set',
      );
    });
  });
}
