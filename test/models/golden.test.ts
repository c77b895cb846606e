/**
 * Golden files for generated SQL: the compiled SQL of a few representative nodes, compared
 * exactly, on every engine (the same text is expected from both). The run's schema is written as
 * `<schema>` and the catalog relations print first (`"warehouse"`, `"test"`) as `<database>`, so
 * the files do not change from run to run or engine to engine. UPDATE_GOLDEN=1 rewrites them.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DbtFixture, describeEachEngine, resultOf } from './dbt.js';

const GOLDEN = fileURLToPath(new URL('./golden/', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';

/** Compares `sql` with golden/<name>.sql, or rewrites that file when UPDATE_GOLDEN=1. */
function expectGolden(name: string, sql: string, f: DbtFixture): void {
  const text = `${sql
    .replaceAll(f.schema, '<schema>')
    .replaceAll(`"${f.database}".`, '"<database>".')
    .trimEnd()}\n`;
  const path = `${GOLDEN}${name}.sql`;
  if (update) writeFileSync(path, text);
  if (!existsSync(path))
    throw new Error(`${path} is missing: run with UPDATE_GOLDEN=1 to write it`);
  expect(text).toBe(readFileSync(path, 'utf8'));
}

describeEachEngine('compiled SQL of the shop project', (engine) => {
  {
    let f: DbtFixture;
    let compiled: (name: string) => string;
    beforeAll(async () => {
      f = new DbtFixture('shop', engine);
      const s = await f.run('compile');
      compiled = (name) => resultOf(s, name).compiled_code!;
    });
    afterAll(() => f.cleanup());

    it('inlines nested ephemeral models as CTEs in front of the query, into its own WITH', () => {
      expectGolden('customer_revenue', compiled('customer_revenue'), f);
    });

    it('compiles a relationships test from its macro with the yml arguments', () => {
      const name = 'relationships_stg_orders_customer_id__customer_id__ref_stg_customers_';
      expectGolden('relationships_stg_orders_customer_id', compiled(name), f);
    });

    it('compiles a test with a where config as a filtered subquery of the model', () => {
      expectGolden('at_most_stg_orders_amount__50', compiled('at_most_stg_orders_amount__50'), f);
    });
  }
});

describeEachEngine('compiled SQL of an incremental model', (engine) => {
  {
    let f: DbtFixture;
    beforeAll(async () => {
      f = new DbtFixture('incremental', engine);
      await f.exec(
        `CREATE SCHEMA "${f.schema}_raw"`,
        `CREATE TABLE ${f.rel('raw_events', 'raw')} (id integer, account varchar, kind varchar, amount integer, loaded_at timestamp)`,
      );
    });
    afterAll(() => f.cleanup());

    it("compiles an incremental model's is_incremental() branch once its table exists", async () => {
      await f.run('run', { select: ['events_append'] });
      const s = await f.run('compile', { select: ['events_append'] });
      expectGolden('events_append_incremental', resultOf(s, 'events_append').compiled_code!, f);
    });
  }
});
