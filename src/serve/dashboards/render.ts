/**
 * Turns tiles into queries and runs them: the SQL of a tile (written, or generated from a model
 * and a measure) with the filter values as bound parameters, a KPI's previous period, whole
 * dashboards with bounded parallelism, select filters' options, and CSV export.
 */
import { TributaryError, csvField, describeError, type ErrorCode } from '../../core/index.js';
import { quoteIdentifier } from '../../engines/index.js';
import type { ParamValue, QueryLimits, SqlColumn, SqlResult, SqlRunner } from '../types.js';
import type { QueryCache } from './cache.js';
import { previousPeriod, resolveFilters, type DateRange, type FilterValues } from './filters.js';
import {
  sqlParameterNames,
  type Dashboard,
  type Tile,
  type TileType,
} from '../../project/index.js';

/** A tile's SQL and the parameters to bind to it (exactly the ones the SQL names). */
export interface TileQuery {
  sql: string;
  params: Record<string, ParamValue>;
}

export interface RunOptions {
  /** Results are cached here when given (see QueryCache); otherwise every call queries. */
  cache?: QueryCache;
  /** Row and time limits for each query (the runner's defaults otherwise). */
  limits?: QueryLimits;
  /** Ignore filter keys that name no filter (other query-string parameters) instead of refusing them. */
  ignoreUnknownFilters?: boolean;
}

export interface TileResult {
  tile: string;
  type: TileType;
  columns: SqlColumn[];
  rows: Record<string, unknown>[];
  truncated: boolean;
  /** kpi: the value (first row's value column), exact as the engine returned it. */
  value?: string | number | null;
  /** kpi with compare: the same query over the previous period. */
  previous?: string | number | null;
  /** kpi with compare: (value − previous) / |previous|, null when previous is 0 or missing. */
  change?: number | null;
  /** kpi with compare: the previous period of each date range the tile reads. */
  previousPeriod?: Record<string, DateRange>;
  /** The data version the rows belong to. */
  dataVersion: string;
  /** True when every query of the tile was answered from the cache. */
  cached: boolean;
  ms: number;
}

/** A tile that failed inside a dashboard run: the others still show. */
export interface TileFailure {
  tile: string;
  type: TileType;
  error: string;
  code?: ErrorCode;
}

export interface DashboardResult {
  dashboard: string;
  /** The filter values used, defaults applied. */
  filters: FilterValues;
  dataVersion: string;
  tiles: Record<string, TileResult | TileFailure>;
}

/** Whether a dashboard run's tile entry is a failure. */
export function isTileFailure(r: TileResult | TileFailure): r is TileFailure {
  return 'error' in r;
}

function qualifiedModel(model: string): string {
  return model.split('.').map(quoteIdentifier).join('.');
}

/** The parameter value for a name a tile uses: `region`, or `period_from` / `period_to`. */
function paramValue(dashboard: Dashboard, values: FilterValues, name: string): ParamValue {
  for (const f of dashboard.filters) {
    if (f.type === 'select' && f.name === name) {
      const v = values[f.name];
      return typeof v === 'string' ? v : null;
    }
    if (f.type === 'date_range' && (name === `${f.name}_from` || name === `${f.name}_to`)) {
      const v = values[f.name];
      const range = typeof v === 'object' && v !== null ? v : { from: null, to: null };
      return name.endsWith('_from') ? range.from : range.to;
    }
  }
  // The loader refuses SQL naming anything else; reaching here is a bug, not a user error.
  throw new TributaryError(`tile parameter $${name} is not a filter of ${dashboard.name}`, {
    code: 'INTERNAL',
  });
}

/** `select <by>, <measure> as value from <model> where <filters> group by … order by …`. */
function modelSql(dashboard: Dashboard, tile: Tile): string {
  const groups = [tile.by, tile.series].filter((c): c is string => c !== undefined);
  const where: string[] = [];
  for (const name of tile.uses) {
    const f = dashboard.filters.find((g) => g.name === name)!;
    const col = quoteIdentifier(f.column!);
    if (f.type === 'date_range') {
      const from = `$${f.name}_from`;
      const to = `$${f.name}_to`;
      where.push(
        `(${from} is null or cast(${col} as date) >= cast(${from} as date))`,
        `(${to} is null or cast(${col} as date) <= cast(${to} as date))`,
      );
    } else where.push(`($${f.name} is null or ${col} = $${f.name})`);
  }
  const lines = [
    `select ${[...groups.map(quoteIdentifier), `${tile.measure} as ${quoteIdentifier('value')}`].join(', ')}`,
    `from ${qualifiedModel(tile.model!)}`,
  ];
  if (where.length) lines.push(`where ${where.join('\n  and ')}`);
  if (groups.length) {
    const positions = groups.map((_, i) => String(i + 1)).join(', ');
    lines.push(`group by ${positions}`);
    const ranked = tile.type === 'ranked' || tile.type === 'map';
    lines.push(`order by ${ranked ? `${quoteIdentifier('value')} desc, ${positions}` : positions}`);
  }
  if (tile.limit !== undefined) lines.push(`limit ${tile.limit}`);
  return lines.join('\n');
}

/**
 * The SQL of a tile and its parameters for the given filter values. Values are never pasted into
 * the SQL: a select value is bound as `$<filter>`, a date range as `$<filter>_from` and
 * `$<filter>_to` (YYYY-MM-DD text, NULL when open), an unset select as NULL.
 */
export function tileQuery(dashboard: Dashboard, tile: Tile, filters: FilterValues): TileQuery {
  const sql = tile.sql ?? modelSql(dashboard, tile);
  const params: Record<string, ParamValue> = {};
  for (const name of sqlParameterNames(sql)) params[name] = paramValue(dashboard, filters, name);
  return { sql, params };
}

/** The filter values of the period before: every date range the tile reads, shifted back by its own length. */
function previousValues(
  dashboard: Dashboard,
  tile: Tile,
  values: FilterValues,
): { values: FilterValues; periods: Record<string, DateRange> } | undefined {
  const shifted: FilterValues = { ...values };
  const periods: Record<string, DateRange> = {};
  for (const f of dashboard.filters) {
    if (f.type !== 'date_range' || !tile.uses.includes(f.name)) continue;
    const prev = previousPeriod(values[f.name] as DateRange);
    if (!prev) return undefined;
    shifted[f.name] = prev;
    periods[f.name] = prev;
  }
  return { values: shifted, periods };
}

async function execute(
  runner: SqlRunner,
  query: TileQuery,
  options: RunOptions,
): Promise<{ result: SqlResult; cached: boolean }> {
  if (options.cache) return options.cache.run(runner, query.sql, query.params, options.limits);
  return { result: await runner.query(query.sql, query.params, options.limits), cached: false };
}

/** A KPI's value: the first row's value column (tile.value, else `value`, else the first column). */
function kpiValue(tile: Tile, result: SqlResult): string | number | null {
  const row = result.rows[0];
  if (!row) return null;
  const column =
    tile.value ??
    (result.columns.some((c) => c.name === 'value') ? 'value' : result.columns[0]?.name);
  const v = column === undefined ? null : row[column];
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  throw new TributaryError(`tile ${tile.id}: the KPI value is not a number`, { code: 'USAGE' });
}

/** The change from previous to value as a ratio; null when it has no meaning. */
export function changeRatio(
  value: string | number | null | undefined,
  previous: string | number | null | undefined,
): number | null {
  if (value === null || value === undefined || previous === null || previous === undefined)
    return null;
  const v = Number(value);
  const p = Number(previous);
  if (!Number.isFinite(v) || !Number.isFinite(p) || p === 0) return null;
  return (v - p) / Math.abs(p);
}

/**
 * Runs one tile with the given filter values (raw request values or resolved ones; defaults
 * apply). A KPI with `compare: previous_period` also runs over the previous period.
 */
export async function runTile(
  runner: SqlRunner,
  dashboard: Dashboard,
  tile: Tile,
  filters: Record<string, unknown> = {},
  options: RunOptions = {},
): Promise<TileResult> {
  const started = performance.now();
  const values = resolveFilters(dashboard, filters, {
    ignoreUnknown: options.ignoreUnknownFilters ?? false,
  });
  const query = tileQuery(dashboard, tile, values);
  const previous =
    tile.type === 'kpi' && tile.compare === 'previous_period'
      ? previousValues(dashboard, tile, values)
      : undefined;
  const [main, prev] = await Promise.all([
    execute(runner, query, options),
    previous ? execute(runner, tileQuery(dashboard, tile, previous.values), options) : undefined,
  ]);
  const out: TileResult = {
    tile: tile.id,
    type: tile.type,
    columns: main.result.columns,
    rows: main.result.rows,
    truncated: main.result.truncated,
    // A cached result is the same rows a fresh query would give now: nothing it reads changed.
    dataVersion: main.cached ? runner.dataVersion() : main.result.dataVersion,
    cached: main.cached && (prev?.cached ?? true),
    ms: 0,
  };
  if (tile.type === 'kpi') {
    out.value = kpiValue(tile, main.result);
    if (tile.compare === 'previous_period') {
      out.previous = prev ? kpiValue(tile, prev.result) : null;
      out.change = changeRatio(out.value, out.previous);
      if (previous) out.previousPeriod = previous.periods;
    }
  }
  out.ms = Math.round((performance.now() - started) * 10) / 10;
  return out;
}

export interface RunDashboardOptions extends RunOptions {
  /** Tiles run at once (default 4). */
  concurrency?: number;
}

/**
 * Runs every tile of a dashboard, a few at a time. Bad filter values fail the whole call (a
 * USAGE error); a tile whose query fails is reported in its place and the others still run.
 */
export async function runDashboard(
  runner: SqlRunner,
  dashboard: Dashboard,
  filters: Record<string, unknown> = {},
  options: RunDashboardOptions = {},
): Promise<DashboardResult> {
  const values = resolveFilters(dashboard, filters, {
    ignoreUnknown: options.ignoreUnknownFilters ?? false,
  });
  const dataVersion = runner.dataVersion();
  const results = new Array<TileResult | TileFailure>(dashboard.tiles.length);
  let next = 0;
  const worker = async () => {
    while (next < dashboard.tiles.length) {
      const i = next++;
      const tile = dashboard.tiles[i]!;
      try {
        results[i] = await runTile(runner, dashboard, tile, values, options);
      } catch (err) {
        results[i] = {
          tile: tile.id,
          type: tile.type,
          error: describeError(err),
          ...(err instanceof TributaryError ? { code: err.code } : {}),
        };
      }
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 4, dashboard.tiles.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return {
    dashboard: dashboard.name,
    filters: values,
    dataVersion,
    tiles: Object.fromEntries(dashboard.tiles.map((t, i) => [t.id, results[i]!])),
  };
}

/** Most options a select filter offers. */
export const MAX_OPTIONS = 1000;

/**
 * The values a select filter offers: its fixed `options`, or the first column of `options_sql`
 * (nulls left out, as text), at most MAX_OPTIONS.
 */
export async function selectOptions(
  runner: SqlRunner,
  dashboard: Dashboard,
  filterName: string,
  options: RunOptions = {},
): Promise<string[]> {
  const f = dashboard.filters.find((g) => g.name === filterName);
  if (!f || f.type !== 'select')
    throw new TributaryError(`dashboard ${dashboard.name} has no select filter ${filterName}`, {
      code: 'NOT_FOUND',
      hint: `select filters: ${
        dashboard.filters
          .filter((g) => g.type === 'select')
          .map((g) => g.name)
          .join(', ') || 'none'
      }`,
    });
  if (f.options) return f.options;
  if (!f.options_sql) return [];
  const { result } = await execute(
    runner,
    { sql: f.options_sql, params: {} },
    { ...options, limits: { ...options.limits, rowLimit: MAX_OPTIONS } },
  );
  const column = result.columns[0]?.name;
  if (column === undefined) return [];
  return result.rows
    .map((r) => r[column])
    .filter((v) => v !== null && v !== undefined)
    .map((v) => String(v));
}

/** The options of every select filter of a dashboard, by filter name. */
export async function filterOptions(
  runner: SqlRunner,
  dashboard: Dashboard,
  options: RunOptions = {},
): Promise<Record<string, string[]>> {
  const selects = dashboard.filters.filter((f) => f.type === 'select');
  const lists = await Promise.all(
    selects.map((f) => selectOptions(runner, dashboard, f.name, options)),
  );
  return Object.fromEntries(selects.map((f, i) => [f.name, lists[i]!]));
}

const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A CSV field safe to open in a spreadsheet: text that starts with = + - @ or a tab/CR (and is
 * not a number) gets a leading apostrophe, so data cannot become a formula (CSV injection).
 */
function safeField(value: unknown): string {
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(value) && !NUMBER_TEXT.test(value))
    return csvField(`'${value}`);
  return csvField(value);
}

export interface CsvOptions {
  /** Prefix text that a spreadsheet would read as a formula with ' (default true). */
  escapeFormulas?: boolean;
}

/**
 * A tile's rows as CSV (RFC 4180: CRLF line ends, fields with a comma, quote or line break
 * quoted, quotes doubled), with a header row of the column names. Nulls are empty fields.
 */
export function tileCsv(
  result: Pick<SqlResult, 'columns' | 'rows'>,
  options: CsvOptions = {},
): string {
  const field = options.escapeFormulas === false ? csvField : safeField;
  const names = result.columns.map((c) => c.name);
  const lines = [names.map((n) => csvField(n)).join(',')];
  for (const row of result.rows) lines.push(names.map((n) => field(row[n])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
