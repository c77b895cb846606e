/**
 * The e-commerce template's forecasts on its generated data at a small scale, through the whole
 * pipeline (`tributary run` builds them after fct_sales): daily demand per category and weekly
 * demand per product reconciled up to categories and the total. Checked against the warehouse:
 * rows = series × horizon, one chosen method per series, a coherent hierarchy, and series that
 * are exactly the categories and products the fact table sold.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateWithOwnCollector } from '../../src/cli/commands/generate.js';
import { initProject } from '../../src/cli/commands/init.js';
import { silentProgress } from '../../src/core/index.js';
import type { Engine } from '../../src/engines/index.js';
import { runPipeline, type RunResult } from '../../src/orchestrator/index.js';
import { tempDir, withWorkspace } from '../helpers.js';

let dir: string;
let run: RunResult;

const count = async (engine: Engine, sql: string) => Number((await engine.query(sql)).rows[0]!.n);

beforeAll(async () => {
  dir = await initProject(join(tempDir('trib-fc-tpl-'), 'shop'), 'ecommerce');
  await generateWithOwnCollector(dir, { scale: 0.01, seed: 5, progress: silentProgress });
  // The template's CRM destination is off until configured: its sync step is skipped, the run
  // stays green (test/sync/template-sync.test.ts covers it).
  run = await withWorkspace(dir, (ws) => runPipeline(ws));
}, 600_000);

describe('the e-commerce template’s forecasts', () => {
  it('run in the pipeline after the sales mart', () => {
    expect(run.steps.filter((s) => s.status === 'failed').map((s) => [s.asset, s.message])).toEqual(
      [],
    );
    expect(run.status).toBe('succeeded');
    const order = run.steps.map((s) => s.asset);
    for (const f of ['forecast:demand_daily', 'forecast:demand_products']) {
      expect(run.steps.find((s) => s.asset === f)?.status).toBe('succeeded');
      expect(order.indexOf('model:fct_sales')).toBeLessThan(order.indexOf(f));
    }
  });

  it('sit between the marts and the Demand dashboard in the lineage', async () => {
    await withWorkspace(dir, async (ws) => {
      expect([...ws.graph.assets.get('forecast:demand_daily')!.deps].sort()).toEqual([
        'model:dim_products',
        'model:fct_sales',
      ]);
      expect(ws.graph.assets.get('dashboard:demand')!.deps).toEqual(
        expect.arrayContaining(['forecast:demand_daily', 'forecast:demand_products']),
      );
    });
  });

  it('forecast 28 days for every category sold, one chosen method each', async () => {
    await withWorkspace(dir, async (ws) => {
      const e = ws.warehouse;
      const categories = await count(
        e,
        `select count(distinct p.category) as n from fct_sales f join dim_products p using (product_key)
          where f.order_status <> 'cancelled'`,
      );
      expect(categories).toBeGreaterThan(3);
      expect(await count(e, 'select count(*) as n from demand_daily')).toBe(categories * 28);
      expect(await count(e, 'select count(*) as n from demand_daily_methods')).toBe(categories);
      // The published forecast is the chosen method's, and it starts the day after the data.
      expect(
        await count(
          e,
          `select count(*) as n from demand_daily d join demand_daily_methods m using (category)
            where d.method <> m.method`,
        ),
      ).toBe(0);
      expect(
        await count(
          e,
          `select count(*) as n from demand_daily where period <= (select max(cast(order_ts as date)) from fct_sales)`,
        ),
      ).toBe(0);
      // Every category has backtest scores for several methods, Naive2 among them.
      const { rows } = await e.query(
        `select category, count(distinct method) as methods, count(distinct "window") as windows,
                sum(case when method = 'naive2' then 1 else 0 end) as naive2
           from demand_daily_backtest group by category`,
      );
      expect(rows).toHaveLength(categories);
      for (const r of rows) {
        expect(Number(r.methods)).toBeGreaterThan(5);
        expect(Number(r.windows)).toBe(3);
        expect(Number(r.naive2)).toBe(3);
      }
      expect(
        await count(e, 'select count(*) as n from demand_daily where lower_95 > upper_95'),
      ).toBe(0);
    });
  });

  it('forecast products, categories and the total coherently, 8 weeks each', async () => {
    await withWorkspace(dir, async (ws) => {
      const e = ws.warehouse;
      const series = await count(e, 'select count(*) as n from demand_products_methods');
      expect(await count(e, 'select count(*) as n from demand_products')).toBe(series * 8);
      const products = await count(
        e,
        `select count(distinct product_key) as n from fct_sales where order_status <> 'cancelled'`,
      );
      const { rows } = await e.query(
        `select level, count(*) as n from demand_products_methods group by level order by level`,
      );
      const byLevel = Object.fromEntries(rows.map((r) => [r.level, Number(r.n)]));
      expect(byLevel.total).toBe(1);
      expect(byLevel.product).toBe(products);
      expect(series).toBe(1 + byLevel.category! + products);
      const incoherent = await count(
        e,
        `with kids as (
           select period, category, sum(forecast) as s from demand_products where level = 'product' group by 1, 2),
         cats as (select period, category, forecast from demand_products where level = 'category'),
         top as (select period, forecast from demand_products where level = 'total')
         select count(*) as n from (
           select c.period from cats c join kids k using (period, category) where abs(c.forecast - k.s) > 1e-6
           union all
           select t.period from top t join (select period, sum(forecast) as s from cats group by 1) c
             using (period) where abs(t.forecast - c.s) > 1e-6) as bad`,
      );
      expect(incoherent).toBe(0);
    });
  });
});
