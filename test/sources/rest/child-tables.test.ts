/**
 * Child tables: a list inside each record lands as a raw table of its own, one row per element,
 * carrying the parent's key (`<parent>_<key>`) and the element's position (`_index`). The parent's
 * records land unchanged, list included.
 */
import { describe, expect, it } from 'vitest';
import type { TributaryError } from '../../../src/core/index.js';
import { lake, restTable, startApi } from './harness.js';

const table = (url: string, extra: Record<string, unknown> = {}) =>
  restTable(
    {
      base_url: url,
      tables: {
        orders: {
          path: '/orders',
          primary_key: ['id', 'meta.region'],
          child_tables: { order_lines: 'lines.data', order_tags: 'tags' },
          ...extra,
        },
      },
    },
    'orders',
  );

describe('REST child tables', () => {
  it('lands each list element as a child row with the parent key fields and _index', async () => {
    const api = await startApi(() => [
      {
        id: 7,
        meta: { region: 'eu' },
        lines: {
          data: [
            { sku: 'A', qty: 1 },
            { sku: 'B', qty: 2 },
          ],
        },
        tags: [],
      },
    ]);
    const l = lake();
    await l.land(table(api.url));
    expect(await l.records('order_lines')).toEqual([
      { orders_id: 7, orders_meta_region: 'eu', _index: 0, sku: 'A', qty: 1 },
      { orders_id: 7, orders_meta_region: 'eu', _index: 1, sku: 'B', qty: 2 },
    ]);
    expect(await l.records('orders')).toHaveLength(1);
  });

  it('lands list elements that are not objects under `value`', async () => {
    const api = await startApi(() => [{ id: 1, meta: { region: 'us' }, tags: ['new', 'gift'] }]);
    const l = lake();
    await l.land(table(api.url));
    expect(await l.records('order_tags')).toEqual([
      { orders_id: 1, orders_meta_region: 'us', _index: 0, value: 'new' },
      { orders_id: 1, orders_meta_region: 'us', _index: 1, value: 'gift' },
    ]);
  });

  it('adds no child rows, and commits no child batch, for records without the list', async () => {
    const api = await startApi(() => [{ id: 1, meta: { region: 'us' } }]);
    const l = lake();
    const result = await l.land(table(api.url));
    expect(result.landed).toHaveLength(1);
    expect(await l.manifest('order_lines')).toBeUndefined();
  });

  it('warns when the path holds something other than a list', async () => {
    const api = await startApi(() => [{ id: 1, meta: { region: 'us' }, tags: 'oops' }]);
    const result = await lake().land(table(api.url));
    expect(result.warnings).toEqual([
      '1 records of api.orders hold no list at tags; no order_tags rows from them',
    ]);
  });

  it('refuses child tables on a table without primary_key, before any request', async () => {
    const api = await startApi(() => []);
    const err = (await lake()
      .land(table(api.url, { primary_key: undefined }))
      .catch((e: unknown) => e)) as TributaryError;
    expect(err.code).toBe('CONFIG');
    expect(err.location?.path).toBe('sources.api.tables.orders.primary_key');
    expect(api.requests).toHaveLength(0);
  });

  it('lands nothing for a child table on its own: its parent lands it', async () => {
    const api = await startApi(() => [{ id: 1 }]);
    const l = lake();
    const result = await l.land({
      ...table(api.url),
      id: 'api.order_lines',
      table: 'order_lines',
      parent: { table: 'orders', path: 'lines.data' },
    });
    expect(result.landed).toEqual([]);
    expect(api.requests).toHaveLength(0);
  });
});
