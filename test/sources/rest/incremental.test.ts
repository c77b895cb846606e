/**
 * Incremental endpoints: the cursor (the greatest `cursor_field` landed) lives in the raw
 * manifest, committed in the same swap as the batch it covers; the next run asks from it,
 * inclusive, and records fetched again unchanged do not land twice. A failed run moves nothing.
 */
import { describe, expect, it } from 'vitest';
import type { RestCursor } from '../../../src/sources/index.js';
import { lake, reply, restTable, startApi } from './harness.js';

interface Charge {
  id: string;
  created: number;
  amount?: number;
}

/** An API over a mutable list, filtering by `created[gte]`, oldest first, pages of 2. */
async function chargesApi(charges: Charge[], opts: { failPage?: () => number | undefined } = {}) {
  return startApi((url, _req, res) => {
    const gte = url.searchParams.get('created[gte]');
    const page = Number(url.searchParams.get('page'));
    if (page === opts.failPage?.()) return reply(res, 400, 'no');
    const rows = charges.filter((c) => gte === null || c.created >= Number(gte));
    return { data: rows.slice((page - 1) * 2, page * 2) };
  });
}

const table = (url: string, initial?: number) =>
  restTable({
    base_url: url,
    tables: {
      items: {
        path: '/charges',
        records: 'data',
        paginate: { type: 'page' },
        incremental: {
          cursor_field: 'created',
          param: 'created[gte]',
          ...(initial !== undefined ? { initial } : {}),
        },
      },
    },
  });

describe('REST incremental runs', () => {
  it('stores the greatest cursor value in the raw manifest with the batch that holds it', async () => {
    const api = await chargesApi([
      { id: 'a', created: 10 },
      { id: 'b', created: 30 },
      { id: 'c', created: 20 },
    ]);
    const l = lake();
    const result = await l.land(table(api.url));
    const m = (await l.manifest())!;
    expect(m.batches.map((b) => b.id)).toEqual(result.landed.map((b) => b.id));
    expect(m.version).toBe(1);
    expect((m.cursor as unknown as RestCursor).value).toBe(30);
    expect(api.requests[0]!.url.searchParams.has('created[gte]')).toBe(false);
  });

  it('asks from `initial` on the first run', async () => {
    const api = await chargesApi([{ id: 'a', created: 10 }]);
    await lake().land(table(api.url, 5));
    expect(api.requests[0]!.url.searchParams.get('created[gte]')).toBe('5');
  });

  it('asks from the stored cursor on the next run and lands only what is new', async () => {
    const charges: Charge[] = [
      { id: 'a', created: 10 },
      { id: 'b', created: 20 },
    ];
    const api = await chargesApi(charges);
    const l = lake();
    await l.land(table(api.url));
    charges.push({ id: 'c', created: 20 }, { id: 'd', created: 25 });
    await l.land(table(api.url));
    expect(api.requests.at(-1)!.url.searchParams.get('created[gte]')).toBe('20');
    expect((await l.records()).map((r) => (r as Charge).id)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('lands nothing and keeps the manifest when a run finds nothing new', async () => {
    const api = await chargesApi([
      { id: 'a', created: 10 },
      { id: 'b', created: 20 },
    ]);
    const l = lake();
    await l.land(table(api.url));
    const before = await l.manifest();
    const again = await l.land(table(api.url));
    expect(again.landed).toEqual([]);
    expect(await l.manifest()).toEqual(before);
  });

  it('lands a record again when it changed without moving the cursor', async () => {
    const charges: Charge[] = [{ id: 'a', created: 10, amount: 1 }];
    const api = await chargesApi(charges);
    const l = lake();
    await l.land(table(api.url));
    charges[0]!.amount = 2;
    const again = await l.land(table(api.url));
    expect(again.landed).toHaveLength(1);
    expect(await l.records()).toEqual([
      { id: 'a', created: 10, amount: 1 },
      { id: 'a', created: 10, amount: 2 },
    ]);
  });

  it('never moves the cursor past data that was not committed: a failed page keeps both', async () => {
    const charges: Charge[] = [
      { id: 'a', created: 10 },
      { id: 'b', created: 20 },
    ];
    let failPage: number | undefined;
    const api = await chargesApi(charges, { failPage: () => failPage });
    const l = lake();
    await l.land(table(api.url));
    const before = await l.manifest();
    charges.push({ id: 'c', created: 30 }, { id: 'd', created: 40 }, { id: 'e', created: 50 });
    failPage = 2;
    await expect(l.land(table(api.url))).rejects.toThrow(/answered 400/);
    expect(await l.manifest()).toEqual(before);
    failPage = undefined;
    await l.land(table(api.url));
    expect((await l.records()).map((r) => (r as Charge).id)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(((await l.manifest())!.cursor as unknown as RestCursor).value).toBe(50);
  });

  it('orders string cursors (ISO timestamps) as text', async () => {
    const api = await startApi((url) =>
      url.searchParams.get('since')
        ? []
        : [
            { id: 1, updated_at: '2026-01-02T00:00:00Z' },
            { id: 2, updated_at: '2026-01-10T00:00:00Z' },
            { id: 3, updated_at: '2026-01-03T00:00:00Z' },
          ],
    );
    const l = lake();
    const t = restTable({
      base_url: api.url,
      tables: {
        items: { path: '/x', incremental: { cursor_field: 'updated_at', param: 'since' } },
      },
    });
    await l.land(t);
    await l.land(t);
    expect(api.requests[1]!.url.searchParams.get('since')).toBe('2026-01-10T00:00:00Z');
  });
});
