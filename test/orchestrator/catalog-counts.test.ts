/**
 * The catalog's row count of a warehouse table is the rows the table holds. An incremental model
 * or a snapshot writes only a batch of rows on a later run; the catalog still counts the whole
 * table. (Found by the crash campaign: a run killed after fct_sales was built, before its build
 * was recorded, rebuilt it incrementally on recovery, and the catalog then gave fct_sales the
 * rows of that small merge instead of the table's.)
 */
import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/orchestrator/index.js';
import { tempDir, withWorkspace, writeFiles } from '../helpers.js';

function project(): string {
  const dir = tempDir('trib-counts-');
  writeFiles(dir, {
    'tributary.yml': `name: c
sources:
  app:
    type: files
    path: landing
    tables:
      items: { files: "items*.csv" }
`,
    'contracts/items.yml': `primary_key: [id]
columns:
  - { name: id, type: bigint, required: true }
`,
    'landing/items-1.csv': 'id\n1\n2\n3\n',
    'models/_sources.yml': `version: 2
sources:
  - name: lake
    schema: processed
    tables: [{ name: items }]
`,
    'models/items_inc.sql': `{{ config(materialized='incremental', unique_key='id') }}
select id from {{ source('lake', 'items') }}
{% if is_incremental() %}where id > (select max(id) from {{ this }}){% endif %}`,
    'snapshots/items_snapshot.sql': `{% snapshot items_snapshot %}
{{ config(target_schema='snapshots', unique_key='id', strategy='check', check_cols='all') }}
select id from {{ source('lake', 'items') }}
{% endsnapshot %}`,
  });
  return dir;
}

/** The catalog's row count of each warehouse table after a first run and a run of two new rows. */
async function countsAfterSecondRun(): Promise<Record<string, number | null>> {
  const dir = project();
  expect((await withWorkspace(dir, (ws) => runPipeline(ws))).status).toBe('succeeded');
  writeFiles(dir, { 'landing/items-2.csv': 'id\n4\n5\n' });
  expect((await withWorkspace(dir, (ws) => runPipeline(ws))).status).toBe('succeeded');
  const catalog = await withWorkspace(dir, (ws) => ws.state.listCatalog());
  return Object.fromEntries(
    catalog.filter((e) => e.zone === 'warehouse').map((e) => [e.name, e.rowCount]),
  );
}

describe('the catalog of the warehouse', () => {
  it('counts every row of an incremental model, not the rows its last run merged', async () => {
    expect((await countsAfterSecondRun())['main.items_inc']).toBe(5);
  });

  it('counts every row of a snapshot, not the versions its last run added', async () => {
    expect((await countsAfterSecondRun())['snapshots.items_snapshot']).toBe(5);
  });
});
