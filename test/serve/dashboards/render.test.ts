/** Running tiles on DuckDB: bound filters, generated model SQL, KPI periods, whole dashboards, options. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  changeRatio,
  dashboardDefinition,
  dashboardSummary,
  filterOptions,
  findTile,
  isTileFailure,
  parseDashboard,
  previousPeriod,
  resolveFilters,
  runDashboard,
  runTile,
  tileQuery,
  type Dashboard,
} from '../../../src/serve/dashboards/index.js';
import type { SqlRunner } from '../../../src/serve/types.js';
import { TestRunner } from './runner.js';

const FILE = `title: Sales
filters:
  - name: period
    type: date_range
    default: { from: 2024-03-01, to: 2024-03-31 }
    column: day
  - name: region
    type: select
    options_sql: select distinct region from sales order by 1
    column: region
  - name: channel
    type: select
    options: [web, store]
tiles:
  - id: revenue
    title: Revenue
    type: kpi
    compare: previous_period
    sql: |
      select sum(amount) as value from sales
      where day between cast($period_from as date) and cast($period_to as date)
        and ($region is null or region = $region)
  - id: orders
    title: Orders
    type: kpi
    compare: previous_period
    model: sales
    measure: count(*)
  - id: by_region
    title: Revenue by region
    type: ranked
    model: sales
    measure: sum(amount)
    by: region
    filters: [period]
    limit: 2
  - id: daily
    title: Daily revenue
    type: line
    model: main.sales
    measure: sum(amount)
    by: day
    series: region
  - id: all_time
    title: All time
    type: kpi
    sql: select sum(amount) as total, count(*) as n from sales
  - id: broken
    title: Broken
    type: table
    sql: select * from no_such_table
`;

let runner: TestRunner;
let dashboard: Dashboard;
const tile = (id: string) => findTile(dashboard, id);

beforeAll(async () => {
  runner = await TestRunner.open();
  await runner.exec(`
    create table sales (day date, region varchar, amount decimal(12,2));
    insert into sales values
      ('2024-01-31', 'East', 1000.00),             -- before both periods
      ('2024-02-01', 'East', 40.00),               -- previous period of March (Feb 1..Mar 0 = 29 days back)
      ('2024-02-15', 'West', 60.00),
      ('2024-03-01', 'East', 100.00),
      ('2024-03-15', 'West', 50.50),
      ('2024-03-31', 'North', 25.25),
      ('2024-04-01', 'East', 999.00);              -- after
  `);
  const parsed = parseDashboard('sales', 'dashboards/sales.yml', FILE);
  expect(parsed.problems).toEqual([]);
  dashboard = parsed.dashboard!;
});

afterAll(() => runner.close());

describe('filter values', () => {
  it('start from the defaults: the default range, and no select value (all)', () => {
    expect(resolveFilters(dashboard)).toEqual({
      period: { from: '2024-03-01', to: '2024-03-31' },
      region: null,
      channel: null,
    });
  });

  it('are read as <range>_from / _to, FROM..TO or { from, to }, and select values by name', () => {
    const expected = {
      period: { from: '2024-01-01', to: '2024-06-30' },
      region: 'East',
      channel: null,
    };
    expect(
      resolveFilters(dashboard, {
        period_from: '2024-01-01',
        period_to: '2024-06-30',
        region: 'East',
      }),
    ).toEqual(expected);
    expect(resolveFilters(dashboard, { period: '2024-01-01..2024-06-30', region: 'East' })).toEqual(
      expected,
    );
    expect(resolveFilters(dashboard, expected)).toEqual(expected);
  });

  it('treat an empty value as unset: an open range end, no select value', () => {
    expect(resolveFilters(dashboard, { period_from: '', region: '' })).toMatchObject({
      period: { from: null, to: '2024-03-31' },
      region: null,
    });
  });

  it('refuse a bad date, a reversed range, a long or non-text value, and unknown names', () => {
    expect(() => resolveFilters(dashboard, { period_from: '2024-02-30' })).toThrow(
      /filter period_from: expected a date YYYY-MM-DD, got "2024-02-30"/,
    );
    expect(() => resolveFilters(dashboard, { period: '2024-05-01..2024-04-01' })).toThrow(
      /ends \(2024-04-01\) before it starts/,
    );
    expect(() => resolveFilters(dashboard, { region: 'x'.repeat(201) })).toThrow(
      /longer than 200 characters/,
    );
    expect(() => resolveFilters(dashboard, { region: ['a', 'b'] })).toThrow(/expected one value/);
    expect(() => resolveFilters(dashboard, { regoin: 'East' })).toThrow(
      /dashboard sales has no filter regoin/,
    );
    expect(resolveFilters(dashboard, { token: 'x' }, { ignoreUnknown: true }).region).toBeNull();
  });
});

describe('tile queries', () => {
  it('bind filter values as parameters, exactly the ones the SQL names', () => {
    const q = tileQuery(dashboard, tile('revenue'), resolveFilters(dashboard, { region: 'East' }));
    expect(q.params).toEqual({
      period_from: '2024-03-01',
      period_to: '2024-03-31',
      region: 'East',
    });
    expect(q.sql).not.toContain('East');
    expect(q.sql).not.toContain('2024-03-01');
  });

  it('bind a hostile value as data: it matches nothing and nothing else runs', async () => {
    const hostile = "'; drop table sales; --";
    const r = await runTile(runner, dashboard, tile('revenue'), { region: hostile });
    expect(r.value).toBeNull();
    const last = runner.executed.at(-1)!;
    expect(last.params.region).toBe(hostile);
    expect(last.sql).not.toContain('drop');
    const { rows } = await runner.query('select count(*) as n from sales');
    expect(rows[0]!.n).toBe('7');
  });

  it('bind an unset select filter as NULL, which the SQL reads as all values', async () => {
    const q = tileQuery(dashboard, tile('revenue'), resolveFilters(dashboard));
    expect(q.params.region).toBeNull();
    const r = await runTile(runner, dashboard, tile('revenue'));
    expect(r.value).toBe('175.75');
  });

  it('generate SQL for model + measure tiles, quoting names and binding every filter with a column', () => {
    const values = resolveFilters(dashboard, { region: 'East' });
    expect(tileQuery(dashboard, tile('orders'), values)).toEqual({
      sql: [
        'select count(*) as "value"',
        'from "sales"',
        'where ($period_from is null or cast("day" as date) >= cast($period_from as date))',
        '  and ($period_to is null or cast("day" as date) <= cast($period_to as date))',
        '  and ($region is null or "region" = $region)',
      ].join('\n'),
      params: { period_from: '2024-03-01', period_to: '2024-03-31', region: 'East' },
    });
    expect(tileQuery(dashboard, tile('by_region'), values).sql).toBe(
      [
        'select "region", sum(amount) as "value"',
        'from "sales"',
        'where ($period_from is null or cast("day" as date) >= cast($period_from as date))',
        '  and ($period_to is null or cast("day" as date) <= cast($period_to as date))',
        'group by 1',
        'order by "value" desc, 1',
        'limit 2',
      ].join('\n'),
    );
    expect(tileQuery(dashboard, tile('daily'), values).sql).toMatch(
      /^select "day", "region", sum\(amount\) as "value"\nfrom "main"\."sales"\n[\s\S]*group by 1, 2\norder by 1, 2$/,
    );
  });

  it('run model + measure tiles: ranked largest first and limited, grouped by series', async () => {
    const ranked = await runTile(runner, dashboard, tile('by_region'));
    expect(ranked.rows).toEqual([
      { region: 'East', value: '100.00' },
      { region: 'West', value: '50.50' },
    ]);
    const daily = await runTile(runner, dashboard, tile('daily'), {
      period: '2024-02-01..2024-03-01',
    });
    expect(daily.rows.map((r) => [r.day, r.region, r.value])).toEqual([
      ['2024-02-01', 'East', '40.00'],
      ['2024-02-15', 'West', '60.00'],
      ['2024-03-01', 'East', '100.00'],
    ]);
  });
});

describe('KPI tiles', () => {
  it('compare with the period before, of the same length', async () => {
    // March 2024 is 31 days; the 31 days before it are 2024-01-30 .. 2024-02-29.
    const r = await runTile(runner, dashboard, tile('revenue'));
    expect(r).toMatchObject({
      value: '175.75',
      previous: '1100.00',
      previousPeriod: { period: { from: '2024-01-30', to: '2024-02-29' } },
    });
    expect(r.change).toBeCloseTo((175.75 - 1100) / 1100, 12);
    const east = await runTile(runner, dashboard, tile('orders'), {
      period: '2024-02-01..2024-02-29',
      region: 'East',
    });
    // Feb 1..29 (29 days) against Jan 3..31: one East sale in each.
    expect([east.value, east.previous, east.change]).toEqual(['1', '1', 0]);
  });

  it('have no previous value when the range is open', async () => {
    // The generated SQL of a model tile reads a NULL bound as no limit on that side.
    const r = await runTile(runner, dashboard, tile('orders'), { period_from: '' });
    expect(r.value).toBe('6');
    expect(r.previous).toBeNull();
    expect(r.change).toBeNull();
  });

  it('take the value column, or the first column when there is none', async () => {
    const r = await runTile(runner, dashboard, tile('all_time'));
    expect(r.value).toBe('2274.75');
    expect(r.previous).toBeUndefined();
  });

  it('compute the change as a ratio, with no meaning against zero or nothing', () => {
    expect(changeRatio('150', 100)).toBe(0.5);
    expect(changeRatio(50, '-100')).toBe(1.5);
    expect(changeRatio(5, 0)).toBeNull();
    expect(changeRatio(null, 3)).toBeNull();
    expect(changeRatio(3, null)).toBeNull();
  });

  it('shift ranges back by their own length in days, across month and leap-day ends', () => {
    expect(previousPeriod({ from: '2025-03-01', to: '2025-03-31' })).toEqual({
      from: '2025-01-29',
      to: '2025-02-28',
    });
    expect(previousPeriod({ from: '2024-03-01', to: '2024-03-01' })).toEqual({
      from: '2024-02-29',
      to: '2024-02-29',
    });
    // 365 days back from 2025-01-01 (2024 had 366 days).
    expect(previousPeriod({ from: '2025-01-01', to: '2025-12-31' })).toEqual({
      from: '2024-01-02',
      to: '2024-12-31',
    });
    expect(previousPeriod({ from: null, to: '2025-12-31' })).toBeUndefined();
  });
});

describe('dashboards', () => {
  it('run every tile; a failing tile is reported in its place and the others still show', async () => {
    const result = await runDashboard(runner, dashboard, { region: 'West' });
    expect(Object.keys(result.tiles)).toEqual([
      'revenue',
      'orders',
      'by_region',
      'daily',
      'all_time',
      'broken',
    ]);
    const broken = result.tiles.broken!;
    expect(isTileFailure(broken) && broken.error).toMatch(/no_such_table/);
    const revenue = result.tiles.revenue!;
    expect(!isTileFailure(revenue) && revenue.value).toBe('50.50');
    expect(result.filters.region).toBe('West');
  });

  it('run at most `concurrency` tiles at once', async () => {
    let running = 0;
    let peak = 0;
    const counting: SqlRunner = {
      dataVersion: () => runner.dataVersion(),
      versionOf: (sql) => runner.versionOf(sql),
      query: async (sql, params, limits) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        try {
          return await runner.query(sql, params, limits);
        } finally {
          running--;
        }
      },
    };
    await runDashboard(counting, dashboard, {}, { concurrency: 2 });
    // Two tiles at once, each KPI with compare running its two queries together.
    expect(peak).toBeLessThanOrEqual(4);
    expect(peak).toBeGreaterThan(1);
  });

  it('refuse bad filter values for the whole dashboard', async () => {
    await expect(runDashboard(runner, dashboard, { period_to: 'soon' })).rejects.toThrow(
      /period_to: expected a date/,
    );
  });

  it('list select options from options_sql or the fixed list', async () => {
    expect(await filterOptions(runner, dashboard)).toEqual({
      region: ['East', 'North', 'West'],
      channel: ['web', 'store'],
    });
  });
});

describe('definitions for clients', () => {
  it('list a dashboard with its tile count, and lay it out without SQL', () => {
    expect(dashboardSummary(dashboard)).toEqual({ name: 'sales', title: 'Sales', tiles: 6 });
    const def = dashboardDefinition(dashboard);
    expect(def.filters[0]).toEqual({
      name: 'period',
      type: 'date_range',
      label: 'period',
      default: { from: '2024-03-01', to: '2024-03-31' },
      params: ['period_from', 'period_to'],
    });
    expect(def.filters[1]).toMatchObject({ name: 'region', default: null, params: ['region'] });
    expect(def.tiles.find((t) => t.id === 'by_region')).toEqual({
      id: 'by_region',
      title: 'Revenue by region',
      type: 'ranked',
      renderAs: 'ranked',
      width: 2,
      x: 'region',
      y: 'value',
      // a ranked tile's limit, so a UI shows all the groups the query kept
      limit: 2,
      filters: ['period'],
    });
    expect(def.tiles.find((t) => t.id === 'orders')).toMatchObject({ value: 'value' });
    expect(JSON.stringify(def)).not.toMatch(/from (main\.)?sales|sum\(/);
  });

  it('pass other query-string keys through when asked to ignore them', async () => {
    const r = await runDashboard(
      runner,
      dashboard,
      { region: 'East', format: 'json' },
      {
        ignoreUnknownFilters: true,
      },
    );
    expect(r.filters.region).toBe('East');
  });
});
