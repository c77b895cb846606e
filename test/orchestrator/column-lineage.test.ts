/**
 * Column lineage of the e-commerce template, end to end and without running anything: the
 * models are compiled and parsed by an in-memory DuckDB. A dim_customers column is followed back
 * through the snapshot and staging to the landing file's field (the contract's `from`), a landing
 * field forward to dashboard tiles and to a CRM sync's destination fields, and a model DuckDB's
 * parse tree cannot resolve (PIVOT) is reported as such, with what it reads.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { templateDir } from '../../src/cli/paths.js';
import {
  loadColumnLineage,
  locateColumn,
  traceColumn,
  type AssetGraph,
  type ColumnLineage,
  type TracedColumn,
} from '../../src/orchestrator/index.js';
import { tempDir } from '../helpers.js';

let graph: AssetGraph;
let lineage: ColumnLineage;

const trace = (ref: string, direction: 'upstream' | 'downstream') => {
  const { asset, column } = locateColumn(lineage, graph, ref);
  return traceColumn(lineage, asset, column, direction);
};
const hops = (list: TracedColumn[] | undefined) =>
  (list ?? []).map((t) => `${t.id} [${t.transform}]`);

/** An error's message and hint, as the CLI prints them. */
function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    const e = err as Error & { hint?: string };
    return `${e.message} (${e.hint ?? ''})`;
  }
  throw new Error('expected an error');
}

beforeAll(async () => {
  const dir = join(tempDir('trib-col-lineage-'), 'shop');
  cpSync(templateDir('ecommerce'), dir, {
    recursive: true,
    filter: (p) => !p.includes('generator'),
  });
  // A CRM sync of dim_customers' current rows, and a model whose columns depend on the data.
  // Named apart from any sync the template has, and added to its destinations if it has some.
  const config = readFileSync(join(dir, 'tributary.yml'), 'utf8');
  const destination =
    '  lineage_crm: { type: hubspot, base_url: "http://127.0.0.1:9", token: { env: CRM_TOKEN } }\n';
  writeFileSync(
    join(dir, 'tributary.yml'),
    /^destinations:[ \t]*\n/m.test(config)
      ? config.replace(/^destinations:[ \t]*\n/m, (m) => m + destination)
      : `${config}\ndestinations:\n${destination}`,
  );
  mkdirSync(join(dir, 'syncs'), { recursive: true });
  writeFileSync(
    join(dir, 'syncs', 'lineage_contacts.yml'),
    `source: { sql: "select * from dim_customers where is_current" }
destination: lineage_crm
object: contacts
match: { source: email, destination: email }
fields:
  - { source: email, destination: email, transform: lower }
  - { source: full_name, destination: firstname }
  - { source: city, destination: city }
  - { source: signup_date, destination: createdate, cast: date }
  - { constant: customer, destination: lifecyclestage }
`,
  );
  // A seed, expanded by * in a model through its CSV header.
  mkdirSync(join(dir, 'seeds'), { recursive: true });
  writeFileSync(join(dir, 'seeds', 'state_names.csv'), 'state,state_name\nCA,California\n');
  writeFileSync(
    join(dir, 'models', 'marts', 'customer_states.sql'),
    `select c.customer_id, s.* from {{ ref('dim_customers') }} c join {{ ref('state_names') }} s using (state)\n`,
  );
  writeFileSync(
    join(dir, 'models', 'marts', 'sales_by_status.sql'),
    `select * from {{ ref('fct_sales') }} pivot (sum(net_amount) for order_status in ('completed', 'returned'))\n`,
  );
  ({ graph, lineage } = await loadColumnLineage(dir));
}, 120_000);

describe('column lineage of the e-commerce template', () => {
  it('follows a dim_customers column back through the snapshot and staging to the landing file field', () => {
    const city = trace('dim_customers.city', 'upstream');
    expect(city.id).toBe('model:dim_customers.city');
    expect(hops(city.upstream)).toEqual([
      'snapshot:customers_snapshot.city [identity]',
      'model:stg_shop_customers.city [identity]',
      'processed:customers.city [identity]',
      // The contract reads it from the JSON path address.city of customers*.json.
      'raw:shop.customers.address.city [rename]',
    ]);
    // email is lower-cased in staging: a derived hop on the way.
    const email = trace('model:dim_customers.email', 'upstream');
    expect(hops(email.upstream)).toContain('processed:customers.email [derived]');
    expect(email.upstream!.at(-1)!.id).toBe('raw:shop.customers.email');
    // full_name is made of two file fields.
    const name = trace('dim_customers.full_name', 'upstream');
    expect(
      name.upstream!.filter((t) => t.asset === 'raw:shop.customers').map((t) => t.column),
    ).toEqual(['first_name', 'last_name']);
  });

  it('follows a landing file field forward through fct_sales to dashboard tiles', () => {
    const quantity = trace('raw:shop.order_lines.quantity', 'downstream');
    const ids = quantity.downstream!.map((t) => t.id);
    expect(ids).toContain('model:stg_shop_order_lines.net_amount');
    expect(ids).toContain('model:fct_sales.net_amount');
    expect(ids).toContain('dashboard:executive.revenue.value');
    expect(ids).toContain('dashboard:product.units.value');
    // Nothing about the order's notes reaches the revenue tile.
    const notes = trace('raw:shop.orders.notes', 'downstream');
    expect(notes.downstream!.map((t) => t.id)).not.toContain('dashboard:executive.revenue.value');
  });

  it('follows a CRM field back to the file field, and a file field forward to the CRM fields', () => {
    const crmEmail = trace('sync:lineage_contacts.email', 'upstream');
    // The match key's field is mapped with transform: lower, so the hop is derived.
    expect(crmEmail.upstream![0]).toMatchObject({
      id: 'model:dim_customers.email',
      transform: 'derived',
    });
    expect(crmEmail.upstream!.at(-1)!.id).toBe('raw:shop.customers.email');
    const first = trace('raw:shop.customers.first_name', 'downstream');
    // Made in staging (trim(first_name || ' ' || last_name)), synced as it is under another name.
    expect(hops(first.downstream)).toContain('model:stg_shop_customers.full_name [derived]');
    expect(hops(first.downstream)).toContain('sync:lineage_contacts.firstname [rename]');
    const city = trace('raw:shop.customers.address.city', 'downstream');
    expect(hops(city.downstream)).toContain('sync:lineage_contacts.city [identity]');
    const signup = trace('dim_customers.signup_date', 'downstream');
    expect(hops(signup.downstream)).toContain('sync:lineage_contacts.createdate [derived]');
    // A constant has no upstream column.
    expect(trace('sync:lineage_contacts.lifecyclestage', 'upstream').upstream).toEqual([]);
  });

  it("follows the template's own CRM sync back to the order lines' file fields", () => {
    const value = trace('sync:crm_contacts.lifetime_value', 'upstream');
    expect(value.upstream![0]).toMatchObject({
      id: 'model:customer_lifecycle.lifetime_value',
      transform: 'derived', // cast: number
    });
    expect(value.upstream!.map((t) => t.id)).toEqual(
      expect.arrayContaining([
        'model:fct_sales.net_amount',
        'raw:shop.order_lines.quantity',
        'raw:shop.order_lines.unit_price',
        'raw:shop.order_lines.discount',
      ]),
    );
  });

  it('says it could not resolve a PIVOT model, and lists it as a table-level reader downstream', () => {
    expect(lineage.unresolved.get('model:sales_by_status')).toMatch(/PIVOT/);
    expect(lineage.columns.get('model:sales_by_status')).toBeUndefined();
    const net = trace('fct_sales.net_amount', 'downstream');
    const readers = net.tableLevel!.map((t) => t.asset);
    expect(readers).toContain('model:sales_by_status');
    expect(net.tableLevel!.find((t) => t.asset === 'model:sales_by_status')!.reason).toMatch(
      /PIVOT/,
    );
    expect(failure(() => locateColumn(lineage, graph, 'sales_by_status.completed'))).toMatch(
      /no column completed \(its columns could not be resolved: .*PIVOT/,
    );
  });

  it('expands * over a seed with the columns of its CSV header', () => {
    expect(lineage.columns.get('model:customer_states')).toEqual([
      'customer_id',
      'state',
      'state_name',
    ]);
    // USING (state): s.* keeps the seed's own state column.
    expect(hops(trace('customer_states.state_name', 'upstream').upstream)).toEqual([
      'seed:state_names.state_name [identity]',
    ]);
  });

  it('names the columns there are when a column does not exist', () => {
    expect(failure(() => locateColumn(lineage, graph, 'dim_customers.nope'))).toMatch(
      /model:dim_customers has no column nope \(its columns: customer_key, customer_id, full_name, email/,
    );
    expect(() => locateColumn(lineage, graph, 'nothing.here')).toThrow(/no relation matches/);
  });
});
