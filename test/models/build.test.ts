/**
 * `build` as dbt runs it: seeds, models, snapshots and tests in graph order, each node's tests
 * right after it, everything downstream of a failure skipped; threads > 1; the artifacts
 * (target/manifest.json, target/run_results.json); compile errors that name their file; and an
 * error outside any node's own run, which ends the run.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { writeCatalog, type RunSummary } from '../../src/models/index.js';
import { DbtFixture, describeEachEngine, resultOf, statuses } from './dbt.js';
import { postgresTestUrl } from '../services.js';

describeEachEngine('build with a failing test', (engine) => {
  let f: DbtFixture;
  let summary: RunSummary;
  beforeAll(async () => {
    f = new DbtFixture('failing', engine);
    summary = await f.run('build', { threads: 2 });
  });
  afterAll(() => f.cleanup());

  it("runs a seed's tests right after the seed", () => {
    const ids = summary.results.map((r) => r.unique_id.split('.')[2]);
    expect(ids.indexOf('not_null_people_name')).toBeGreaterThan(ids.indexOf('people'));
    expect(ids.indexOf('not_null_people_name')).toBeLessThan(ids.indexOf('stg_people'));
  });

  it('skips every node downstream of a failing test, saying why', () => {
    expect(statuses(summary)).toMatchObject({
      people: 'success',
      not_null_people_name: 'fail',
      stg_people: 'skipped',
      greetings: 'skipped',
    });
    expect(resultOf(summary, 'stg_people').message).toBe(
      'skipped: upstream test not_null_people_name failed',
    );
    expect(resultOf(summary, 'greetings').message).toBe(
      'skipped: upstream model stg_people was skipped',
    );
  });

  it('still builds what does not depend on the failure', () => {
    expect(resultOf(summary, 'unrelated').status).toBe('success');
  });

  it('fails the run as a whole', () => {
    expect(summary.success).toBe(false);
  });

  it('records every node in run_results.json, skipped ones included', () => {
    const doc = JSON.parse(readFileSync(summary.runResultsPath, 'utf8')) as {
      metadata: { dbt_schema_version: string };
      results: { unique_id: string; status: string; failures: number | null }[];
      args: { which: string; threads: number };
    };
    expect(doc.metadata.dbt_schema_version).toBe(
      'https://schemas.getdbt.com/dbt/run-results/v6.json',
    );
    // dbt writes adapter_type in the manifest only; run-results v6 forbids it.
    expect(doc.metadata).not.toHaveProperty('adapter_type');
    expect(doc.args).toMatchObject({ which: 'build', threads: 2 });
    expect(
      Object.fromEntries(doc.results.map((r) => [r.unique_id.split('.')[2], r.status])),
    ).toEqual({
      people: 'success',
      not_null_people_name: 'fail',
      stg_people: 'skipped',
      greetings: 'skipped',
      unrelated: 'success',
    });
  });
});

describeEachEngine('run that cannot write its compiled SQL', (engine) => {
  let f: DbtFixture;
  beforeAll(() => {
    f = new DbtFixture('failing', engine);
    // A folder where stg_people's compiled SQL goes: writing it fails outside the node's own run.
    mkdirSync(join(f.dir, 'target/compiled/failing/models/stg_people.sql'), { recursive: true });
  });
  afterAll(() => f.cleanup());

  it('fails with that error and starts no node after it', async () => {
    await expect(f.run('run', { threads: 1 })).rejects.toThrow(/stg_people\.sql/);
    const built = await f.rows(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = '${f.schema}'`,
    );
    // stg_people runs first (greetings needs it, unrelated sorts after both); nothing else runs.
    expect(built.map((r) => r.table_name)).not.toContain('unrelated');
    expect(built.map((r) => r.table_name)).not.toContain('greetings');
  });
});

describeEachEngine('build with threads', (engine) => {
  let f: DbtFixture;
  let summary: RunSummary;
  beforeAll(async () => {
    f = new DbtFixture('shop', engine);
    summary = await f.run('build', { threads: 3 });
  });
  afterAll(() => f.cleanup());

  it('builds the whole project with three threads, running independent nodes side by side', () => {
    expect(summary.success).toBe(true);
    expect(new Set(summary.results.map((r) => r.thread_id)).size).toBeGreaterThan(1);
  });

  it('runs a model only after the tests of its parent (those testing that parent alone)', () => {
    const ids = summary.results.map((r) => r.unique_id);
    const after = ids.indexOf('model.shop.int_paid_orders');
    for (const id of ids.filter((i) =>
      /^test\.shop\.(unique|not_null|accepted_values|non_negative|at_most)_stg_orders_/.test(i),
    ))
      expect(ids.indexOf(id)).toBeLessThan(after);
  });

  it('writes target/manifest.json with nodes, sources, macros, docs and the parent and child maps', () => {
    const m = JSON.parse(f.read('target/manifest.json')) as {
      metadata: { dbt_schema_version: string; project_name: string; adapter_type: string };
      nodes: Record<
        string,
        {
          resource_type: string;
          depends_on: { nodes: string[] };
          config: { materialized: string };
          relation_name: string | null;
          database: string | null;
          original_file_path: string;
        }
      >;
      macros: Record<string, unknown>;
      docs: Record<string, unknown>;
      parent_map: Record<string, string[]>;
      child_map: Record<string, string[]>;
    };
    expect(m.metadata).toMatchObject({
      dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v12.json',
      project_name: 'shop',
      adapter_type: engine,
    });
    expect(m.nodes['model.shop.customer_revenue']).toMatchObject({
      resource_type: 'model',
      config: { materialized: 'table' },
      // The catalog: dbt-duckdb names it after the database file's stem, dbt-postgres `dbname`.
      database: engine === 'duckdb' ? 'warehouse' : new URL(postgresTestUrl).pathname.slice(1),
      relation_name: `"${engine === 'duckdb' ? 'warehouse' : new URL(postgresTestUrl).pathname.slice(1)}"."${f.schema}_finance"."customer_revenue"`,
      original_file_path: 'models/marts/finance/customer_revenue.sql',
    });
    expect(m.nodes['model.shop.int_paid_orders']!.relation_name).toBeNull();
    expect(m.parent_map['model.shop.int_customer_totals']).toEqual(['model.shop.int_paid_orders']);
    expect(m.child_map['seed.shop.orders']).toContain('model.shop.stg_orders');
    expect(Object.keys(m.macros)).toContain('macro.shop.cents_to_units');
    expect(Object.keys(m.docs)).toEqual(['doc.shop.customers_doc']);
    expect(Object.keys(m.nodes)).toContain('analysis.shop.revenue_by_country');
  });

  it('docs generate writes target/catalog.json with the columns of every built relation', async () => {
    await f.with((p) => writeCatalog(p.parsed, p.engine, 'docs-test'));
    const c = JSON.parse(f.read('target/catalog.json')) as {
      nodes: Record<
        string,
        { metadata: { type: string; schema: string }; columns: Record<string, { index: number }> }
      >;
    };
    expect(c.nodes['model.shop.stg_orders']!.metadata).toMatchObject({
      type: 'VIEW',
      schema: f.schema,
    });
    expect(Object.keys(c.nodes['model.shop.customer_revenue']!.columns)).toEqual([
      'customer_id',
      'name',
      'revenue',
      'paid_orders',
    ]);
    expect(c.nodes['model.shop.int_paid_orders']).toBeUndefined();
  });

  it('writes the compiled SQL of each test under target/compiled/<project>/<yml file>/<test>.sql', () => {
    expect(
      readFileSync(
        join(
          f.dir,
          'target/compiled/shop/models/staging/_staging.yml/not_null_stg_orders_order_id.sql',
        ),
        'utf8',
      ),
    ).toContain('where order_id is null');
  });
});

describeEachEngine('compile errors', (engine) => {
  let f: DbtFixture;
  beforeEach(() => {
    f = new DbtFixture('broken', engine);
  });
  afterEach(() => f.cleanup());

  const openError = async () => {
    try {
      await f.run('run');
    } catch (err) {
      return err as Error & {
        problems?: { message: string; location?: { file?: string; line?: number } }[];
      };
    }
    throw new Error('expected the project to fail to open');
  };

  it('refuses a model and a seed sharing a name, since ref() could not tell them apart', async () => {
    f.write('models/bad_call.sql', 'select 1 as n');
    f.write('models/people.sql', 'select 1 as id');
    f.write('seeds/people.csv', 'id\n1\n');
    const err = await openError();
    expect(err.problems?.[0]?.message).toBe(
      'two resources are named people (model models/people.sql and seed seeds/people.csv)',
    );
  });
});
