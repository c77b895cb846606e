/**
 * The masked copy of a DuckDB file (engines/duckdb/mask.ts): tables rewritten with masked values
 * (in place when a foreign key keeps them from being replaced), views redefined to mask their
 * output whatever their names and column aliases, views reading a masked relation masked too,
 * types kept, NULL kept, and the source file untouched.
 */
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { MASK_TEXT, writeMaskedCopy } from '../../src/engines/index.js';
import { tempDir } from '../helpers.js';

async function withDb<T>(
  file: string,
  fn: (run: (sql: string) => Promise<unknown[]>) => Promise<T>,
) {
  const instance = await DuckDBInstance.create(file);
  const c = await instance.connect();
  try {
    return await fn(async (sql) => (await c.runAndReadAll(sql)).getRowObjectsJson());
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

describe('writeMaskedCopy', () => {
  it('masks tables, views and what views derive from them; leaves the source alone', async () => {
    const dir = tempDir('trib-mask-');
    const source = join(dir, 'w.duckdb');
    const target = join(dir, 'w.masked.duckdb');
    await withDb(source, async (run) => {
      await run('CREATE SCHEMA crm');
      await run(
        `CREATE TABLE crm.people (id INTEGER PRIMARY KEY, email VARCHAR, born DATE, town VARCHAR)`,
      );
      await run(
        `INSERT INTO crm.people VALUES (1, 'a@x.org', DATE '1980-01-02', 'Oslo'), (2, NULL, NULL, 'Rome')`,
      );
      // A foreign key to it: DuckDB cannot replace crm.people, so it is masked in place.
      await run(
        'CREATE TABLE crm.visits (person INTEGER REFERENCES crm.people (id), visited DATE)',
      );
      await run(`INSERT INTO crm.visits VALUES (1, DATE '2024-01-01')`);
      await run(`CREATE TABLE main.leads (name VARCHAR, phone VARCHAR)`);
      await run(`INSERT INTO main.leads VALUES ('Ann', '555-1')`);
      await run(
        `CREATE VIEW crm."the view" (who, mail) AS SELECT town, upper(email) FROM crm.people`,
      );
      await run(`CREATE VIEW main.derived AS SELECT id, email || '!' AS shout FROM crm.people`);
    });
    const masked = await writeMaskedCopy(source, target, {
      'crm.people': ['EMAIL', 'born', 'no_such_column'],
      'main.leads': ['phone'],
      'crm.the view': ['mail'],
      'main.nowhere': ['x'],
    });
    expect(masked).toEqual({
      columns: {
        'crm.people': ['email', 'born'],
        'main.leads': ['phone'],
        'crm.the view': ['mail'],
      },
      withheld: [],
    });
    await withDb(target, async (run) => {
      expect(await run('SELECT id, email, born, town FROM crm.people ORDER BY id')).toEqual([
        { id: 1, email: MASK_TEXT, born: null, town: 'Oslo' },
        { id: 2, email: null, born: null, town: 'Rome' },
      ]);
      expect(
        await run("SELECT data_type FROM duckdb_columns() WHERE column_name = 'born'"),
      ).toEqual([{ data_type: 'DATE' }]);
      expect(await run('SELECT name, phone FROM main.leads')).toEqual([
        { name: 'Ann', phone: MASK_TEXT },
      ]);
      expect(await run('SELECT who, mail FROM crm."the view" ORDER BY who')).toEqual([
        { who: 'Oslo', mail: MASK_TEXT },
        { who: 'Rome', mail: null },
      ]);
      // A view reading the masked table derives from masked values.
      expect(await run('SELECT shout FROM main.derived ORDER BY id')).toEqual([
        { shout: `${MASK_TEXT}!` },
        { shout: null },
      ]);
      expect(await run('SELECT count(*) AS n FROM crm.visits')).toEqual([{ n: '1' }]);
    });
    await withDb(source, async (run) => {
      expect(await run('SELECT email FROM crm.people WHERE id = 1')).toEqual([
        { email: 'a@x.org' },
      ]);
    });
  });
});
