import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { duckdbCatalogOf, openDuckDB, openDuckDBLazily } from '../../src/engines/index.js';
import { describeEngineConformance } from './conformance.js';

describeEngineConformance('duckdb (in memory)', () => openDuckDB({ path: ':memory:' }));
describeEngineConformance('duckdb (file)', () =>
  openDuckDB({ path: join(mkdtempSync(join(tmpdir(), 'trib-duck-')), 'w.duckdb') }),
);
describeEngineConformance('duckdb (in memory, opened on first use)', () =>
  Promise.resolve(openDuckDBLazily(':memory:')),
);
describeEngineConformance('duckdb (file, opened on first use)', () =>
  Promise.resolve(openDuckDBLazily(join(mkdtempSync(join(tmpdir(), 'trib-duck-')), 'w.duckdb'))),
);

describe('the catalog of a DuckDB database, without opening it', () => {
  // Each name DuckDB is asked for, against what current_database() says once it is opened.
  const names = ['dev.duckdb', 'a.b.duckdb', 'main.duckdb', 'temp.db', 'noext', 'x-y z.duckdb'];
  it.each(names)('%s: the same catalog the opened database reports', async (name) => {
    const path = join(mkdtempSync(join(tmpdir(), 'trib-duck-')), name);
    const engine = await openDuckDB({ path });
    try {
      const { rows } = await engine.query('SELECT current_database() AS c');
      expect(duckdbCatalogOf(path)).toBe(rows[0]?.c);
    } finally {
      await engine.close();
    }
  });

  it('says nothing for names it cannot tell (the database is then opened and asked)', () => {
    expect(duckdbCatalogOf(':memory:')).toBe('memory');
    expect(duckdbCatalogOf('/w/.hidden.duckdb')).toBeUndefined();
    expect(duckdbCatalogOf('md:my_db')).toBeUndefined();
    expect(duckdbCatalogOf('/w/dev..duckdb')).toBeUndefined();
  });
});
