/**
 * Test names and unique_ids exactly as dbt-core builds them (TestBuilder and
 * SchemaGenericTestParser.create_test_node): the full synthesized name, the hashed short name
 * only as the alias of names of 64 characters or more, and the 10-character suffix (the last 10
 * hex digits of md5(name + repr(sorted test metadata))).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { OpenedDbtProject } from '../../src/models/index.js';
import { synthesizeTestName, testHash } from '../../src/models/parsers/test-specs.js';
import { DbtFixture, describeEachEngine } from './dbt.js';

/**
 * The test unique_ids dbt-core wrote for dbt-labs/jaffle_shop, copied from a manifest it generated:
 * repository InfuseAI/piperider, file tests/mock_dbt_data/compatible/dbt-postgres-1.3.4-manifest.json
 * (commit 737ea56a8c7d66d5605cace6c5c531bb8ef048fb), its parent_map and child_map. The hash has
 * not changed since: dbt-core 1.8/1.9's create_test_node computes it the same way, and the same 20
 * ids appear in the jaffle_shop_duckdb parse gate of a dbt-1.8-era project found through the
 * search tool (the list EXPECTED_TESTS, compared there against a dbt manifest).
 */
const DBT_JAFFLE_SHOP_TEST_IDS = [
  'test.jaffle_shop.accepted_values_orders_status__placed__shipped__completed__return_pending__returned.be6b5b5ec3',
  'test.jaffle_shop.accepted_values_stg_orders_status__placed__shipped__completed__return_pending__returned.080fb20aad',
  'test.jaffle_shop.accepted_values_stg_payments_payment_method__credit_card__coupon__bank_transfer__gift_card.3c3820f278',
  'test.jaffle_shop.not_null_customers_customer_id.5c9bf9911d',
  'test.jaffle_shop.not_null_orders_amount.106140f9fd',
  'test.jaffle_shop.not_null_orders_bank_transfer_amount.7743500c49',
  'test.jaffle_shop.not_null_orders_coupon_amount.ab90c90625',
  'test.jaffle_shop.not_null_orders_credit_card_amount.d3ca593b59',
  'test.jaffle_shop.not_null_orders_customer_id.c5f02694af',
  'test.jaffle_shop.not_null_orders_gift_card_amount.413a0d2d7a',
  'test.jaffle_shop.not_null_orders_order_id.cf6c17daed',
  'test.jaffle_shop.not_null_stg_customers_customer_id.e2cfb1f9aa',
  'test.jaffle_shop.not_null_stg_orders_order_id.81cfe2fe64',
  'test.jaffle_shop.not_null_stg_payments_payment_id.c19cc50075',
  'test.jaffle_shop.relationships_orders_customer_id__customer_id__ref_customers_.c6ec7f58f2',
  'test.jaffle_shop.unique_customers_customer_id.c5af1ff4b1',
  'test.jaffle_shop.unique_orders_order_id.fed79b3a6e',
  'test.jaffle_shop.unique_stg_customers_customer_id.c7614daada',
  'test.jaffle_shop.unique_stg_orders_order_id.e3b841c71a',
  'test.jaffle_shop.unique_stg_payments_payment_id.3744510712',
];

describeEachEngine('jaffle_shop test unique_ids', (engine) => {
  let f: DbtFixture;
  let p: OpenedDbtProject;
  beforeAll(async () => {
    f = new DbtFixture('jaffle_shop', engine);
    p = await f.open();
  });
  afterAll(async () => {
    await p.close();
    await f.cleanup();
  });

  const tests = () =>
    [...p.parsed.manifest.nodes.values()].filter((n) => n.resource_type === 'test');

  it("equal the ones dbt-core wrote for jaffle_shop's manifest", () => {
    expect(
      tests()
        .map((n) => n.unique_id)
        .sort(),
    ).toEqual(DBT_JAFFLE_SHOP_TEST_IDS);
  });

  it("keep the full name as node name and fqn; only a name of 64+ characters gets dbt's hashed alias", () => {
    const n = p.parsed.manifest.nodes.get(
      'test.jaffle_shop.accepted_values_stg_orders_status__placed__shipped__completed__return_pending__returned.080fb20aad',
    )!;
    // 97 characters: the name stays whole, the relation gets dbt's hashed alias.
    expect(n.name).toBe(
      'accepted_values_stg_orders_status__placed__shipped__completed__return_pending__returned',
    );
    expect(n.fqn).toEqual(['jaffle_shop', 'staging', n.name]);
    expect(n.alias).toMatch(/^accepted_values_stg_orders_[0-9a-f]{32}$/);
    expect(n.path).toBe(`${n.alias}.sql`);
    const short = p.parsed.manifest.nodes.get(
      'test.jaffle_shop.unique_orders_order_id.fed79b3a6e',
    )!;
    expect([short.name, short.alias, short.path]).toEqual([
      'unique_orders_order_id',
      'unique_orders_order_id',
      'unique_orders_order_id.sql',
    ]);
  });

  it('keep dbt’s test metadata: kwargs with the model as get_where_subquery(ref(…))', () => {
    const n = p.parsed.manifest.nodes.get(
      'test.jaffle_shop.relationships_orders_customer_id__customer_id__ref_customers_.c6ec7f58f2',
    )!;
    expect(n.test_metadata).toEqual({
      name: 'relationships',
      namespace: null,
      kwargs: {
        to: "ref('customers')",
        field: 'customer_id',
        column_name: 'customer_id',
        model: "{{ get_where_subquery(ref('orders')) }}",
      },
    });
    expect(n.refs.map((r) => r.name)).toEqual(['customers', 'orders']);
    expect(n.schema).toBe(`${f.schema}_dbt_test__audit`);
  });

  it('all pass on the data the fixture seeds (unique, not_null, accepted_values, relationships)', async () => {
    const { runVerb } = await import('../../src/models/index.js');
    const s = await runVerb(p.parsed, p.engine, { verb: 'build' });
    const bad = s.results.filter((r) => r.status !== 'success' && r.status !== 'pass');
    expect(bad.map((r) => `${r.unique_id}: ${r.status} ${r.message}`)).toEqual([]);
    expect(s.results.filter((r) => r.unique_id.startsWith('test.'))).toHaveLength(20);
  });
});

it('names package tests with their namespace and source tests as dbt does', () => {
  // dbt_utils_expression_is_true_<model>_<expression>: the namespace leads the test type.
  expect(
    synthesizeTestName('dbt_utils_expression_is_true', 'orders', {
      expression: 'amount >= 0',
      model: "{{ get_where_subquery(ref('orders')) }}",
    }),
  ).toEqual({
    short: 'dbt_utils_expression_is_true_orders_amount_0',
    full: 'dbt_utils_expression_is_true_orders_amount_0',
  });
  // A source test: `source_` before the test's name, `<source>_<table>` as the target.
  expect(
    synthesizeTestName('source_not_null', 'raw_orders', {
      column_name: 'id',
      model: "{{ get_where_subquery(source('raw', 'orders')) }}",
    }).full,
  ).toBe('source_not_null_raw_orders_id');
  // 64 characters or more: the first 30 identifying characters and the md5 of the full name.
  const long = synthesizeTestName('accepted_values', 'orders', {
    column_name: 'status',
    values: ['placed', 'shipped', 'completed', 'return_pending', 'returned'],
  });
  expect(long.full).toBe(
    'accepted_values_orders_status__placed__shipped__completed__return_pending__returned',
  );
  expect(long.short).toBe(
    `accepted_values_orders_${createHash('md5').update(long.full).digest('hex')}`,
  );
});

it('hashes test metadata as dbt does (md5 of name + repr of the sorted metadata, last 10)', () => {
  // The expected value is dbt's, from the manifest cited above.
  expect(
    testHash('unique_customers_customer_id', {
      namespace: null,
      name: 'unique',
      kwargs: {
        column_name: 'customer_id',
        model: "{{ get_where_subquery(ref('customers')) }}",
      },
    }),
  ).toBe('c5af1ff4b1');
});

describeEachEngine('a source test unique_id', (engine) => {
  let f: DbtFixture;
  beforeAll(() => {
    f = new DbtFixture('jaffle_shop', engine);
  });
  afterAll(() => f.cleanup());

  it('equals the one dbt wrote for source_not_null_jaffle_shop_customers_id', async () => {
    // The declaration of dbt-labs' jaffle_shop tutorial: source jaffle_shop, table customers.
    f.write(
      'models/sources.yml',
      [
        'version: 2',
        'sources:',
        '  - name: jaffle_shop',
        '    schema: "{{ target.schema }}"',
        '    tables:',
        '      - name: customers',
        '        columns:',
        '          - name: id',
        '            tests: [not_null]',
      ].join('\n'),
    );
    // Expected value: the `-- node_id: test.jaffle_shop.source_not_null_jaffle_shop_customers_id.50aa22178f`
    // comments of dbt query logs committed to a public GitHub repository, found with the code
    // search for that string (the search shows the file, not its repository's name).
    const ids = await f.with(async (p) =>
      [...p.parsed.manifest.nodes.keys()].filter((id) => id.includes('.source_')),
    );
    expect(ids).toEqual(['test.jaffle_shop.source_not_null_jaffle_shop_customers_id.50aa22178f']);
  });
});
