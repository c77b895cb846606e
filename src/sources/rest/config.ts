/**
 * The REST connector's view of its tributary.yml config: the types it reads, the checks zod
 * cannot express (a cursor needs somewhere to come from; child tables need a parent key), and
 * the HTTP client options built from auth, headers, retries, rate limit and timeout.
 */
import { TributaryError } from '../../core/index.js';
import type { RestSourceConfig, RestSourceTable, RestTableConfig } from '../../project/index.js';
import { systemClock, type Clock, type HttpClientOptions } from './http.js';
import { Redactor } from '../../core/index.js';
import { readSecret } from '../../project/index.js';

export type Pagination = NonNullable<RestTableConfig['paginate']>;

/** Checks a table's config beyond its schema; throws a CONFIG error naming the path. */
export function checkTableConfig(table: RestSourceTable): void {
  const where = `sources.${table.source}.tables.${table.table}`;
  const t = table.tableConfig;
  const fail = (path: string, message: string, hint?: string) => {
    throw new TributaryError(message, {
      code: 'CONFIG',
      location: { path: `${where}.${path}` },
      ...(hint ? { hint } : {}),
    });
  };
  if (t.paginate?.type === 'cursor' && !t.paginate.cursor_path && !t.paginate.from_last_record)
    fail(
      'paginate',
      'a cursor pagination needs cursor_path (where the body holds the next cursor) or from_last_record',
      'Stripe: { type: cursor, cursor_param: starting_after, from_last_record: id, has_more_path: has_more }',
    );
  if (Object.keys(t.child_tables).length && !t.primary_key?.length)
    fail(
      'primary_key',
      'child_tables need primary_key on the parent table: child rows carry it to link back',
      'e.g. primary_key: [id]',
    );
}

/** HTTP client options for a source: secrets read now, and registered with the redactor. */
export function clientOptions(
  source: RestSourceConfig,
  where: string,
  dir: string | undefined,
  clock: Clock = systemClock,
): HttpClientOptions {
  const redactor = new Redactor();
  const headers: Record<string, string> = { ...source.headers };
  const query: Record<string, string> = {};
  const secretParams: string[] = [];
  const auth = source.auth;
  const at = (p: string) => `${where.replace(/\.tables\..*$/, '')}.auth.${p}`;
  if (auth?.type === 'bearer') {
    const token = readSecret(auth.token, at('token'), dir);
    redactor.add(token);
    headers.authorization = `Bearer ${token}`;
  } else if (auth?.type === 'basic') {
    const user = readSecret(auth.username, at('username'), dir);
    const password = readSecret(auth.password, at('password'), dir);
    const encoded = Buffer.from(`${user}:${password}`).toString('base64');
    // The user name is not secret on its own, but masking it costs nothing and leaks nothing.
    redactor.add(password, encoded);
    headers.authorization = `Basic ${encoded}`;
  } else if (auth?.type === 'api_key') {
    const key = readSecret(auth.key, at('key'), dir);
    redactor.add(key);
    if (auth.in === 'query') {
      query[auth.name] = key;
      secretParams.push(auth.name);
    } else headers[auth.name.toLowerCase()] = key;
  }
  return {
    headers,
    query,
    secretParams,
    retry: {
      attempts: source.retries.attempts,
      backoffMs: source.retries.backoff_ms,
      maxBackoffMs: source.retries.max_backoff_ms,
    },
    timeoutMs: source.timeout_ms,
    ...(source.rate_limit ? { requestsPerSecond: source.rate_limit.requests_per_second } : {}),
    clock,
    redactor,
    where,
  };
}

/** The first URL of a table: base_url + path (base paths kept), with the table's params. */
export function endpointUrl(source: RestSourceConfig, table: RestTableConfig): URL {
  const base = source.base_url.replace(/\/+$/, '');
  const path = table.path.startsWith('/') ? table.path : `/${table.path}`;
  const url = new URL(/^https?:\/\//.test(table.path) ? table.path : base + path);
  for (const [k, v] of Object.entries(table.params)) url.searchParams.set(k, String(v));
  return url;
}
