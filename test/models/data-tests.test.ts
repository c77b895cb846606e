/**
 * Data tests as dbt runs them: the built-in generic tests (unique, not_null, accepted_values,
 * relationships), custom generic tests from macros/ and tests/generic/, singular tests, and the
 * test configs severity, where and store_failures.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunSummary } from '../../src/models/index.js';
import { DbtFixture, describeEachEngine, resultOf } from './dbt.js';

describeEachEngine('data tests', (engine) => {
  let f: DbtFixture;
  let summary: RunSummary;

  beforeAll(async () => {
    f = new DbtFixture('shop', engine);
    await f.run('seed');
    await f.run('run');
    summary = await f.run('test');
  });
  afterAll(() => f.cleanup());

  const status = (name: string) => resultOf(summary, name).status;

  it('runs only tests in `test`', () => {
    expect(summary.results.every((r) => r.unique_id.startsWith('test.'))).toBe(true);
    expect(summary.results).toHaveLength(10);
  });

  it('passes unique and not_null on a key column', () => {
    expect(status('unique_stg_customers_customer_id')).toBe('pass');
    expect(status('not_null_stg_customers_customer_id')).toBe('pass');
  });

  it('passes accepted_values when every value is listed', () => {
    expect(status('accepted_values_stg_orders_status__paid__refunded__pending')).toBe('pass');
  });

  it('passes relationships when every key has a parent row', () => {
    const r = summary.results.find((x) => x.unique_id.includes('.relationships_stg_orders_'))!;
    expect(r.status).toBe('pass');
    expect(r.compiled_code).toContain(`"${f.schema}"."stg_customers"`);
  });

  it('runs a custom generic test defined with {% test %} in macros/', () => {
    expect(status('non_negative_stg_orders_amount')).toBe('pass');
  });

  it('runs a custom generic test defined in tests/generic/, with its arguments', () => {
    const r = resultOf(summary, 'at_most_stg_orders_amount__50');
    expect(r.compiled_code).toContain('> 50');
  });

  it("applies a test's where config: the refunded 100.00 order is outside it, so the test passes", () => {
    const r = resultOf(summary, 'at_most_stg_orders_amount__50');
    expect(r.compiled_code).toContain("where status = 'paid'");
    expect(r.status).toBe('pass');
  });

  it('runs a singular test from tests/', () => {
    expect(status('assert_revenue_matches_orders')).toBe('pass');
  });

  it('reports a failing test with severity warn as warn, and the run still succeeds', () => {
    const r = resultOf(summary, 'accepted_values_stg_customers_country__FR__DE');
    expect(r.status).toBe('warn');
    expect(r.failures).toBe(1);
    expect(summary.success).toBe(true);
  });

  it('store_failures keeps the failing rows in <schema>_dbt_test__audit', async () => {
    expect(
      await f.rows(
        `select value_field, n_records from ${f.rel('accepted_values_stg_customers_country__FR__DE', 'dbt_test__audit')}`,
      ),
    ).toEqual([{ value_field: 'NL', n_records: 1 }]);
  });
});

describeEachEngine('a failing data test', (engine) => {
  let f: DbtFixture;
  beforeAll(() => {
    f = new DbtFixture('failing', engine);
  });
  afterAll(() => f.cleanup());

  it('fails with severity error (the default), counts its failing rows and fails the run', async () => {
    await f.run('seed');
    const s = await f.run('test');
    const r = resultOf(s, 'not_null_people_name');
    expect(r.status).toBe('fail');
    expect(r.failures).toBe(1);
    expect(s.success).toBe(false);
  });
});
