/**
 * Test configs as dbt applies them (fixture test/fixtures/dbt/testcfg): fail_calc, warn_if,
 * error_if, limit, severity, where, store_failures and store_failures_as, set in the test's own
 * macro body, in yml (under config: and at the top level) and in dbt_project.yml's data_tests:,
 * with dbt's precedence (project < macro body < yml), and the status dbt decides from the
 * get_test_sql row. The failing rows of six rows of raw_items are known, so each status is exact.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runVerb, type ParsedProject, type RunSummary } from '../../src/models/index.js';
import { DbtFixture, describeEachEngine, resultOf } from './dbt.js';

describeEachEngine('test configs', (engine) => {
  let f: DbtFixture;
  let summary: RunSummary;
  beforeAll(async () => {
    f = new DbtFixture('testcfg', engine);
    await f.run('seed');
    await f.run('run');
    summary = await f.run('test');
  });
  afterAll(() => f.cleanup());

  const outcome = (name: string) => {
    const r = resultOf(summary, name);
    return { status: r.status, failures: r.failures };
  };
  const audit = (name: string) => f.rel(name, 'dbt_test__audit');

  it("uses the fail_calc, warn_if and error_if of the test's macro body (sum 12 warns; count(*) 2 would pass)", () => {
    expect(outcome('amount_total_items_amount')).toEqual({ status: 'warn', failures: 12 });
    expect(resultOf(summary, 'amount_total_items_amount').message).toBe(
      'Got 12 results, configured to warn if >= 10',
    );
  });

  it('lets the yml config override the macro body (error_if >= 12 fails)', () => {
    expect(outcome('amount_total_strict')).toEqual({ status: 'fail', failures: 12 });
    expect(resultOf(summary, 'amount_total_strict').message).toBe(
      'Got 12 results, configured to fail if >= 12',
    );
  });

  it('lets the macro body override dbt_project.yml, and dbt_project.yml the defaults', () => {
    // lenient/: warn_if and error_if '> 100' from data_tests:, so one null category passes…
    expect(outcome('not_null_items_copy_category')).toEqual({ status: 'pass', failures: 0 });
    // …while amount_total's own warn_if (>= 10) wins over the project's.
    expect(outcome('amount_total_items_copy_amount')).toEqual({ status: 'warn', failures: 12 });
  });

  it('applies where (rendered with var()) as a filtered subquery of the model', () => {
    const r = resultOf(summary, 'not_null_items_category');
    expect(r.status).toBe('pass');
    expect(r.compiled_code).toContain("where status = 'ok') dbt_subquery");
  });

  it('takes the older top-level config keys (severity: warn) and reports warn, never fail', () => {
    expect(outcome('category_present_warn')).toEqual({ status: 'warn', failures: 1 });
    expect(outcome('unique_items_category')).toEqual({ status: 'warn', failures: 2 });
  });

  it('counts failures after limit (2 duplicated statuses, limit 1: error_if > 1 does not hold)', () => {
    expect(outcome('unique_items_status')).toEqual({ status: 'warn', failures: 1 });
  });

  it('runs singular tests with the config() of their file, and the defaults otherwise', () => {
    expect(outcome('negative_total')).toEqual({ status: 'pass', failures: 0 });
    expect(outcome('negative_rows')).toEqual({ status: 'fail', failures: 2 });
  });

  it("takes tags, meta and enabled from the test's macro body", async () => {
    const { money, disabled } = await f.with(async (p) => {
      const m = p.parsed.manifest;
      const tests = [...m.nodes.values()].filter((n) => n.resource_type === 'test');
      return {
        money: tests
          .filter((n) => n.tags.includes('money'))
          .map((n) => [n.name, n.config.meta])
          .sort(),
        disabled: [...m.disabled.values()].map((n) => n.name),
      };
    });
    expect(money).toEqual([
      ['amount_total_items_amount', { owner: 'finance' }],
      ['amount_total_items_copy_amount', { owner: 'finance' }],
      ['amount_total_strict', { owner: 'finance' }],
    ]);
    expect(disabled).toEqual(['switched_off_items_copy_amount']);
    expect(summary.results.some((r) => r.unique_id.includes('switched_off'))).toBe(false);
  });

  it('tags every test from dbt_project.yml data_tests:', async () => {
    const tagged = await f.with(async (p) =>
      [...p.parsed.manifest.nodes.values()]
        .filter((n) => n.resource_type === 'test')
        .map((n) => n.tags.includes('dq')),
    );
    expect(tagged).toEqual(Array(14).fill(true));
  });

  it('names a test whose argument is a float written as a whole number as Python prints it', () => {
    expect(outcome('at_least_items_amount___10_0')).toEqual({ status: 'pass', failures: 0 });
  });

  it('names a source test source_<test>_<source>_<table>_<column>, and runs it', () => {
    expect(outcome('source_not_null_raw_raw_items_id')).toEqual({ status: 'pass', failures: 0 });
  });

  it('stores failing rows in a table of <schema>_dbt_test__audit named after the test', async () => {
    expect(
      await f.rows(
        `select value_field, n_records from ${audit('accepted_values_items_category__a__b')}`,
      ),
    ).toEqual([{ value_field: 'c', n_records: 1 }]);
    expect(resultOf(summary, 'accepted_values_items_category__a__b').message).toContain(
      `failing rows in ${audit('accepted_values_items_category__a__b')}`,
    );
  });

  it("stores them in a view with store_failures_as: view, named by the test's schema and alias", async () => {
    const rel = f.rel('null_category_rows', 'audit_alt');
    expect(await f.rows(`select id from ${rel}`)).toEqual([{ id: 6 }]);
    const kind = await f.rows(
      `select table_type from information_schema.tables where table_schema = '${f.schema}_audit_alt' and table_name = 'null_category_rows'`,
    );
    expect(kind).toEqual([{ table_type: 'VIEW' }]);
  });

  it("errors on a store_failures_as dbt does not know, with dbt's message", () => {
    const r = resultOf(summary, 'status_bad_store_as');
    expect(r.status).toBe('error');
    expect(r.message).toContain(
      "'error' is not a valid value for `store_failures_as`. Accepted values are: ['ephemeral', 'table', 'view']",
    );
  });

  it('replaces the stored rows on the next run instead of adding to them', async () => {
    await f.exec(`insert into ${f.rel('raw_items')} values (7, 'd', 1, 'ok')`);
    await f.run('test', { select: ['accepted_values_items_category__a__b'] });
    expect(
      await f.rows(
        `select value_field from ${audit('accepted_values_items_category__a__b')} order by 1`,
      ),
    ).toEqual([{ value_field: 'c' }, { value_field: 'd' }]);
  });

  it('--store-failures stores every test without a store_failures config, and not those set to false', async () => {
    await f.run('test', {
      storeFailures: true,
      select: ['unique_items_category', 'not_null_items_category'],
    });
    expect(
      await f.rows(`select unique_field from ${audit('unique_items_category')} order by 1`),
    ).toEqual([{ unique_field: 'a' }, { unique_field: 'b' }]);
    const stored = await f.rows(
      `select table_name from information_schema.tables where table_schema = '${f.schema}_dbt_test__audit' and table_name = 'not_null_items_category'`,
    );
    expect(stored).toEqual([]);
  });
});

describeEachEngine("singular tests' configs from a properties file (data_tests:)", (engine) => {
  let f: DbtFixture;
  let summary: RunSummary;
  let parsed: ParsedProject;
  const negatives = "select amount from {{ ref('items') }} where amount < 0\n";
  beforeAll(async () => {
    f = new DbtFixture('testcfg', engine);
    f.write('tests/money/negative_rows_warn.sql', negatives);
    f.write('tests/negative_thresholds.sql', negatives);
    f.write('tests/negative_guarded.sql', `{{ config(severity='error') }}\n${negatives}`);
    f.write('tests/negative_store.sql', negatives);
    f.write('tests/switched_off_test.sql', negatives);
    f.write(
      'tests/money/singular.yml',
      [
        'version: 2',
        'data_tests:',
        '  - name: negative_rows_warn',
        '    description: Negative amounts, a warning only',
        '    config:',
        `      severity: "{{ 'warn' }}"`,
        '      tags: [money]',
        '  - name: negative_thresholds',
        '    config: {warn_if: "> 1", error_if: "> 5"}',
        '  - name: negative_guarded',
        '    config: {severity: warn}',
        '  - name: negative_store',
        '    config: {store_failures: true}',
        '  - name: switched_off_test',
        '    config: {enabled: false}',
        '  - name: no_such_test',
        '    description: describes nothing',
        '',
      ].join('\n'),
    );
    await f.run('seed');
    await f.run('run');
    summary = await f.with(async (p) => {
      parsed = p.parsed;
      return runVerb(p.parsed, p.engine, { verb: 'test' });
    });
  });
  afterAll(() => f.cleanup());

  const outcome = (name: string) => {
    const r = resultOf(summary, name);
    return { status: r.status, failures: r.failures, message: r.message };
  };

  it('applies severity (rendered), tags and the description of its entry', () => {
    expect(outcome('negative_rows_warn')).toEqual({
      status: 'warn',
      failures: 2,
      message: 'Got 2 results, configured to warn if != 0',
    });
    const node = parsed.manifest.nodes.get('test.testcfg.negative_rows_warn')!;
    expect(node.description).toBe('Negative amounts, a warning only');
    // dbt_project.yml's data_tests: tag, then the entry's.
    expect(node.config.tags).toEqual(['dq', 'money']);
    expect(node.patch_path).toBe('testcfg://tests/money/singular.yml');
  });

  it('applies warn_if and error_if', () => {
    expect(outcome('negative_thresholds')).toEqual({
      status: 'warn',
      failures: 2,
      message: 'Got 2 results, configured to warn if > 1',
    });
  });

  it("lets the test file's config() win over its entry, as dbt applies config calls last", () => {
    expect(outcome('negative_guarded').status).toBe('fail');
  });

  it('stores failures when the entry says store_failures', async () => {
    expect(outcome('negative_store').message).toContain(f.rel('negative_store', 'dbt_test__audit'));
    expect(
      await f.rows(`select amount from ${f.rel('negative_store', 'dbt_test__audit')} order by 1`),
    ).toEqual([{ amount: -7 }, { amount: -5 }]);
  });

  it('disables the test with enabled: false, and warns about an entry naming no test', () => {
    expect(summary.results.some((r) => r.unique_id.includes('switched_off_test'))).toBe(false);
    expect(parsed.manifest.disabled.has('test.testcfg.switched_off_test')).toBe(true);
    expect(
      parsed.warnings.some(
        (w) =>
          w.event === 'NoNodeForYamlKey' && w.message.includes('data_tests entry no_such_test'),
      ),
    ).toBe(true);
  });
});
