/**
 * What the catalog says after runs that did only part of the work, as the crash campaign
 * (test/e2e/crash-campaign) found them: a run after a crash still writes the raw zone's entry,
 * and a warehouse table's row count is the rows it holds, whatever its last build wrote.
 */
import { describe, expect, it } from 'vitest';
import { executeAsset, runPipeline, type Workspace } from '../../src/orchestrator/index.js';
import { tempDir, withWorkspace, writeFiles } from '../helpers.js';

/** items.csv → processed.items → an incremental model and a snapshot of it. */
function project(): string {
  const dir = tempDir('trib-catalog-');
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

/**
 * The workspace as a processed step sees it in a process that dies right after its commit: the
 * state writes it starts in the background (the catalog) never land.
 */
function dyingAfterCommit(ws: Workspace): Workspace {
  return {
    ...ws,
    state: Object.create(ws.state, { atomically: { value: async () => undefined } }),
  };
}

describe('the catalog after a process died right after a processed table committed', () => {
  it('has the raw zone entry again once the next run is done', async () => {
    const dir = project();
    await withWorkspace(dir, (ws) =>
      runPipeline(ws, {
        executor: (ctx, asset) =>
          executeAsset(
            asset.kind === 'processed' ? { ...ctx, ws: dyingAfterCommit(ws) } : ctx,
            asset,
          ),
      }),
    );
    const catalog = await withWorkspace(dir, async (ws) => {
      expect((await runPipeline(ws)).status).toBe('succeeded');
      return ws.state.listCatalog();
    });
    expect(catalog.filter((e) => e.zone === 'raw').map((e) => [e.name, e.rowCount])).toEqual([
      ['app.items', 3],
    ]);
  });
});

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
