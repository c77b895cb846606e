/**
 * dbt's node selection on the `shop` fixture: names, graph operators (+x, x+, n+x, @x), tag:,
 * path:, resource_type:, --exclude, comma intersection, and tests selected with their models.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listNodes, type OpenedDbtProject } from '../../src/models/index.js';
import { DbtFixture, describeEachEngine } from './dbt.js';

describeEachEngine('node selection', (engine) => {
  let f: DbtFixture;
  let p: OpenedDbtProject;
  beforeAll(async () => {
    f = new DbtFixture('shop', engine);
    p = await f.open();
  });
  afterAll(async () => {
    await p.close();
    await f.cleanup();
  });

  const models = (select: string[], exclude: string[] = []) =>
    listNodes(p.parsed, { select, exclude, resourceType: ['model'] }).map((n) => n.name);
  const all = (select: string[]) => listNodes(p.parsed, { select }).map((n) => n.name);

  it('a bare name selects that model', () => {
    expect(models(['stg_orders'])).toEqual(['stg_orders']);
  });

  it('selecting a model also selects its tests, and those of its tests that read it among others (eager)', () => {
    const names = all(['stg_customers']);
    expect(names[0]).toBe('stg_customers');
    expect(names.slice(1)).toEqual([
      'accepted_values_stg_customers_country__FR__DE',
      'not_null_stg_customers_customer_id',
      'relationships_stg_orders_customer_id__customer_id__ref_stg_customers_',
      'unique_stg_customers_customer_id',
    ]);
  });

  it('+model selects the model and everything upstream', () => {
    expect(models(['+customer_revenue'])).toEqual([
      'customer_revenue',
      'int_customer_totals',
      'int_paid_orders',
      'stg_customers',
      'stg_orders',
    ]);
    expect(
      listNodes(p.parsed, { select: ['+customer_revenue'], resourceType: ['seed'] }).map(
        (n) => n.name,
      ),
    ).toEqual(['customers', 'orders']);
  });

  it('model+ selects the model and everything downstream', () => {
    expect(models(['stg_orders+'])).toEqual([
      'customer_revenue',
      'int_customer_totals',
      'int_paid_orders',
      'stg_orders',
    ]);
  });

  it('2+model stops two generations upstream', () => {
    expect(models(['2+customer_revenue'])).toEqual([
      'customer_revenue',
      'int_customer_totals',
      'int_paid_orders',
      'stg_customers',
    ]);
  });

  it('@model selects the model, its descendants and all their ancestors', () => {
    expect(models(['@int_paid_orders'])).toEqual([
      'customer_revenue',
      'int_customer_totals',
      'int_paid_orders',
      'stg_customers',
      'stg_orders',
    ]);
  });

  it('tag: selects by tag, including tags set on folders in dbt_project.yml', () => {
    expect(models(['tag:finance'])).toEqual(['customer_revenue']);
    expect(models(['tag:staging'])).toEqual(['stg_customers', 'stg_orders']);
    expect(models(['tag:orders'])).toEqual(['stg_orders']);
  });

  it('path: selects the models under a folder', () => {
    expect(models(['path:models/marts'])).toEqual(['context_values', 'customer_revenue']);
  });

  it('resource_type: selects one kind of node', () => {
    expect(all(['resource_type:seed'])).toEqual(['customers', 'orders']);
  });

  it('--exclude removes nodes from the selection', () => {
    expect(models(['tag:shop'], ['tag:staging', 'context_values'])).toEqual([
      'customer_revenue',
      'int_customer_totals',
      'int_paid_orders',
    ]);
  });

  it('a comma intersects selectors', () => {
    expect(models(['tag:shop,path:models/marts'])).toEqual(['context_values', 'customer_revenue']);
    expect(models(['stg_orders+,tag:finance'])).toEqual(['customer_revenue']);
  });

  it('space-separated selectors are a union', () => {
    expect(models(['stg_orders stg_customers'])).toEqual(['stg_customers', 'stg_orders']);
  });

  it('`run -s` builds only the selection', async () => {
    await f.run('seed');
    const s = await f.run('run', { select: ['+stg_orders'] });
    expect(s.results.map((r) => r.unique_id)).toEqual(['model.shop.stg_orders']);
  });
});
