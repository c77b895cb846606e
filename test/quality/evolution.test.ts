/**
 * Schema evolution of connector tables: a new column is added and becomes a new schema version;
 * a column whose values outgrow their type is widened (declared columns losslessly: integer →
 * bigint, date → timestamp; added columns also → double); values of a declared column that fit
 * nothing are quarantined by the contract; an added column's other type changes follow the
 * table's policy: evolve (to string), freeze (the batch is refused, naming the column) or
 * discard_row (rows to quarantine).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentProgress } from '../../src/core/index.js';
import { openDuckDB, type Engine } from '../../src/engines/index.js';
import { LocalObjectStore, type RawBatch } from '../../src/lake/index.js';
import type { DatabaseSourceTable, SchemaEvolution } from '../../src/project/index.js';
import { registerLakeViews } from '../../src/catalog/index.js';
import { processTable } from '../../src/quality/index.js';
import { commitRawBatches } from '../../src/sources/index.js';

let engine: Engine;
beforeAll(async () => {
  engine = await openDuckDB({ path: ':memory:' });
});
afterAll(() => engine.close());

function setup(policy: SchemaEvolution) {
  const root = mkdtempSync(join(tmpdir(), 'trib-evo-'));
  const store = new LocalObjectStore(join(root, 'lake'));
  const table = {
    id: 'app.accounts',
    source: 'app',
    table: 'accounts',
    kind: 'postgres',
    format: 'csv',
    csv: { delimiter: ',', quote: '"', escape: '"', header: true },
    records: undefined,
    contract: {
      primary_key: ['id'],
      columns: [
        { name: 'id', type: 'integer', required: true },
        { name: 'opened', type: 'date' },
      ],
    },
    contractFile: 'contracts/accounts.yml',
    disposition: 'append',
    schemaEvolution: policy,
  } as unknown as DatabaseSourceTable;
  let n = 0;
  const land = async (csv: string) => {
    const path = join(root, `batch-${++n}.csv`);
    writeFileSync(path, csv);
    const key = `raw/app/accounts/ingest_date=2026-01-01/${n}.csv`;
    await store.putFile(key, path);
    const batch: RawBatch = {
      id: String(n).padEnd(64, '0'), // file names take the first 16 characters
      key,
      originalName: `public.accounts #${n}`,
      bytes: csv.length,
      ingestedAt: new Date().toISOString(),
    };
    await commitRawBatches(store, 'app', 'accounts', [batch]);
  };
  const process = () =>
    processTable(
      { engine, store, tmpDir: join(root, 'tmp'), progress: silentProgress },
      table,
      new Map(),
    );
  /** The table's rows through its warehouse view, as a model would read them. */
  const viewRows = async () => {
    const manifest = (await process()).manifest;
    await registerLakeViews(engine, store, manifest);
    return (await engine.query('SELECT * EXCLUDE (_loaded_at) FROM processed.accounts ORDER BY id'))
      .rows;
  };
  return { land, process, viewRows };
}

describe('schema evolution of connector tables', () => {
  it('adds a new column and records it in the processed schema', async () => {
    const { land, process } = setup('evolve');
    await land('id,opened\n1,2025-01-01\n');
    await process();
    await land('id,opened,plan\n2,2025-01-02,pro\n');
    const r = await process();
    expect(r.manifest.columns).toEqual([
      { name: 'id', type: 'integer' },
      { name: 'opened', type: 'date' },
      { name: 'plan', type: 'string' },
      { name: '_loaded_at', type: 'timestamp' },
    ]);
    expect(r.rowsOut).toBe(1);
  });

  it('widens a column whose values outgrow its type, whatever the policy', async () => {
    for (const policy of ['evolve', 'freeze', 'discard_row'] as const) {
      const { land, process } = setup(policy);
      await land('id,opened\n1,2025-01-01\n');
      await process();
      await land('id,opened\n9000000000,2025-01-02 10:30:00\n');
      const r = await process();
      expect(r.manifest.columns, policy).toEqual([
        { name: 'id', type: 'bigint' },
        { name: 'opened', type: 'timestamp' },
        { name: '_loaded_at', type: 'timestamp' },
      ]);
      expect(r.rowsRejected, policy).toBe(0);
    }
  });

  it('widens a column added by evolution further, to double', async () => {
    const { land, process } = setup('evolve');
    await land('id,opened,score\n1,2025-01-01,7\n');
    await process();
    await land('id,opened,score\n2,2025-01-02,7.5\n');
    const r = await process();
    expect(r.manifest.columns[2]).toEqual({ name: 'score', type: 'double' });
  });

  it('quarantines values of a declared column that fit no wider type, whatever the policy', async () => {
    for (const policy of ['evolve', 'freeze', 'discard_row'] as const) {
      const { land, process } = setup(policy);
      await land('id,opened\n1,2025-01-01\n');
      await process();
      await land('id,opened\n2,soon\n3,2025-03-03\n');
      const r = await process();
      expect(r.manifest.columns[1], policy).toEqual({ name: 'opened', type: 'date' });
      expect(r.reasons, policy).toEqual({ type: 1 });
    }
  });

  it('evolve turns an added column whose values fit no wider type into a string', async () => {
    const { land, process } = setup('evolve');
    await land('id,opened,score\n1,2025-01-01,7\n');
    await process();
    await land('id,opened,score\n2,2025-01-02,high\n');
    const r = await process();
    expect(r.manifest.columns[2]).toEqual({ name: 'score', type: 'string' });
    expect(r.rowsOut).toBe(1);
  });

  it('freeze refuses a batch whose added column changed type, naming the column and the value', async () => {
    const { land, process } = setup('freeze');
    await land('id,opened,score\n1,2025-01-01,7\n');
    await process();
    await land('id,opened,score\n2,2025-01-02,high\n');
    const r = await process();
    expect(r.rejectedFiles).toHaveLength(1);
    expect(r.rejectedFiles[0]!.error.message).toMatch(
      /column score changed type: 'high' is not bigint, and the table's schema_evolution is freeze/,
    );
    expect(r.manifest.columns[2]).toEqual({ name: 'score', type: 'bigint' });
  });

  it("discard_row keeps an added column's type and sends the rows that do not fit to quarantine", async () => {
    const { land, process } = setup('discard_row');
    await land('id,opened,score\n1,2025-01-01,7\n');
    await process();
    await land('id,opened,score\n2,2025-01-02,high\n3,2025-01-03,9\n');
    const r = await process();
    expect(r.manifest.columns[2]).toEqual({ name: 'score', type: 'bigint' });
    expect(r.rowsOut).toBe(1);
    expect(r.reasons).toEqual({ type: 1 });
  });

  it('reads files written before a column was added or widened, aligned by name', async () => {
    const { land, process, viewRows } = setup('evolve');
    await land('id,opened\n1,2025-01-01\n');
    await process();
    await land('id,opened,extra2\n2,2025-01-02,x\n');
    await process();
    await land('id,opened,extra2\n9000000000,2025-01-03 10:30:00,y\n');
    // Run after run the view reads every file: the oldest lacks extra2, the two first hold
    // integers and dates where the table now has bigint and timestamp.
    for (let i = 0; i < 2; i++) {
      expect(await viewRows()).toEqual([
        { id: '1', opened: '2025-01-01 00:00:00', extra2: null },
        { id: '2', opened: '2025-01-02 00:00:00', extra2: 'x' },
        { id: '9000000000', opened: '2025-01-03 10:30:00', extra2: 'y' },
      ]);
    }
  });
});
