import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDuckDB, openInMemoryDuckDBLazily } from '../../src/engines/index.js';
import { describeEngineConformance } from './conformance.js';

describeEngineConformance('duckdb (in memory)', () => openDuckDB({ path: ':memory:' }));
describeEngineConformance('duckdb (file)', () =>
  openDuckDB({ path: join(mkdtempSync(join(tmpdir(), 'trib-duck-')), 'w.duckdb') }),
);
describeEngineConformance('duckdb (in memory, opened on first use)', () =>
  Promise.resolve(openInMemoryDuckDBLazily()),
);
