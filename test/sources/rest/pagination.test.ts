/**
 * Pagination: the connector walks every style an API may use, stops on an empty page, and fails
 * clearly, naming the endpoint and the cursor, when the API sends it round in a loop.
 */
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/core/index.js';
import { ids, lake, reply, restTable, startApi } from './harness.js';

const ALL = ids(1, 24);
const table = (url: string, extra: Record<string, unknown>) =>
  restTable({ base_url: url, tables: { items: { path: '/items', ...extra } } });

describe('REST pagination', () => {
  it('follows a cursor in the body until the body has none', async () => {
    const api = await startApi((url) => {
      const at = Number(url.searchParams.get('cursor') ?? 0);
      const next = at + 10 < ALL.length ? String(at + 10) : null;
      return { items: ALL.slice(at, at + 10), meta: { next } };
    });
    const l = lake();
    await l.land(
      table(api.url, {
        records: 'items',
        paginate: { type: 'cursor', cursor_path: 'meta.next', cursor_param: 'cursor' },
      }),
    );
    expect(await l.records()).toEqual(ALL);
    expect(api.requests.map((r) => r.url.searchParams.get('cursor'))).toEqual([null, '10', '20']);
  });

  it("follows Stripe's starting_after from the last record's id while has_more is true", async () => {
    const api = await startApi((url) => {
      const after = Number(url.searchParams.get('starting_after') ?? 0);
      const data = ALL.filter((r) => r.id > after).slice(0, 10);
      return { object: 'list', data, has_more: data.at(-1)!.id < ALL.at(-1)!.id };
    });
    const l = lake();
    await l.land(
      table(api.url, {
        records: 'data',
        paginate: {
          type: 'cursor',
          cursor_param: 'starting_after',
          from_last_record: 'id',
          has_more_path: 'has_more',
        },
      }),
    );
    expect(await l.records()).toEqual(ALL);
    expect(api.requests.map((r) => r.url.searchParams.get('starting_after'))).toEqual([
      null,
      '10',
      '20',
    ]);
  });

  it('follows a next link in the body, relative or absolute', async () => {
    const api = await startApi((url) => {
      const page = Number(url.searchParams.get('p') ?? 0);
      const next = page === 0 ? '/items?p=1' : page === 1 ? `${api.url}/items?p=2` : null;
      return { results: ALL.slice(page * 10, page * 10 + 10), next };
    });
    const l = lake();
    await l.land(
      table(api.url, { records: 'results', paginate: { type: 'next_link', next_path: 'next' } }),
    );
    expect(await l.records()).toEqual(ALL);
  });

  it('follows the rel="next" target of an RFC 5988 Link header', async () => {
    const api = await startApi((url, _req, res) => {
      const page = Number(url.searchParams.get('page') ?? 1);
      const links = [`<${api.url}/items?page=1>; rel="first"`];
      if (page < 3) links.push(`<${api.url}/items?page=${page + 1}>; rel="next"`);
      res.setHeader('link', links.join(', '));
      return ALL.slice((page - 1) * 10, page * 10);
    });
    const l = lake();
    await l.land(table(api.url, { paginate: { type: 'link_header' } }));
    expect(await l.records()).toEqual(ALL);
    expect(api.requests).toHaveLength(3);
  });

  it('walks offset and limit until a page comes back empty', async () => {
    const api = await startApi((url) => {
      const offset = Number(url.searchParams.get('offset'));
      const limit = Number(url.searchParams.get('limit'));
      return ALL.slice(offset, offset + limit);
    });
    const l = lake();
    await l.land(table(api.url, { paginate: { type: 'offset', limit: 10 } }));
    expect(await l.records()).toEqual(ALL);
    expect(api.requests.map((r) => r.url.searchParams.get('offset'))).toEqual([
      '0',
      '10',
      '20',
      '23',
    ]);
  });

  it('stops offset pagination once the total the body reports is reached', async () => {
    const api = await startApi((url) => {
      const offset = Number(url.searchParams.get('offset'));
      return { rows: ALL.slice(offset, offset + 10), total: ALL.length };
    });
    const l = lake();
    await l.land(
      table(api.url, {
        records: 'rows',
        paginate: { type: 'offset', limit: 10, total_path: 'total' },
      }),
    );
    expect(await l.records()).toEqual(ALL);
    expect(api.requests).toHaveLength(3);
  });

  it('walks page numbers with a page size until a page comes back empty', async () => {
    const api = await startApi((url) => {
      const page = Number(url.searchParams.get('page'));
      const size = Number(url.searchParams.get('per_page'));
      return ALL.slice(page * size, page * size + size);
    });
    const l = lake();
    await l.land(
      table(api.url, {
        paginate: { type: 'page', first_page: 0, size_param: 'per_page', size: 10 },
      }),
    );
    expect(await l.records()).toEqual(ALL);
    expect(api.requests.map((r) => r.url.searchParams.get('page'))).toEqual(['0', '1', '2', '3']);
  });

  it('fails naming the endpoint and the cursor when the API repeats a cursor', async () => {
    const api = await startApi(() => ({ items: ids(1, 3), next: 'abc' }));
    const l = lake();
    const err = await l
      .land(
        table(api.url, {
          records: 'items',
          paginate: { type: 'cursor', cursor_path: 'next', cursor_param: 'after' },
        }),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TributaryError);
    expect((err as TributaryError).message).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/items/);
    expect((err as TributaryError).message).toContain('after=abc');
    expect((err as TributaryError).message).toContain('loops');
    expect(await l.manifest()).toBeUndefined();
  });

  it('fails when a numbered page comes back the same as the one before (the API ignores the page)', async () => {
    const api = await startApi(() => ids(1, 5));
    const l = lake();
    await expect(l.land(table(api.url, { paginate: { type: 'page' } }))).rejects.toThrow(
      /same page twice.*page=2/,
    );
    expect(api.requests).toHaveLength(2);
  });

  it('fails naming the link when a next link points back to a page already read', async () => {
    const api = await startApi((url, _req, res) => {
      res.setHeader(
        'link',
        `<${api.url}/items?page=${url.searchParams.get('page') === '2' ? 1 : 2}>; rel="next"`,
      );
      return ids(1, 3);
    });
    const l = lake();
    await expect(l.land(table(api.url, { paginate: { type: 'link_header' } }))).rejects.toThrow(
      /same next link twice \(http:\/\/127\.0\.0\.1:\d+\/items\?page=2\)/,
    );
  });

  it('fails naming the path when the body holds no records array where the config says', async () => {
    const api = await startApi(() => ({ data: ids(1, 3) }));
    const l = lake();
    const err = (await l.land(table(api.url, {})).catch((e: unknown) => e)) as TributaryError;
    expect(err.message).toContain('without a records array');
    expect(err.hint).toContain('records: data');
  });

  it('lands one batch per run, and splits it when it grows past the split size', async () => {
    const api = await startApi((url) => {
      const page = Number(url.searchParams.get('page'));
      return ALL.slice((page - 1) * 10, page * 10);
    });
    const l = lake();
    const one = await l.land(table(api.url, { paginate: { type: 'page' } }));
    expect(one.landed).toHaveLength(1);
    const l2 = lake();
    const split = await l2.land(table(api.url, { paginate: { type: 'page' } }), {
      splitBytes: 100,
    });
    expect(split.landed.length).toBeGreaterThan(1);
    expect(await l2.records()).toEqual(ALL);
    expect(split.landed.map((b) => b.originalName)[1]).toBe('GET /items (part 2)');
  });

  it('sends the failing status and body when a non-retried status ends the walk', async () => {
    const api = await startApi((_url, _req, res) => reply(res, 404, '{"error":"no such thing"}'));
    const l = lake();
    await expect(l.land(table(api.url, {}))).rejects.toThrow(
      /GET http:\/\/127\.0\.0\.1:\d+\/items answered 404 Not Found: \{"error":"no such thing"\}/,
    );
    expect(api.requests).toHaveLength(1);
  });
});
