/**
 * What a killed process leaves outside the lake: files written atomically (to `.<name>.<hex>.tmp`
 * beside their target, then renamed) are half-written temporary files when the process dies
 * before the rename. The next process that takes the project removes them, as it does its
 * scratch folder, so nothing of a dead run stays behind. (Found by the crash campaign: a run
 * killed while writing a report left `.tributary/reports/.top_categories.json.<hex>.tmp`.)
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/orchestrator/index.js';
import { tempDir, withWorkspace, writeFiles } from '../helpers.js';

function project(): string {
  const dir = tempDir('trib-partial-');
  writeFiles(dir, {
    'tributary.yml': `name: p
sources:
  app:
    type: files
    path: landing
    tables:
      items: { files: "items*.csv" }
`,
    'contracts/items.yml': `columns:
  - { name: id, type: bigint, required: true }
`,
    'landing/items-1.csv': 'id\n1\n2\n',
    'models/_sources.yml': `version: 2
sources:
  - name: lake
    schema: processed
    tables: [{ name: items }]
`,
    'models/items_count.sql': `select count(*) as n from {{ source('lake', 'items') }}`,
    'reports/total.sql': `select n from {{ ref('items_count') }}`,
  });
  return dir;
}

const tmpFiles = (dir: string) =>
  readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.tmp'));

describe('partial writes of a killed process', () => {
  it('are removed from the reports folder by the next run, which writes the reports whole', async () => {
    const dir = project();
    const reports = join(dir, '.tributary/reports');
    writeFiles(reports, {
      '.total.csv.0123456789ab.tmp': 'n\n',
      '.total.json.ba9876543210.tmp': '{',
    });
    const result = await withWorkspace(dir, (ws) => runPipeline(ws));
    expect(result.status).toBe('succeeded');
    expect(tmpFiles(reports)).toEqual([]);
    expect(readdirSync(reports).sort()).toEqual(['total.csv', 'total.json']);
  });

  it('are removed from the top of .tributary (a server.json half written) when the project is opened', async () => {
    const dir = project();
    const work = join(dir, '.tributary');
    writeFiles(work, { '.server.json.0123456789ab.tmp': '{"url":' });
    await withWorkspace(dir, async () => undefined);
    expect(readdirSync(work).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('are removed from the serving folder when the project is opened', async () => {
    const dir = project();
    const serving = join(dir, '.tributary/serving');
    writeFiles(serving, { 'snap_dead.duckdb.tmp': 'half a database' });
    await withWorkspace(dir, async () => undefined);
    expect(tmpFiles(serving)).toEqual([]);
  });
});
