/**
 * The forecast step (src/forecast/run.ts) on each engine: DuckDB in memory, and PostgreSQL in a
 * schema of its own in the test database (dropped after). A small sales table with known gaps
 * and NULL keys is forecast by category and by a total → category → product hierarchy; the
 * tables written are checked for their shape, gap filling, future periods, coherence, and for
 * replacing (never appending) on a re-run and leaving the previous tables when a run fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDB, openPostgres, type Engine } from '../../src/engines/index.js';
import { runForecast } from '../../src/forecast/index.js';
import { parseForecast, type Forecast } from '../../src/project/index.js';
import { restoreFaultAfterEach } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';

const pgAvailable = await serviceAvailable('postgres', postgresTestUrl);

const ENGINES: { name: string; open: () => Promise<Engine>; skip: boolean }[] = [
  { name: 'duckdb', open: () => openDuckDB({ path: ':memory:' }), skip: false },
  { name: 'postgres', open: () => openPostgres({ url: postgresTestUrl }), skip: !pgAvailable },
];

const DAYS = 70;
const START = Date.UTC(2025, 0, 6); // a Monday
const day = (i: number) => new Date(START + i * 86_400_000).toISOString().slice(0, 10);

/**
 * Sales lines: products a1, a2 (category A) every day with a weekly pattern, except that a2 sells
 * nothing on days divisible by 5 (gaps to fill); b1 (category B) starts on day 10. Two lines have
 * a NULL category (left out everywhere).
 */
function salesRows(): string[] {
  const rows: string[] = [];
  for (let i = 0; i < DAYS; i++) {
    const ts = `${day(i)} 10:30:00`;
    rows.push(`('${ts}', 'A', 'a1', ${3 + (i % 7)})`);
    if (i % 5 !== 0) rows.push(`('${ts}', 'A', 'a2', ${1 + (i % 3)})`, `('${ts}', 'A', 'a2', 1)`);
    if (i >= 10) rows.push(`('${ts}', 'B', 'b1', ${i % 7 === 6 ? 0 : 2})`);
  }
  rows.push(`('${day(3)} 09:00:00', NULL, 'x', 5)`, `('${day(4)} 09:00:00', NULL, 'x', 7)`);
  return rows;
}

function forecastOf(name: string, yaml: string): Forecast {
  const { forecast, problems } = parseForecast(name, `forecasts/${name}.yml`, yaml);
  expect(problems).toEqual([]);
  return forecast!;
}

const byCategory = (extra = '') =>
  forecastOf(
    'demand',
    `source: ref('sales')
time_column: sold_at
target: sum(quantity)
group_by: [category]
frequency: day
horizon: 7
backtest: { windows: 2 }
${extra}`,
  );

const byProduct = (extra = '') =>
  forecastOf(
    'demand_products',
    `source:
  sql: select sold_at, category, product, quantity from {{ ref('sales') }} where quantity >= 0
time_column: sold_at
target: sum(quantity)
hierarchy: [total, category, product]
frequency: day
horizon: 5
methods: [naive, seasonal_naive]
backtest: { windows: 1 }
${extra}`,
  );

for (const { name, open, skip } of ENGINES) {
  describe.skipIf(skip)(`runForecast on ${name}`, () => {
    let engine: Engine;
    const schema = `fc_${name}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
    const q = (n: string) => engine.dialect.quoteIdentifier(n);
    const rel = (n: string) => engine.dialect.relation(schema, n);
    let refs: Map<string, string>;
    const count = async (table: string) =>
      Number((await engine.query(`SELECT count(*) AS n FROM ${rel(table)}`)).rows[0]!.n);
    restoreFaultAfterEach();

    beforeAll(async () => {
      engine = await open();
      await engine.ensureSchema(schema);
      await engine.exec(
        `CREATE TABLE ${rel('sales')} (sold_at TIMESTAMP, category VARCHAR(20), product VARCHAR(20), quantity INTEGER)`,
      );
      await engine.exec(`INSERT INTO ${rel('sales')} VALUES ${salesRows().join(', ')}`);
      refs = new Map([['sales', rel('sales')]]);
    }, 60_000);
    afterAll(async () => {
      await engine?.dropSchema(schema);
      await engine?.close();
    });

    it('writes one forecast row per series and future period, starting after the last day', async () => {
      const result = await runForecast({ engine, forecast: byCategory(), schema, refs });
      expect(result.series).toBe(2);
      expect(result.nullKeyRows).toBe(2);
      expect(result.lastPeriod).toBe(day(DAYS - 1));
      expect(result.rows).toMatchObject({ demand: 2 * 7 });
      const { rows } = await engine.query(
        `SELECT category, CAST(min(period) AS VARCHAR(10)) AS first, CAST(max(period) AS VARCHAR(10)) AS last, count(*) AS n
           FROM ${rel('demand')} GROUP BY category ORDER BY category`,
      );
      expect(rows.map((r) => ({ ...r, n: Number(r.n) }))).toEqual([
        { category: 'A', first: day(DAYS), last: day(DAYS + 6), n: 7 },
        { category: 'B', first: day(DAYS), last: day(DAYS + 6), n: 7 },
      ]);
      const cols = (await engine.describe(schema, 'demand'))!.map((c) => c.name);
      expect(cols).toEqual([
        'category',
        'period',
        'method',
        'forecast',
        'lower_80',
        'upper_80',
        'lower_95',
        'upper_95',
      ]);
    });

    it('records the chosen method and the history of each series, gaps filled with zeros', async () => {
      await runForecast({ engine, forecast: byCategory(), schema, refs });
      const { rows } = await engine.query(
        `SELECT category, method, history, CAST(first_period AS VARCHAR(10)) AS first_period FROM ${rel('demand_methods')} ORDER BY category`,
      );
      expect(rows.map((r) => [r.category, Number(r.history), r.first_period])).toEqual([
        ['A', DAYS, day(0)],
        ['B', DAYS - 10, day(10)],
      ]);
      for (const r of rows) expect(typeof r.method).toBe('string');
      const { rows: methods } = await engine.query(
        `SELECT DISTINCT f.category FROM ${rel('demand')} AS f JOIN ${rel('demand_methods')} AS m
           ON m.category = f.category AND m.method = f.method`,
      );
      expect(methods).toHaveLength(2);
    });

    it('keeps every observed period only with fill_gaps: none', async () => {
      // Product a2 has no rows on every fifth day: without filling, its history is shorter.
      const f = forecastOf(
        'demand_observed',
        `source: { sql: "select * from {{ ref('sales') }} where product = 'a2'" }
time_column: sold_at
target: sum(quantity)
frequency: day
horizon: 3
methods: [naive]
fill_gaps: none
backtest: { windows: 0 }
`,
      );
      await runForecast({ engine, forecast: f, schema, refs });
      const { rows } = await engine.query(`SELECT history FROM ${rel('demand_observed_methods')}`);
      expect(Number(rows[0]!.history)).toBe(DAYS - DAYS / 5);
    });

    it('replaces its tables on a re-run instead of appending', async () => {
      await runForecast({ engine, forecast: byCategory(), schema, refs });
      const before = [await count('demand'), await count('demand_backtest')];
      await runForecast({ engine, forecast: byCategory(), schema, refs });
      expect([await count('demand'), await count('demand_backtest')]).toEqual(before);
      expect(before[0]).toBe(14);
    });

    it('leaves the previous tables whole when the swap fails halfway', async () => {
      await runForecast({ engine, forecast: byCategory(), schema, refs });
      // The second run would write a horizon of 10; it fails after replacing the first table.
      process.env.TRIBUTARY_FAULT = 'mid-swap:demand_backtest';
      await expect(runForecast({ engine, forecast: longer(), schema, refs })).rejects.toThrow(
        /fault injected/,
      );
      expect(await count('demand')).toBe(14);
      delete process.env.TRIBUTARY_FAULT;
      await runForecast({ engine, forecast: longer(), schema, refs });
      expect(await count('demand')).toBe(20);
    });

    it('backtest-only leaves the forecast table as it was', async () => {
      await runForecast({ engine, forecast: byCategory(), schema, refs });
      const result = await runForecast({
        engine,
        forecast: longer(),
        schema,
        refs,
        backtestOnly: true,
      });
      expect(Object.keys(result.rows).sort()).toEqual(['demand_backtest', 'demand_methods']);
      expect(await count('demand')).toBe(14);
    });

    it('forecasts every level of a hierarchy, products summing to categories and categories to the total', async () => {
      const result = await runForecast({ engine, forecast: byProduct(), schema, refs });
      // total, categories A and B, products a1, a2, b1.
      expect(result.series).toBe(6);
      const { rows } = await engine.query(
        `SELECT level, category, product, count(*) AS n FROM ${rel('demand_products')}
          GROUP BY level, category, product ORDER BY level, category, product`,
      );
      expect(rows.map((r) => [r.level, r.category, r.product, Number(r.n)])).toEqual([
        ['category', 'A', null, 5],
        ['category', 'B', null, 5],
        ['product', 'A', 'a1', 5],
        ['product', 'A', 'a2', 5],
        ['product', 'B', 'b1', 5],
        ['total', null, null, 5],
      ]);
      const incoherent = await engine.query(
        `WITH up AS (SELECT period, category, forecast FROM ${rel('demand_products')} WHERE level = 'category'),
              down AS (SELECT period, category, sum(forecast) AS s FROM ${rel('demand_products')} WHERE level = 'product' GROUP BY period, category),
              top AS (SELECT period, forecast FROM ${rel('demand_products')} WHERE level = 'total'),
              mid AS (SELECT period, sum(forecast) AS s FROM up GROUP BY period)
         SELECT 'category' AS at, up.period FROM up JOIN down ON down.period = up.period AND down.category = up.category
          WHERE abs(up.forecast - down.s) > 1e-6
         UNION ALL
         SELECT 'total', top.period FROM top JOIN mid ON mid.period = top.period WHERE abs(top.forecast - mid.s) > 1e-6`,
      );
      expect(incoherent.rows).toEqual([]);
      const levels = await engine.query(
        `SELECT ${q('level')}, count(*) AS n FROM ${rel('demand_products_methods')} GROUP BY 1 ORDER BY 1`,
      );
      expect(levels.rows.map((r) => [r.level, Number(r.n)])).toEqual([
        ['category', 2],
        ['product', 3],
        ['total', 1],
      ]);
      const how = await engine.query(
        `SELECT DISTINCT reconciliation, reconciliation_note FROM ${rel('demand_products_methods')}`,
      );
      expect(how.rows).toEqual([{ reconciliation: 'bottom_up', reconciliation_note: null }]);
      expect(result.reconciliation).toEqual({ method: 'bottom_up' });
    });

    it('asked for MinT, falls back to bottom-up when the residuals give a singular covariance, and writes why', async () => {
      // a1 is a pure weekly pattern: seasonal naive fits it exactly, so its residuals are all 0.
      const result = await runForecast({
        engine,
        forecast: byProduct('reconcile: mint_shrink\n'),
        schema,
        refs,
      });
      expect(result.reconciliation!.method).toBe('bottom_up');
      expect(result.reconciliation!.note).toMatch(/^mint_shrink asked, bottom_up used: .*singular/);
      const how = await engine.query(
        `SELECT DISTINCT reconciliation, reconciliation_note FROM ${rel('demand_products_methods')}`,
      );
      expect(how.rows).toEqual([
        { reconciliation: 'bottom_up', reconciliation_note: result.reconciliation!.note },
      ]);
    });

    it('cuts hours and months from the time column and forecasts the periods after the last', async () => {
      const of = (name: string, frequency: string) =>
        forecastOf(
          name,
          `source: ref('sales')\ntime_column: sold_at\ntarget: count(*)\nfrequency: ${frequency}\nhorizon: 3\nmethods: [naive]\nbacktest: { windows: 0 }\n`,
        );
      await runForecast({ engine, forecast: of('hourly', 'hour'), schema, refs });
      const hours = await engine.query(
        `SELECT CAST(period AS VARCHAR(19)) AS p FROM ${rel('hourly')} ORDER BY period`,
      );
      // Every line is sold at 10:30 (and two at 09:00): the last hour with rows is 10:00.
      const last = day(DAYS - 1);
      expect(hours.rows.map((r) => String(r.p).replace('T', ' '))).toEqual([
        `${last} 11:00:00`,
        `${last} 12:00:00`,
        `${last} 13:00:00`,
      ]);
      const history = await engine.query(`SELECT history FROM ${rel('hourly_methods')}`);
      expect(Number(history.rows[0]!.history)).toBe(DAYS * 24 - 13 - 10);
      await runForecast({ engine, forecast: of('monthly', 'month'), schema, refs });
      const months = await engine.query(
        `SELECT CAST(period AS VARCHAR(10)) AS p FROM ${rel('monthly')} ORDER BY period`,
      );
      expect(months.rows.map((r) => r.p)).toEqual(['2025-04-01', '2025-05-01', '2025-06-01']);
    });

    it('names the forecast file when the source does not have the time column', async () => {
      const f = forecastOf(
        'demand_bad',
        `source: ref('sales')\ntime_column: ordered_at\ntarget: sum(quantity)\nfrequency: day\nhorizon: 3\n`,
      );
      await expect(runForecast({ engine, forecast: f, schema, refs })).rejects.toThrow(
        /forecast demand_bad: reading its source failed/,
      );
    });
  });
}

function longer(): Forecast {
  return forecastOf(
    'demand',
    `source: ref('sales')
time_column: sold_at
target: sum(quantity)
group_by: [category]
frequency: day
horizon: 10
backtest: { windows: 2 }
`,
  );
}
