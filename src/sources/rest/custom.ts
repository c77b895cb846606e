/**
 * The escape hatch for APIs no configuration describes: a table names `module:`, a .js (or, under
 * a TypeScript-aware runtime, .ts) file exporting `async function* fetch(ctx)` that yields records
 * or arrays of records (pages). The module gets the connector's HTTP client, so auth, rate limits,
 * retries, timeouts and secret redaction still apply; landing, child tables and the cursor work
 * exactly as for configured endpoints.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TributaryError } from '../../core/index.js';
import type { RestSourceTable } from '../../project/index.js';
import type { HttpClient } from './http.js';
import type { Page } from './paginate.js';
import type { CursorValue } from './records.js';

/** What a custom module's `fetch(ctx)` receives. */
export interface CustomFetchContext {
  /** The endpoint's first URL: base_url + path + params (+ the incremental param). */
  url: URL;
  /** Where the incremental cursor stands (the value to ask from), if the table is incremental. */
  cursor: CursorValue | undefined;
  /** GETs a URL (or a path under base_url) as JSON, with the source's auth, limits and retries. */
  get(url: string | URL): Promise<unknown>;
  /** The Link header's and other response headers of the last `get`. */
  lastHeaders: Headers | undefined;
  /** Set when the run is cancelled: stop yielding. */
  signal: AbortSignal | undefined;
  /** The table's config as written in tributary.yml. */
  config: RestSourceTable['tableConfig'];
}

/** The signature a custom module exports. */
export type CustomFetch = (ctx: CustomFetchContext) => AsyncIterable<unknown>;

interface Options {
  client: HttpClient;
  url: URL;
  cursor: CursorValue | undefined;
  table: RestSourceTable;
  signal: AbortSignal | undefined;
}

/** Pages from a custom module; a yielded array is a page, anything else one record. */
export async function* customPages(module: string, o: Options): AsyncGenerator<Page> {
  const where = `sources.${o.table.source}.tables.${o.table.table}.module`;
  const file = resolve(o.table.dir ?? process.cwd(), module);
  let fetchFn: unknown;
  try {
    fetchFn = ((await import(pathToFileURL(file).href)) as { fetch?: unknown }).fetch;
  } catch (err) {
    throw new TributaryError(`cannot load connector module ${module}: ${(err as Error).message}`, {
      code: 'CONFIG',
      location: { file, path: where },
      hint: 'a .ts module needs a TypeScript-aware runtime (tsx); compile it to .js otherwise',
    });
  }
  if (typeof fetchFn !== 'function') {
    throw new TributaryError(`connector module ${module} does not export a fetch function`, {
      code: 'CONFIG',
      location: { file, path: where },
      hint: 'export async function* fetch(ctx) { yield* records }',
    });
  }
  const ctx: CustomFetchContext = {
    url: new URL(o.url),
    cursor: o.cursor,
    lastHeaders: undefined,
    signal: o.signal,
    config: o.table.tableConfig,
    get: async (target) => {
      const url = new URL(target, o.url);
      const response = await o.client.getJson(url);
      ctx.lastHeaders = response.headers;
      return response.body;
    },
  };
  const shown = `${module}`;
  let batch: unknown[] = [];
  try {
    for await (const item of (fetchFn as CustomFetch)(ctx)) {
      if (Array.isArray(item)) {
        if (batch.length) yield { records: batch, shown };
        batch = [];
        yield { records: item, shown };
      } else {
        batch.push(item);
        // Single records are handed on in pages of a thousand, to keep memory bounded.
        if (batch.length >= 1000) {
          yield { records: batch, shown };
          batch = [];
        }
      }
    }
  } catch (err) {
    if (err instanceof TributaryError) throw err;
    throw o.client.error(
      `connector module ${module} failed: ${(err as Error)?.message ?? String(err)}`,
      {},
    );
  }
  if (batch.length) yield { records: batch, shown };
}
