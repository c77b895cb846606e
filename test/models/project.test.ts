/**
 * A dbt project runs unchanged: dbt_project.yml's paths, vars and config tree, profiles.yml
 * rendered with env_var(), the Jinja context (ref, source, config, var, env_var, target, this,
 * adapter, run_query, log, return, doc), seeds, and the view / table / ephemeral
 * materializations. One `build` of the `shop` fixture per engine; each test reads one outcome.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunSummary } from '../../src/models/index.js';
import { DbtFixture, describeEachEngine, resultOf } from './dbt.js';

describeEachEngine('a built dbt project', (engine) => {
  let f: DbtFixture;
  let summary: RunSummary;
  const logs: string[] = [];

  beforeAll(async () => {
    f = new DbtFixture('shop', engine);
    process.env.TRIB_DBT_LABEL = 'from the environment';
    summary = await f.run('build', { log: (m) => logs.push(m) });
  });
  afterAll(async () => {
    delete process.env.TRIB_DBT_LABEL;
    await f.cleanup();
  });

  const context = async () => (await f.rows(`select * from ${f.rel('context_values')}`))[0]!;

  it('builds every seed, model and test without an error', () => {
    expect(summary.results.filter((r) => r.status === 'error' || r.status === 'fail')).toEqual([]);
    expect(summary.success).toBe(true);
  });

  it('materializes a folder configured as views as views', async () => {
    const tables = await f.with((p) => p.engine.listTables(f.schema));
    expect(tables.find((t) => t.name === 'stg_orders')?.type).toBe('view');
    expect(tables.find((t) => t.name === 'stg_customers')?.type).toBe('view');
  });

  it('materializes a table model as a table in its custom schema, <target schema>_<schema>', async () => {
    const tables = await f.with((p) => p.engine.listTables(`${f.schema}_finance`));
    expect(tables).toEqual([
      { schema: `${f.schema}_finance`, name: 'customer_revenue', type: 'table' },
    ]);
  });

  it('never creates a relation for an ephemeral model', async () => {
    const names = (await f.with((p) => p.engine.listTables())).map((t) => t.name);
    expect(names).not.toContain('int_paid_orders');
    expect(names).not.toContain('int_customer_totals');
  });

  it('computes through nested ephemeral models inlined as CTEs', async () => {
    expect(
      await f.rows(
        `select customer_id, revenue, paid_orders from ${f.rel('customer_revenue', 'finance')} order by customer_id`,
      ),
    ).toEqual([
      { customer_id: 1, revenue: 19.75, paid_orders: 2 },
      { customer_id: 2, revenue: 0, paid_orders: 0 },
      { customer_id: 3, revenue: 3.1, paid_orders: 1 },
      { customer_id: 4, revenue: 0, paid_orders: 0 },
    ]);
  });

  it('injects both ephemerals, innermost first, into the compiled SQL of the model that refs them', () => {
    const sql = resultOf(summary, 'customer_revenue').compiled_code!;
    const paid = sql.indexOf('__dbt__cte__int_paid_orders as (');
    const totals = sql.indexOf('__dbt__cte__int_customer_totals as (');
    expect(paid).toBeGreaterThan(-1);
    expect(totals).toBeGreaterThan(paid);
    expect(sql.trimStart().startsWith('with __dbt__cte__int_paid_orders')).toBe(true);
  });

  it('infers seed column types: integer, text, date, boolean, number', async () => {
    const cols = await f.with((p) => p.engine.describe(f.schema, 'customers'));
    const types = Object.fromEntries(cols!.map((c) => [c.name, c.type.toLowerCase()]));
    expect(types.id).toBe('integer');
    expect(types.name).toMatch(/^(varchar|text)$/);
    expect(types.signup_date).toBe('date');
    expect(types.active).toBe('boolean');
    expect(types.score).toMatch(/^(double|double precision)$/);
  });

  it('loads an empty seed cell as NULL', async () => {
    expect(await f.rows(`select score from ${f.rel('customers')} where id = 3`)).toEqual([
      { score: null },
    ]);
  });

  it("uses a seed's column_types from dbt_project.yml over the inferred type", async () => {
    const cols = await f.with((p) => p.engine.describe(f.schema, 'orders'));
    expect(cols!.find((c) => c.name === 'amount')!.type.toLowerCase()).toMatch(
      /^(decimal|numeric)\(10,2\)$/,
    );
  });

  it('gives nodes the tags of their folders in dbt_project.yml plus their own config() tags', async () => {
    await f.with(async (p) => {
      const tags = (name: string) =>
        [...p.parsed.manifest.nodes.values()].find((n) => n.name === name)!.tags.sort();
      expect(tags('stg_orders')).toEqual(['orders', 'shop', 'staging']);
      expect(tags('customer_revenue')).toEqual(['finance', 'shop']);
      expect(tags('customers')).toEqual(['seed']);
    });
  });

  it('reads project vars, per-project vars and var() defaults', async () => {
    expect(await context()).toMatchObject({
      greeting: 'hello',
      currency: 'EUR',
      defaulted: 'fallback',
    });
  });

  it('reads env_var() from the environment', async () => {
    expect((await context()).label).toBe('from the environment');
  });

  it('exposes target (name, type) and this', async () => {
    expect(await context()).toMatchObject({
      target_name: engine,
      target_type: engine,
      this_identifier: 'context_values',
    });
  });

  it("adapter.dispatch picks the engine's own macro, else default__", async () => {
    expect(await context()).toMatchObject(
      engine === 'duckdb'
        ? { engine_word: 'duckdb-specific', fallback_word: 'default' }
        : { engine_word: 'default', fallback_word: 'postgres-specific' },
    );
  });

  it('adapter.quote quotes an identifier with spaces and capitals', async () => {
    expect((await context())['Quoted Column']).toBe(1);
  });

  it('a macro hands a value back with return()', async () => {
    expect((await context()).units).toBe(12.5);
  });

  it('run_query reads the warehouse while compiling, and log(info=true) reports it', async () => {
    expect((await context()).customer_count).toBe(4);
    expect(logs).toContain('customers counted: 4');
  });

  it('renders doc() in a properties description into the manifest', async () => {
    await f.with(async (p) => {
      const node = p.parsed.manifest.nodes.get('model.shop.stg_customers')!;
      expect(node.description).toBe('One row per customer, from the customers seed.');
    });
  });

  it('compiles analyses but never runs them in build', () => {
    expect(summary.results.map((r) => r.unique_id)).not.toContain(
      'analysis.shop.revenue_by_country',
    );
  });

  it('writes the compiled SQL of each node under target/compiled/<project>/<path>', () => {
    expect(
      existsSync(join(f.dir, 'target/compiled/shop/models/marts/finance/customer_revenue.sql')),
    ).toBe(true);
    expect(f.read('target/compiled/shop/models/staging/stg_orders.sql')).toContain(
      `"${f.schema}"."orders"`,
    );
  });
});

describeEachEngine('choosing vars and targets', (engine) => {
  let f: DbtFixture;
  beforeAll(() => {
    f = new DbtFixture('shop', engine);
  });
  afterAll(() => f.cleanup());

  it('--vars overrides a project var', async () => {
    await f.run('seed');
    await f.run('run', { select: ['stg_orders'] }, { vars: { min_amount: 10 } });
    expect(await f.rows(`select order_id from ${f.rel('stg_orders')} order by 1`)).toEqual([
      { order_id: 10 },
      { order_id: 12 },
    ]);
  });

  it('ref() with two arguments (package, name) resolves in the project itself', async () => {
    await f.with(async (p) => {
      expect(p.parsed.manifest.nodes.get('model.shop.stg_orders')!.depends_on.nodes).toEqual([
        'seed.shop.orders',
      ]);
    });
  });

  it('the profile target picks the output, rendered with env_var()', async () => {
    await f.with(async (p) => {
      expect(p.target.name).toBe(engine);
      expect(p.target.type).toBe(engine);
      expect(p.target.schema).toBe(f.schema);
    });
  });
});
