/**
 * Forecasts as assets of a real project (a files source → processed Parquet → dbt models on
 * DuckDB → forecasts/*.yml → a dashboard): where they sit in the graph, how they run in a
 * pipeline run (and are up to date when nothing changed), and the problems of a bad reference.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProblemsError } from '../../src/project/index.js';
import {
  loadAssetGraph,
  runPipeline,
  selectAssets,
  type StepResult,
} from '../../src/orchestrator/index.js';
import { tempDir, withWorkspace, writeFiles } from '../helpers.js';

const DAYS = 42;

function salesCsv(): string {
  const lines = ['id,day,product_id,quantity'];
  let id = 1;
  for (let i = 0; i < DAYS; i++) {
    const day = new Date(Date.UTC(2025, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
    lines.push(`${id++},${day},1,${2 + (i % 7)}`, `${id++},${day},2,${i % 3}`);
  }
  return `${lines.join('\n')}\n`;
}

const DEMAND = `description: Daily units per product.
source: ref('sales')
time_column: day
target: sum(quantity)
group_by: [product_id]
frequency: day
horizon: 7
methods: [naive, seasonal_naive]
backtest: { windows: 2 }
tags: [weekly]
`;

/** A project whose forecasts read model sales (and, by a query, products). */
function project(files: Record<string, string> = {}): string {
  const dir = tempDir('trib-fc-asset-');
  writeFiles(dir, {
    'tributary.yml': `name: f
sources:
  app:
    type: files
    path: landing
    tables:
      sales: { files: "sales*.csv" }
schedules:
  weekly: { cron: "0 3 * * 1", select: ["tag:weekly"] }
`,
    'contracts/sales.yml': `primary_key: [id]
columns:
  - { name: id, type: bigint, required: true }
  - { name: day, type: date, required: true }
  - { name: product_id, type: bigint, required: true }
  - { name: quantity, type: integer }
`,
    'landing/sales-1.csv': salesCsv(),
    'models/_sources.yml': `version: 2
sources:
  - name: lake
    schema: processed
    tables: [{ name: sales }]
`,
    'models/sales.sql': `select id, day, product_id, quantity from {{ source('lake', 'sales') }}`,
    'models/products.sql': `select 1 as product_id, 'Mug' as name union all select 2, 'Plate'`,
    'forecasts/demand.yml': DEMAND,
    'forecasts/demand_by_name.yml': `source:
  sql: |
    select s.day, p.name, s.quantity
    from {{ ref('sales') }} as s join products as p on p.product_id = s.product_id
time_column: day
target: sum(quantity)
group_by: [name]
frequency: week
horizon: 2
methods: [naive]
backtest: { windows: 1 }
`,
    'dashboards/demand.yml': `title: Demand
tiles:
  - id: forecast
    title: Forecast
    type: line
    x: period
    y: forecast
    series: product_id
    sql: select product_id, period, forecast from demand order by period
`,
    ...files,
  });
  return dir;
}

const stepOf = (steps: StepResult[], asset: string) => steps.find((s) => s.asset === asset);

describe('forecasts in the asset graph', () => {
  it('puts a forecast downstream of the models it reads and upstream of the dashboards reading its tables', async () => {
    const { graph } = await loadAssetGraph(project());
    expect(graph.assets.get('forecast:demand')).toMatchObject({
      kind: 'forecast',
      deps: ['model:sales'],
      tags: ['forecast', 'weekly'],
      file: 'forecasts/demand.yml',
    });
    expect(graph.assets.get('forecast:demand_by_name')!.deps.sort()).toEqual([
      'model:products',
      'model:sales',
    ]);
    expect(graph.assets.get('dashboard:demand')!.deps).toEqual(['forecast:demand']);
    const order = graph.order;
    expect(order.indexOf('model:sales')).toBeLessThan(order.indexOf('forecast:demand'));
    expect(order.indexOf('forecast:demand')).toBeLessThan(order.indexOf('dashboard:demand'));
  });

  it('selects forecasts by kind, by tag (as a schedule does) and with their upstream', async () => {
    const { graph } = await loadAssetGraph(project());
    expect([...selectAssets(graph, ['kind:forecast'])].sort()).toEqual([
      'forecast:demand',
      'forecast:demand_by_name',
    ]);
    expect([...selectAssets(graph, ['tag:weekly'])]).toEqual(['forecast:demand']);
    expect([...selectAssets(graph, ['+forecast:demand'])].sort()).toEqual([
      'forecast:demand',
      'model:sales',
      'processed:sales',
      'raw:app.sales',
    ]);
  });

  it('reports a ref to no model at the forecast file’s source line', async () => {
    const dir = project({
      'forecasts/demand.yml': DEMAND.replace("ref('sales')", "ref('sale')"),
    });
    const err = await loadAssetGraph(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProblemsError);
    expect((err as ProblemsError).problems).toEqual([
      {
        message: 'forecast demand reads sale, which is no model, seed or snapshot of the project',
        location: { file: 'forecasts/demand.yml', line: 2, column: 9, path: 'source' },
      },
    ]);
  });

  it('reports an unknown method at its line in the forecast file', async () => {
    const dir = project({
      'forecasts/demand.yml': DEMAND.replace('[naive, seasonal_naive]', '[naive, prophet]'),
    });
    const err = await loadAssetGraph(dir).catch((e: unknown) => e);
    expect((err as ProblemsError).problems).toEqual([
      {
        message: expect.stringMatching(/^unknown forecast method prophet \(methods: auto, naive, /),
        location: { file: 'forecasts/demand.yml', line: 8, column: 18, path: 'methods.1' },
      },
    ]);
  });

  it('refuses a forecast whose table would overwrite a model', async () => {
    const dir = project({ 'forecasts/products.yml': DEMAND });
    await expect(loadAssetGraph(dir)).rejects.toThrow(
      /forecast products writes main\.products, which is model products/,
    );
  });
});

describe('forecasts in a pipeline run', () => {
  it('runs after its model, writes its tables, and is up to date until its file or inputs change', async () => {
    const dir = project();
    const first = await withWorkspace(dir, (ws) => runPipeline(ws));
    expect(first.status).toBe('succeeded');
    expect(stepOf(first.steps, 'forecast:demand')).toMatchObject({
      status: 'succeeded',
      kind: 'forecast',
      rowsOut: 2 * 7,
    });
    expect(stepOf(first.steps, 'forecast:demand')!.message).toMatch(/^2 series \(season 7\)/);
    expect(stepOf(first.steps, 'dashboard:demand')).toBeUndefined();
    await withWorkspace(dir, async (ws) => {
      const { rows } = await ws.warehouse.query(
        'SELECT count(*) AS n FROM demand_by_name WHERE name IN ($1, $2)',
        ['Mug', 'Plate'],
      );
      expect(Number(rows[0]!.n)).toBe(2 * 2);
      const entry = (await ws.state.listCatalog()).find((e) => e.name === 'main.demand_methods');
      expect(entry?.rowCount).toBe(2);
    });

    const second = await withWorkspace(dir, (ws) => runPipeline(ws, { select: ['kind:forecast'] }));
    expect(stepOf(second.steps, 'forecast:demand')!.status).toBe('up_to_date');

    writeFileSync(join(dir, 'forecasts/demand.yml'), DEMAND.replace('horizon: 7', 'horizon: 3'));
    const third = await withWorkspace(dir, (ws) =>
      runPipeline(ws, { select: ['forecast:demand'] }),
    );
    expect(stepOf(third.steps, 'forecast:demand')).toMatchObject({
      status: 'succeeded',
      rowsOut: 2 * 3,
    });
  });

  it('writes only the backtest and methods tables when asked for the backtest only', async () => {
    const dir = project();
    const result = await withWorkspace(dir, (ws) =>
      runPipeline(ws, { select: ['+forecast:demand'], forecastBacktestOnly: true }),
    );
    expect(stepOf(result.steps, 'forecast:demand')!.status).toBe('succeeded');
    await withWorkspace(dir, async (ws) => {
      expect(await ws.warehouse.describe('main', 'demand')).toBeUndefined();
      expect(await ws.warehouse.describe('main', 'demand_backtest')).toBeDefined();
      expect(await ws.warehouse.describe('main', 'demand_methods')).toBeDefined();
    });
  });
});
