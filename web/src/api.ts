// The HTTP API client (docs/api.md): same-origin fetches with the session cookie, JSON errors
// turned into ApiError, and a 401 anywhere announced so the app returns to the login page.
import { useCallback, useEffect, useRef, useState } from 'react';

export type Role = 'viewer' | 'operator' | 'admin';

export interface Me {
  id: string;
  name: string;
  role: Role;
}

/** A column as the API describes it (SqlColumn); older or simpler responses may send names only. */
export interface Column {
  name: string;
  type?: string;
  kind?: 'number' | 'string' | 'boolean' | 'date' | 'other';
}

export type Row = Record<string, unknown>;

export interface QueryResult {
  columns: Column[];
  rows: Row[];
  truncated: boolean;
  dataVersion: string;
  ms: number;
}

export interface DashboardSummary {
  name: string;
  title?: string;
  description?: string;
  tiles: number;
}

export interface FilterDef {
  name: string;
  type: string;
  label?: string;
  default?: unknown;
  /** The query-string parameters that set it: [name], or [name_from, name_to] for a range. */
  params?: string[];
}

export interface TileDef {
  id: string;
  title?: string;
  description?: string;
  type: string;
  renderAs?: string;
  format?: string;
  width?: number | string;
  x?: string;
  y?: string | string[];
  series?: string;
  value?: string;
  compare?: unknown;
  /** The filters this tile reads. */
  filters?: string[];
  [key: string]: unknown;
}

export interface Dashboard {
  name: string;
  title?: string;
  description?: string;
  filters: FilterDef[];
  tiles: TileDef[];
}

export interface TileData {
  columns: (Column | string)[];
  rows: Row[];
  value?: unknown;
  previous?: unknown;
  change?: unknown;
  cached?: boolean;
  ms?: number;
  error?: string | { message?: string; hint?: string; code?: string };
}

export interface DashboardData {
  /** The filter values the server used, defaults applied. */
  filters?: Record<string, unknown>;
  dataVersion: string;
  tiles: Record<string, TileData>;
}

export interface Run {
  runId: string;
  command: string;
  trigger: string;
  status: string;
  startedAt: string | null;
  finishedAt: string | null;
  resumedFrom?: string | null;
}

export interface Step {
  asset: string;
  kind: string;
  status: string;
  startedAt: string | null;
  finishedAt: string | null;
  rowsIn: number | string | null;
  rowsOut: number | string | null;
  rowsRejected: number | string | null;
  attempts: number | null;
  message: string | null;
}

export interface LogLine {
  asset: string;
  seq: number;
  at: string;
  line: string;
}

export interface Asset {
  key: string;
  kind: string;
  name: string;
  deps: string[];
  tags?: string[];
  file?: string | null;
}

export interface CatalogEntry {
  zone: string;
  name: string;
  location?: string;
  format?: string;
  columns: Column[];
  rowCount: number | string | null;
  partitions: number | unknown[] | null;
  schemaVersion: number | null;
  updatedAt: string | null;
}

export interface SchemaVersion {
  version: number;
  columns: Column[];
  recordedAt: string;
}

export interface QualityTest {
  asset: string;
  status: string;
  /** Failing rows (docs/api.md calls it rowsOut; the server sends failingRows). */
  failingRows?: number | string | null;
  rowsOut?: number | string | null;
  message: string | null;
  runId: string | null;
  finishedAt: string | null;
}

export interface QuarantineSummary {
  table: string;
  source?: string;
  rows: number;
  reasons: Record<string, number>;
  rejectedFiles?: number;
}

export interface DeadLetter {
  id: string;
  kind: string;
  source: string;
  status: string;
  attempts: number;
  error: string | null;
  firstSeen: string;
  lastSeen: string;
  payload: unknown;
}

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
