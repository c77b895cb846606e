// The HTTP API client (docs/api.md): same-origin fetches with the session cookie, JSON errors
// turned into ApiError, and a 401 anywhere announced so the app returns to the login page.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { paths } from './api-schema';

/**
 * The JSON body a route answers with, from the types generated from the server's OpenAPI
 * description (api-schema.ts; `npm run gen:api-types`), e.g. `Json<'/api/runs', 'get'>`.
 */
export type Json<
  P extends keyof paths,
  M extends 'get' | 'post' | 'delete',
  S extends number = 200,
> = paths[P][M] extends { responses: infer R }
  ? S extends keyof R
    ? R[S] extends { content: { 'application/json': infer B } }
      ? B
      : never
    : never
  : never;

export type Me = Json<'/api/me', 'get'>;
export type Role = Me['role'];

export type QueryResult = Json<'/api/query', 'post'>;
/** A column of a query result: its name, the engine's type and how JSON rows carry its values. */
export type Column = QueryResult['columns'][number];
/** A result row: BIGINT and DECIMAL values arrive as exact strings, dates as ISO text. */
export type Row = QueryResult['rows'][number];

export type DashboardSummary = Json<'/api/dashboards', 'get'>[number];
export type Dashboard = Json<'/api/dashboards/{name}', 'get'>;
export type FilterDef = Dashboard['filters'][number];
export type TileDef = Dashboard['tiles'][number];
export type DashboardData = Json<'/api/dashboards/{name}/data', 'get'>;
/** A tile's result in a dashboard run: its data, or why it failed (the other tiles still show). */
export type TileEntry = DashboardData['tiles'][string];
export type TileData = Json<'/api/dashboards/{name}/tiles/{tile}', 'get'>;
export type TileFailure = Exclude<TileEntry, TileData>;
export type FilterOptions = Json<'/api/dashboards/{name}/filters/{filter}/options', 'get'>;

export type Run = Json<'/api/runs', 'get'>[number];
export type RunDetail = Json<'/api/runs/{id}', 'get'>;
export type Step = RunDetail['steps'][number];
export type LogLine = Json<'/api/runs/{id}/logs', 'get'>[number];
export type RunQueued = Json<'/api/runs', 'post', 202>;

export type Graph = Json<'/api/graph', 'get'>;
export type Asset = Graph['assets'][number];
export type LineageColumns = Json<'/api/lineage/columns', 'get'>;
export type ColumnTrace = Json<'/api/lineage/columns/{asset}/{column}', 'get'>;
export type TracedColumn = NonNullable<ColumnTrace['upstream']>[number];

export type CatalogEntry = Json<'/api/catalog', 'get'>[number];
export type CatalogDetail = Json<'/api/catalog/{zone}/{name}', 'get'>;
export type SchemaVersion = CatalogDetail['versions'][number];
export type CatalogColumn = CatalogEntry['columns'][number];

export type Quality = Json<'/api/quality', 'get'>;
export type QualityTest = Quality['tests'][number];
export type QuarantineSummary = Quality['quarantine'][number];
export type QuarantineRows = Json<'/api/quarantine/{table}', 'get'>;

export type DeadLetter = Json<'/api/dlq/{id}', 'get'>;
export type Replayed = Json<'/api/dlq/{id}/replay', 'post'>;

export type SyncSummary = Json<'/api/syncs', 'get'>[number];
export type SyncRun = Json<'/api/syncs/{name}/runs', 'get'>[number];
export type SyncDryRun = Json<'/api/syncs/{name}/run', 'post', 200>;

/** An error response from the API (or the network), with the API's code and hint when given. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Fired on window when any call answers 401: the session is gone, so the app shows the login page. */
export const UNAUTHORIZED_EVENT = 'tributary:unauthorized';

async function toError(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`.trim();
  let code: string | undefined;
  let hint: string | undefined;
  try {
    const body = (await res.json()) as {
      error?: { code?: string; message?: string; hint?: string };
    };
    if (body && body.error) {
      message = body.error.message || message;
      code = body.error.code;
      hint = body.error.hint;
    }
  } catch {
    // not JSON: keep the status line
  }
  if (res.status === 403 && !hint) hint = 'Your role does not allow this.';
  return new ApiError(message, res.status, code, hint);
}

/** Calls the API and returns the raw response when it is 2xx; throws ApiError otherwise. */
export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.body !== undefined && !headers.has('content-type')) {
    headers.set('content-type', 'application/json');
  }
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers, credentials: 'same-origin' });
  } catch (err) {
    throw new ApiError(`Cannot reach the server: ${(err as Error).message}`, 0, 'NETWORK');
  }
  if (res.status === 401 && path !== '/api/session') {
    window.dispatchEvent(new Event(UNAUTHORIZED_EVENT));
  }
  if (!res.ok) throw await toError(res);
  return res;
}

/** GET (or any method) returning parsed JSON. */
export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await apiFetch(path, init);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** POST a JSON body, returning parsed JSON. */
export function post<T>(path: string, body: unknown = {}): Promise<T> {
  return api<T>(path, { method: 'POST', body: JSON.stringify(body) });
}

/** Builds a query string from the defined, non-empty values. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') sp.set(k, String(v));
  }
  const s = sp.toString();
  return s ? `?${s}` : '';
}

export function enc(segment: string): string {
  return encodeURIComponent(segment);
}

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

export interface UseApiOptions {
  /** Refetch every so often in the background while the page is visible. */
  pollMs?: number;
  /** Keep showing the previous path's data while a new path loads (e.g. a filter change). */
  keep?: boolean;
}

/**
 * Loads a path (null = nothing to load) and reloads when it changes; polling refetches in the
 * background without clearing what is shown. Answers that arrive after the path changed are
 * dropped.
 */
export function useApi<T>(path: string | null, options: UseApiOptions = {}): Loaded<T> {
  const { pollMs, keep = false } = options;
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(path !== null);
  const [tick, setTick] = useState(0);
  const current = useRef<string | null>(path);
  const shownPath = useRef<string | null>(null);

  useEffect(() => {
    current.current = path;
    if (path === null) {
      setData(undefined);
      setLoading(false);
      return;
    }
    if (shownPath.current !== path && !keep) {
      setData(undefined);
      setError(undefined);
    }
    setLoading(true);
    let cancelled = false;
    api<T>(path).then(
      (d) => {
        if (cancelled || current.current !== path) return;
        shownPath.current = path;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        if (cancelled || current.current !== path) return;
        setError(e instanceof ApiError ? e : new ApiError(String(e), 0));
        setLoading(false);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [path, tick, keep]);

  useEffect(() => {
    if (!pollMs || path === null) return;
    const t = window.setInterval(() => {
      if (document.visibilityState === 'visible') setTick((n) => n + 1);
    }, pollMs);
    return () => window.clearInterval(t);
  }, [pollMs, path]);

  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, reload };
}

/** Saves a response body as a file download. */
export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
