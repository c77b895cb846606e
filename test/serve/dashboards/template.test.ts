/**
 * The e-commerce template's dashboards on a real warehouse: the template is generated at a small
 * scale and run through the pipeline, then every tile runs with the default filters and with a
 * category and a region chosen, the revenue KPI is checked against the fact table, and the
 * clickstream dashboard's last-hour and funnel tiles against the events and sessions.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTemplateCrm, startTemplateCrm, type CrmStandIn } from '../../crm-standin.js';
import { generateWithOwnCollector } from '../../../src/cli/commands/generate.js';
import { initProject } from '../../../src/cli/commands/init.js';
import { silentProgress } from '../../../src/core/index.js';
import { loadProject } from '../../../src/project/index.js';
import {
  publishServingSnapshot,
  runPipeline,
  servingDir,
} from '../../../src/orchestrator/index.js';
import { QuerySandbox } from '../../../src/serve/sandbox.js';
import {
  QueryCache,
  filterOptions,
  findDashboard,
  findTile,
  isTileFailure,
  loadDashboards,
  runDashboard,
  runTile,
  tileCsv,
  type Dashboard,
  type TileResult,
} from '../../../src/serve/dashboards/index.js';
import type { GenerateReport } from '../../../templates/ecommerce/generator/index.js';
import { tempDir, withWorkspace } from '../../helpers.js';
import { TestRunner } from './runner.js';

let dir: string;
let crm: CrmStandIn | undefined;
let runner: TestRunner;
let dashboards: Dashboard[];
let serving: string;
let generated: GenerateReport;

beforeAll(async () => {
  dir = await initProject(join(tempDir('trib-dash-e2e-'), 'shop'), 'ecommerce');
  // The template's last step syncs customers to the CRM: its stand-in listens meanwhile.
  crm = await startTemplateCrm();
  connectTemplateCrm(dir);
  ({ report: generated } = await generateWithOwnCollector(dir, {
    scale: 0.01,
    seed: 11,
    progress: silentProgress,
  }));
  const run = await withWorkspace(dir, async (ws) => {
    const result = await runPipeline(ws);
    await publishServingSnapshot(ws);
    serving = servingDir(ws);
    return result;
  });
  expect(run.status).toBe('succeeded');
  const project = await loadProject(dir);
  runner = await TestRunner.open(project.paths.warehouse);
  dashboards = await loadDashboards(dir);
});

afterAll(async () => {
  await runner?.close();
  await crm?.close();
});

/** Every tile's result, failing with the tile's id and error when one failed. */
function succeeded(result: Awaited<ReturnType<typeof runDashboard>>): Record<string, TileResult> {
  const failures = Object.values(result.tiles).filter(isTileFailure);
  expect(failures).toEqual([]);
  return result.tiles as Record<string, TileResult>;
}

describe('the e-commerce template dashboards', () => {
  it('are the four of seed 004 and the clickstream one', () => {
    expect(dashboards.map((d) => [d.name, d.title])).toEqual([
      ['clickstream', 'Clickstream'],
      ['customer', 'Customer'],
      ['executive', 'Executive'],
      ['geographic', 'Geographic'],
      ['product', 'Product'],
    ]);
  });

  it('run every tile with the default filters, each returning rows', async () => {
    for (const d of dashboards) {
      const tiles = succeeded(await runDashboard(runner, d));
      for (const [id, t] of Object.entries(tiles)) {
        expect({ dashboard: d.name, tile: id, rows: t.rows.length > 0 }).toEqual({
          dashboard: d.name,
          tile: id,
          rows: true,
        });
        if (t.type === 'kpi')
          expect({ tile: id, value: t.value }).not.toEqual({ tile: id, value: null });
      }
    }
  });

  it('run every tile with a category and a region chosen from the filters’ options', async () => {
    for (const d of dashboards.filter((x) => x.filters.some((f) => f.name === 'category'))) {
      const options = await filterOptions(runner, d);
      expect(options.category!.length).toBeGreaterThan(5);
      expect(options.region).toContain('Online');
      const filters = { category: options.category![0]!, region: 'Northeast' };
      const tiles = succeeded(await runDashboard(runner, d, filters));
      expect(Object.keys(tiles)).toEqual(d.tiles.map((t) => t.id));
    }
  });

  it('run every tile over a single month, whose KPIs compare with the month before', async () => {
    for (const d of dashboards) {
      const tiles = succeeded(await runDashboard(runner, d, { period: '2025-03-01..2025-03-31' }));
      for (const t of Object.values(tiles))
        if (t.type === 'kpi' && t.previousPeriod)
          expect(t.previousPeriod.period).toEqual({ from: '2025-01-29', to: '2025-02-28' });
    }
  });

  it('show the revenue of the fact table for the same date range', async () => {
    const executive = findDashboard(dashboards, 'executive');
    const revenueOf = async (from: string, to: string) => {
      const { rows } = await runner.query(
        'select sum(net_amount) as revenue from fct_sales where cast(order_ts as date) between cast($from as date) and cast($to as date)',
        { from, to },
      );
      return rows[0]!.revenue;
    };
    const all = await runTile(runner, executive, findTile(executive, 'revenue'));
    expect(all.value).toBe(await revenueOf('2024-01-01', '2025-12-31'));
    const { rows } = await runner.query('select sum(net_amount) as revenue from fct_sales');
    expect(all.value).toBe(rows[0]!.revenue);
    const q2 = await runTile(runner, executive, findTile(executive, 'revenue'), {
      period_from: '2025-04-01',
      period_to: '2025-06-30',
    });
    expect(q2.value).toBe(await revenueOf('2025-04-01', '2025-06-30'));
    expect(q2.previous).toBe(await revenueOf('2024-12-31', '2025-03-31'));
    expect(q2.change).toBeCloseTo(Number(q2.value) / Number(q2.previous) - 1, 12);
  });

  it('split revenue by region, state and city into the same total', async () => {
    const geo = findDashboard(dashboards, 'geographic');
    const tiles = succeeded(await runDashboard(runner, geo));
    const total = Number(tiles.revenue!.value);
    for (const id of ['revenue_by_region', 'revenue_by_state', 'revenue_by_city']) {
      const sum = tiles[id]!.rows.reduce((s, r) => s + Number(r.revenue), 0);
      expect({ id, sum: sum.toFixed(2) }).toEqual({ id, sum: total.toFixed(2) });
    }
  });

  it('count each active customer once a month as new or returning, and cohorts start at 100%', async () => {
    const customer = findDashboard(dashboards, 'customer');
    const tiles = succeeded(await runDashboard(runner, customer));
    const newTotal = tiles
      .new_vs_returning!.rows.filter((r) => r.customer_type === 'New')
      .reduce((s, r) => s + Number(r.customers), 0);
    expect(newTotal).toBe(Number(tiles.new_customers!.value));
    const firstCells = tiles.cohort_retention!.rows.filter((r) => Number(r.months_since) === 0);
    expect(firstCells.length).toBeGreaterThan(0);
    for (const r of firstCells) expect(r.retention).toBe(1);
    const segments = tiles.rfm_segments!.rows.reduce((s, r) => s + Number(r.customers), 0);
    expect(segments).toBe(Number(tiles.active_customers!.value));
  });

  it('count the events that arrived in the last hour, by minute, and the funnel of the sessions', async () => {
    const click = findDashboard(dashboards, 'clickstream');
    const tiles = succeeded(await runDashboard(runner, click));
    // Every event arrived at the collector seconds ago, in this test's replay.
    expect(Number(tiles.events_last_hour!.value)).toBe(generated.expected.clickstream!.valid);
    const perMinute = tiles.events_per_minute!.rows;
    expect(perMinute).toHaveLength(60);
    expect(perMinute.reduce((s, r) => s + Number(r.events), 0)).toBe(
      generated.expected.clickstream!.valid,
    );
    const { rows } = await runner.query(
      'select count(*) as sessions, sum(case when converted then 1 else 0 end) as converted from sessions',
    );
    expect(Number(tiles.sessions!.value)).toBe(Number(rows[0]!.sessions));
    expect(Number(tiles.converted_sessions!.value)).toBe(Number(rows[0]!.converted));
    const funnel = (await runner.query('select viewed, carted, purchased from funnel')).rows[0]!;
    expect(tiles.funnel!.rows.map((r) => Number(r.sessions))).toEqual(
      [funnel.viewed, funnel.carted, funnel.purchased].map(Number),
    );
    expect(Number(funnel.viewed)).toBeGreaterThan(Number(funnel.carted));
    expect(Number(funnel.carted)).toBeGreaterThan(Number(funnel.purchased));
    expect(Number(funnel.purchased)).toBeGreaterThan(0);
    expect(tiles.conversion!.value).toBeCloseTo(
      Number(funnel.purchased) / Number(funnel.viewed),
      12,
    );
  });

  it('serve repeated views from the cache and export every tile as CSV', async () => {
    // A fixed clock: the last-hour tiles are kept for the minute they ran in.
    const cache = new QueryCache({ now: () => 0 });
    for (const d of dashboards) await runDashboard(runner, d, {}, { cache });
    const misses = cache.stats().misses;
    for (const d of dashboards) {
      const tiles = succeeded(await runDashboard(runner, d, {}, { cache }));
      for (const t of Object.values(tiles)) {
        expect(t.cached).toBe(true);
        const csv = tileCsv(t);
        expect(csv.split('\r\n')[0]).toBe(t.columns.map((c) => c.name).join(','));
        expect(csv.split('\r\n')).toHaveLength(t.rows.length + 2);
      }
    }
    expect(cache.stats().misses).toBe(misses);
  });

  it('run every tile through the API’s query sandbox too, with and without filters', async () => {
    const sandbox = new QuerySandbox({ dir: serving });
    try {
      const cache = new QueryCache();
      for (const d of dashboards)
        for (const filters of d.filters.some((f) => f.name === 'category')
          ? [{}, { category: 'Beauty', region: 'Northeast' }]
          : [{}, { period: '2025-03-01..2025-03-31' }]) {
          const tiles = succeeded(await runDashboard(sandbox, d, filters, { cache }));
          expect(Object.keys(tiles)).toEqual(d.tiles.map((t) => t.id));
        }
      const executive = findDashboard(dashboards, 'executive');
      const viaSandbox = await runTile(sandbox, executive, findTile(executive, 'revenue'));
      const viaTest = await runTile(runner, executive, findTile(executive, 'revenue'));
      expect(viaSandbox.value).toBe(viaTest.value);
    } finally {
      await sandbox.close();
    }
  });
});
