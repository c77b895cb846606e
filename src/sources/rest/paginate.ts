/**
 * Pagination: walks an endpoint page by page in each style an API may use (a cursor in the body,
 * Stripe's `starting_after` = last record's id with `has_more`, a next link in the body, an RFC
 * 8288/5988 Link header, offset/limit, page numbers). Every style stops on an empty page; a cursor
 * or link that comes back a second time is a loop, and fails naming the endpoint and the cursor.
 */
import { createHash } from 'node:crypto';
import type { Pagination } from './config.js';
import type { HttpClient } from './http.js';
import { getPath } from './records.js';

export interface Page {
  records: unknown[];
  /** The page's URL as messages may show it. */
  shown: string;
}

export interface Endpoint {
  /** The first request's URL, with the table's params (and the incremental one) set. */
  url: URL;
  /** Dotted path of the records array in each body; the body itself when undefined. */
  records: string | undefined;
  paginate: Pagination | undefined;
}

/** Yields the records of each page of an endpoint, requesting the next page only when asked. */
export async function* fetchPages(client: HttpClient, endpoint: Endpoint): AsyncGenerator<Page> {
  const p = endpoint.paginate;
  let url = new URL(endpoint.url);
  const seen = new Set<string>();
  let previousPage: string | undefined;
  let offset = p?.type === 'offset' ? Number(url.searchParams.get(p.offset_param) ?? 0) : 0;
  let page = p?.type === 'page' ? p.first_page : 0;
  if (p?.type === 'offset') {
    url.searchParams.set(p.offset_param, String(offset));
    url.searchParams.set(p.limit_param, String(p.limit));
  }
  if (p?.type === 'page') {
    url.searchParams.set(p.page_param, String(page));
    if (p.size_param && p.size) url.searchParams.set(p.size_param, String(p.size));
  }
  for (;;) {
    const response = await client.getJson(url);
    const records = recordsOf(client, response.body, endpoint.records, response.shown);
    yield { records, shown: response.shown };
    if (!p || records.length === 0) return;

    const loop = (what: string, value: string) =>
      client.error(
        `GET ${client.show(endpoint.url)} returned the same ${what} twice (${value}): the pagination loops`,
        {
          hint: 'the API ignores the page parameter or repeats its cursor; check paginate: in tributary.yml',
        },
      );
    let next: URL | undefined;
    switch (p.type) {
      case 'cursor': {
        if (p.has_more_path !== undefined && getPath(response.body, p.has_more_path) !== true)
          return;
        const raw = p.from_last_record
          ? getPath(records[records.length - 1], p.from_last_record)
          : getPath(response.body, p.cursor_path ?? '');
        if (raw === undefined || raw === null || raw === '' || raw === false) return;
        const cursor = typeof raw === 'string' ? raw : JSON.stringify(raw);
        if (seen.has(cursor)) throw loop('cursor', `${p.cursor_param}=${cursor}`);
        seen.add(cursor);
        next = new URL(url);
        next.searchParams.set(p.cursor_param, cursor);
        break;
      }
      case 'next_link':
      case 'link_header': {
        const link =
          p.type === 'next_link'
            ? getPath(response.body, p.next_path)
            : nextFromLinkHeader(response.headers.get('link'));
        if (typeof link !== 'string' || link === '') return;
        next = new URL(link, url);
        const key = client.show(next);
        seen.add(client.show(url));
        if (seen.has(key)) throw loop('next link', key);
        break;
      }
      case 'offset': {
        const total = p.total_path ? Number(getPath(response.body, p.total_path)) : NaN;
        offset += records.length;
        if (Number.isFinite(total) && offset >= total) return;
        next = new URL(url);
        next.searchParams.set(p.offset_param, String(offset));
        break;
      }
      case 'page': {
        page++;
        next = new URL(url);
        next.searchParams.set(p.page_param, String(page));
        break;
      }
    }
    if (p.type === 'offset' || p.type === 'page') {
      // Numbered pages cannot repeat a cursor, but an API that ignores the parameter repeats a page.
      const digest = createHash('sha256').update(JSON.stringify(records)).digest('hex');
      if (digest === previousPage) throw loop('page', response.shown);
      previousPage = digest;
    }
    url = next;
  }
}

/** The records array of a response body; a clear error when it is not where the config says. */
function recordsOf(
  client: HttpClient,
  body: unknown,
  path: string | undefined,
  shown: string,
): unknown[] {
  const value = path ? getPath(body, path) : body;
  if (Array.isArray(value)) return value;
  if (path && (value === undefined || value === null)) return [];
  const arrays =
    body && typeof body === 'object' && !Array.isArray(body)
      ? Object.entries(body)
          .filter(([, v]) => Array.isArray(v))
          .map(([k]) => k)
      : [];
  throw client.error(
    `GET ${shown} answered JSON without a records array ${path ? `at ${path}` : '(the body is not an array)'}`,
    {
      hint: arrays.length
        ? `set records: ${arrays[0]} on the table (arrays in the body: ${arrays.join(', ')})`
        : 'set records: <dotted path of the array> on the table',
    },
  );
}

/** The `rel="next"` target of a Link header (RFC 8288), if any. */
function nextFromLinkHeader(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!m) continue;
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;]+))/i.exec(m[2]!);
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (rels.includes('next')) return m[1];
  }
  return undefined;
}
