/**
 * A REST source in a project, end to end through processing: nested records map to contract
 * columns by dotted path, `child_tables` land as tables of their own linked to the parent's key,
 * overlapping incremental runs put each record in the processed table once, and a custom module
 * lands like a configured endpoint.
 */
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadProject, ProblemsError } from '../../../src/project/index.js';
import { runPipeline } from '../../../src/orchestrator/index.js';
import { tempDir, withWorkspace, writeFiles } from '../../helpers.js';
import { startApi } from './harness.js';

interface Charge {
  id: string;
  created: number;
  money: { amount: number };
  items?: { sku: string }[];
}

function project(url: string, extraFiles: Record<string, string> = {}): string {
  const dir = tempDir('trib-rest-proj-');
  writeFiles(dir, {
    'tributary.yml': `name: t
sources:
  api:
    type: rest
    base_url: ${url}
    tables:
      charges:
        path: /charges
        records: data
        primary_key: [id]
        incremental: { cursor_field: created, param: "created[gte]" }
        child_tables: { charge_items: items }
`,
    'contracts/charges.yml': `primary_key: [charge_id]
columns:
  - { name: charge_id, type: string, required: true, from: id }
  - { name: created, type: bigint, required: true }
  - { name: amount, type: bigint, from: money.amount }
`,
    'contracts/charge_items.yml': `primary_key: [charges_id, _index]
columns:
  - { name: charges_id, type: string, required: true, references: charges.charge_id }
  - { name: _index, type: integer, required: true }
  - { name: sku, type: string }
`,
    ...extraFiles,
  });
  return dir;
}

async function chargesApi(charges: Charge[]) {
  return startApi((url) => {
    const gte = Number(url.searchParams.get('created[gte]') ?? 0);
    return { data: charges.filter((c) => c.created >= gte) };
  });
}

async function rows(dir: string, sql: string) {
  return withWorkspace(dir, async (ws) => {
    const run = await runPipeline(ws);
    const failed = run.steps.filter((s) => s.status === 'failed');
    expect(failed).toEqual([]);
    return (await ws.warehouse.query(sql)).rows;
  });
}

describe('a REST source through processing', () => {
  it('loads child tables as tables of the source, each with its own contract', async () => {
    const project_ = await loadProject(project('http://127.0.0.1:9'));
    const child = project_.tables.find((t) => t.table === 'charge_items')!;
    expect(child).toMatchObject({
      id: 'api.charge_items',
      kind: 'rest',
      parent: { table: 'charges', path: 'items' },
    });
  });

  it('refuses a child table without a contract, naming the file it looked for', async () => {
    const dir = project('http://127.0.0.1:9');
    rmSync(`${dir}/contracts/charge_items.yml`);
    const err = await loadProject(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProblemsError);
    expect((err as ProblemsError).format()).toMatch(/charge_items\.yml.*file not found/);
  });

  it('processes nested fields (BIGINT arrives as text) and child rows linked to the parent key', async () => {
    const api = await chargesApi([
      { id: 'ch_1', created: 10, money: { amount: 500 }, items: [{ sku: 'A' }, { sku: 'B' }] },
      { id: 'ch_2', created: 20, money: { amount: 700 } },
    ]);
    const dir = project(api.url);
    expect(
      await rows(dir, 'SELECT charge_id, created, amount FROM processed.charges ORDER BY 1'),
    ).toEqual([
      { charge_id: 'ch_1', created: '10', amount: '500' },
      { charge_id: 'ch_2', created: '20', amount: '700' },
    ]);
    expect(
      await rows(dir, 'SELECT charges_id, _index, sku FROM processed.charge_items ORDER BY 1, 2'),
    ).toEqual([
      { charges_id: 'ch_1', _index: 0, sku: 'A' },
      { charges_id: 'ch_1', _index: 1, sku: 'B' },
    ]);
  });

  it('puts each record in the processed table once across overlapping incremental runs', async () => {
    const charges: Charge[] = [
      { id: 'ch_1', created: 10, money: { amount: 1 } },
      { id: 'ch_2', created: 20, money: { amount: 2 } },
    ];
    const api = await chargesApi(charges);
    const dir = project(api.url);
    await rows(dir, 'SELECT 1');
    // ch_2 is fetched again (created >= 20) and has changed meanwhile, so it lands again; a new
    // charge shares its second.
    charges[1]!.money.amount = 3;
    charges.push({ id: 'ch_3', created: 20, money: { amount: 4 } });
    const processed = await rows(
      dir,
      'SELECT charge_id, count(*) AS n FROM processed.charges GROUP BY 1 ORDER BY 1',
    );
    expect(processed).toEqual([
      { charge_id: 'ch_1', n: '1' },
      { charge_id: 'ch_2', n: '1' },
      { charge_id: 'ch_3', n: '1' },
    ]);
  });

  it('lands what a custom module yields, and hands it the stored cursor on the next run', async () => {
    const api = await startApi((url) => ({
      page: Number(url.searchParams.get('p')),
      rows: url.searchParams.get('p') === '1' ? [{ key: 'x', t: 5 }] : [],
    }));
    const dir = tempDir('trib-rest-mod-');
    writeFiles(dir, {
      'tributary.yml': `name: t
sources:
  api:
    type: rest
    base_url: ${api.url}
    tables:
      things:
        path: /things
        module: ./connectors/things.mjs
        incremental: { cursor_field: t, param: since }
`,
      'contracts/things.yml': `columns:
  - { name: key, type: string, required: true }
  - { name: t, type: bigint }
`,
      'connectors/things.mjs': `export async function* fetch(ctx) {
  for (let p = 1; ; p++) {
    const body = await ctx.get('/things?p=' + p + '&since=' + (ctx.cursor ?? 0));
    if (!body.rows.length) return;
    yield body.rows;
  }
}
`,
    });
    expect(await rows(dir, 'SELECT key, t FROM processed.things')).toEqual([{ key: 'x', t: '5' }]);
    await rows(dir, 'SELECT 1');
    expect(api.requests.map((r) => r.url.search)).toEqual([
      '?p=1&since=0',
      '?p=2&since=0',
      '?p=1&since=5',
      '?p=2&since=5',
    ]);
  });
});
