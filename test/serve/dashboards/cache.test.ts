/** The tile cache: keyed by SQL + parameters + the version of what the SQL reads; bounded. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  QueryCache,
  findTile,
  parseDashboard,
  runTile,
  type Dashboard,
} from '../../../src/serve/dashboards/index.js';
import { TestRunner } from './runner.js';

let runner: TestRunner;
let dashboard: Dashboard;

const FILE = `title: Cache
filters:
  - name: region
    type: select
tiles:
  - id: sales
    title: Sales
    type: kpi
    sql: select sum(amount) as value from sales where ($region is null or region = $region)
  - id: stores
    title: Stores
    type: kpi
    sql: select count(*) as value from stores
`;

beforeAll(async () => {
  runner = await TestRunner.open();
  await runner.exec(`
    create table sales (region varchar, amount integer);
    insert into sales values ('East', 10), ('West', 5);
    create table stores (id integer);
    insert into stores values (1), (2);
  `);
  runner.bump('sales');
  runner.bump('stores');
  dashboard = parseDashboard('cache', 'dashboards/cache.yml', FILE).dashboard!;
});

afterAll(() => runner.close());

let cache: QueryCache;
beforeEach(() => {
  cache = new QueryCache({ maxEntries: 10 });
  runner.executed.length = 0;
});

const run = (id: string, filters: Record<string, unknown> = {}, c: QueryCache = cache) =>
  runTile(runner, dashboard, findTile(dashboard, id), filters, { cache: c });

describe('the query cache', () => {
  it('answers the same SQL and parameters from the cache', async () => {
    const first = await run('sales');
    const second = await run('sales');
    expect([first.cached, second.cached]).toEqual([false, true]);
    expect(second.value).toBe(first.value);
    expect(runner.executed).toHaveLength(1);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, entries: 1 });
  });

  it('keeps a result per parameter value', async () => {
    const east = await run('sales', { region: 'East' });
    const west = await run('sales', { region: 'West' });
    expect([east.value, west.value, east.cached, west.cached]).toEqual(['10', '5', false, false]);
    expect((await run('sales', { region: 'East' })).cached).toBe(true);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2, entries: 2 });
  });

  it('drops a result when a relation its SQL reads changes, and keeps the others', async () => {
    await run('sales');
    await run('stores');
    await runner.exec(`insert into sales values ('East', 100)`);
    runner.bump('sales');
    const sales = await run('sales');
    const stores = await run('stores');
    expect(sales).toMatchObject({ cached: false, value: '115' });
    expect(stores.cached).toBe(true);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 3, invalidations: 1, entries: 2 });
    await runner.exec(`delete from sales where amount = 100`);
    runner.bump('sales');
  });

  it('evicts the least recently used entry beyond its bound', async () => {
    const small = new QueryCache({ maxEntries: 2 });
    await run('sales', { region: 'East' }, small);
    await run('sales', { region: 'West' }, small);
    await run('sales', { region: 'East' }, small); // East is now the most recent
    await run('stores', {}, small); // evicts West
    expect(small.stats()).toMatchObject({ entries: 2, evictions: 1 });
    expect((await run('sales', { region: 'East' }, small)).cached).toBe(true);
    expect((await run('sales', { region: 'West' }, small)).cached).toBe(false);
  });

  it('runs a query once for callers asking at the same time', async () => {
    const results = await Promise.all([run('sales'), run('sales'), run('sales')]);
    expect(runner.executed).toHaveLength(1);
    expect(results.filter((r) => r.cached)).toHaveLength(2);
  });

  it('does not keep failures', async () => {
    const calls: string[] = [];
    const failing = {
      dataVersion: () => 'v',
      versionOf: () => Promise.resolve('v'),
      query: () => {
        calls.push('q');
        return Promise.reject(new Error('boom'));
      },
    };
    await expect(cache.run(failing, 'select 1')).rejects.toThrow('boom');
    await expect(cache.run(failing, 'select 1')).rejects.toThrow('boom');
    expect(calls).toHaveLength(2);
    expect(cache.stats().entries).toBe(0);
  });

  it('treats parameter order as irrelevant and the row limit as part of the key', async () => {
    await cache.run(runner, 'select $a::int + $b::int as s', { a: 1, b: 2 });
    expect((await cache.run(runner, 'select $a::int + $b::int as s', { b: 2, a: 1 })).cached).toBe(
      true,
    );
    expect(
      (await cache.run(runner, 'select $a::int + $b::int as s', { a: 1, b: 2 }, { rowLimit: 5 }))
        .cached,
    ).toBe(false);
  });

  it('empties on clear() and counts from zero after resetStats()', async () => {
    await run('sales');
    cache.clear();
    expect((await run('sales')).cached).toBe(false);
    cache.resetStats();
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 0, entries: 1, maxEntries: 10 });
  });

  it('keeps a query that reads the clock for the minute it ran in, and others until data changes', async () => {
    let clock = Date.UTC(2026, 0, 1, 12, 0, 5);
    const timed = new QueryCache({ now: () => clock });
    const lastHour = "select count(*) as n from sales where now() - interval '1 hour' < now()";
    expect((await timed.run(runner, lastHour)).cached).toBe(false);
    clock += 50_000; // 12:00:55, the same minute
    expect((await timed.run(runner, lastHour)).cached).toBe(true);
    clock += 10_000; // 12:01:05
    expect((await timed.run(runner, lastHour)).cached).toBe(false);
    expect((await timed.run(runner, 'select count(*) as n from sales')).cached).toBe(false);
    clock += 3_600_000;
    expect((await timed.run(runner, 'select count(*) as n from sales')).cached).toBe(true);
    expect((await timed.run(runner, 'select current_date as d')).cached).toBe(false);
    expect((await timed.run(runner, 'select current_date as d')).cached).toBe(true);
  });
});
