/**
 * Reading a forecast's series from the warehouse: the source (a model or a query) aggregated per
 * period (`date_trunc` of the frequency) and key values, at every level of a hierarchy, then gap
 * filled. Only portable SQL (date_trunc, CAST, GROUP BY ordinals) that DuckDB and PostgreSQL
 * both run; type names come from the engine's dialect.
 */
import { TributaryError } from '../core/index.js';
import type { Dialect, Engine } from '../engines/index.js';
import { SQL_REF, type Forecast } from '../project/index.js';
import { parsePeriod, periodRange } from './periods.js';

/** One series as read: its level, key values and (epoch ms) periods with values. */
export interface ReadSeries {
  /** The hierarchy level (its name), or undefined without a hierarchy. */
  level?: string;
  keys: Record<string, string>;
  periods: number[];
  values: number[];
}

export interface SourceRead {
  series: ReadSeries[];
  /** Source rows left out because a key column was NULL. */
  nullKeyRows: number;
  /** The latest period of any series: every filled series runs up to it. */
  lastPeriod: number | undefined;
}

/** The source as one SELECT: the model's relation, or the query with its refs resolved. */
export function sourceSelect(forecast: Forecast, refs: ReadonlyMap<string, string>): string {
  const relation = (model: string): string => {
    const rel = refs.get(model);
    if (rel === undefined)
      throw new TributaryError(`forecast ${forecast.name} reads ${model}, which is no model`, {
        code: 'CONFIG',
        location: forecast.at(['source']),
      });
    return rel;
  };
  if (forecast.source.kind === 'ref') return `SELECT * FROM ${relation(forecast.source.model)}`;
  return forecast.source.sql.replace(SQL_REF, (_all, _q, model: string) => relation(model));
}

/** The key columns of each level: a hierarchy's prefixes (`total` none), else all keys at once. */
export function levelKeys(forecast: Forecast): { level?: string; keys: string[] }[] {
  if (!forecast.hierarchy) return [{ keys: forecast.keys }];
  const offset = forecast.hierarchy.length - forecast.keys.length;
  return forecast.hierarchy.map((level, i) => ({
    level,
    keys: forecast.keys.slice(0, i + 1 - offset),
  }));
}

/** Aggregates the source at one level: one row per period and key values, oldest first. */
function levelQuery(dialect: Dialect, forecast: Forecast, source: string, keys: string[]): string {
  const q = (n: string) => dialect.quoteIdentifier(n);
  const time = `src.${q(forecast.timeColumn)}`;
  const keyColumns = keys.map(
    (k) => `CAST(src.${q(k)} AS ${dialect.typeName('string')}) AS ${q(k)}`,
  );
  const notNull = [time, ...forecast.keys.map((k) => `src.${q(k)}`)].map((c) => `${c} IS NOT NULL`);
  const ordinals = keys.map((_, i) => String(i + 2));
  return [
    `SELECT date_trunc('${forecast.frequency}', CAST(${time} AS ${dialect.typeName('timestamp')})) AS ${q('__period')}`,
    ...keyColumns.map((c) => `, ${c}`),
    `, CAST((${forecast.target}) AS ${dialect.typeName('double')}) AS ${q('__value')}`,
    `FROM (${source}) AS src`,
    `WHERE ${notNull.join(' AND ')}`,
    `GROUP BY ${['1', ...ordinals].join(', ')}`,
    `ORDER BY ${[...ordinals, '1'].join(', ')}`,
  ].join('\n');
}

/** Rows with a NULL key column: left out of every level, so the levels stay coherent. */
async function countNullKeys(engine: Engine, forecast: Forecast, source: string): Promise<number> {
  if (!forecast.keys.length) return 0;
  const q = (n: string) => engine.dialect.quoteIdentifier(n);
  const anyNull = forecast.keys.map((k) => `src.${q(k)} IS NULL`).join(' OR ');
  const { rows } = await engine.query(
    `SELECT count(*) AS n FROM (${source}) AS src WHERE src.${q(forecast.timeColumn)} IS NOT NULL AND (${anyNull})`,
  );
  return Number(rows[0]!.n);
}

/** Runs the source's SQL, blaming the forecast file when the engine refuses it. */
async function query(engine: Engine, forecast: Forecast, sql: string) {
  try {
    return await engine.query(sql);
  } catch (err) {
    const first = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new TributaryError(`forecast ${forecast.name}: reading its source failed: ${first}`, {
      code: 'ENGINE',
      location: forecast.at(['source']),
      hint: `check source, time_column (${forecast.timeColumn}), target (${forecast.target}) and the keys against the source's columns`,
      cause: err,
    });
  }
}

/**
 * Reads every level's series. With `fill_gaps: zero` each series runs from its first period to
 * the latest period of the data (a product that stopped selling forecasts from its zeros), a
 * period without rows counting 0; with `none` the observed periods alone.
 */
export async function readSeries(
  engine: Engine,
  forecast: Forecast,
  source: string,
): Promise<SourceRead> {
  const raw: ReadSeries[] = [];
  let lastPeriod: number | undefined;
  for (const { level, keys } of levelKeys(forecast)) {
    const { rows } = await query(
      engine,
      forecast,
      levelQuery(engine.dialect, forecast, source, keys),
    );
    let current: ReadSeries | undefined;
    let currentId = '';
    for (const row of rows) {
      const values = keys.map((k) => String(row[k]));
      const id = JSON.stringify(values);
      if (!current || id !== currentId) {
        current = { ...(level !== undefined ? { level } : {}), keys: {}, periods: [], values: [] };
        keys.forEach((k, i) => (current!.keys[k] = values[i]!));
        currentId = id;
        raw.push(current);
      }
      const period = parsePeriod(String(row.__period));
      const value = row.__value === null ? 0 : Number(row.__value);
      if (!Number.isFinite(value))
        throw new TributaryError(
          `forecast ${forecast.name}: the target ${forecast.target} is not a finite number (${String(row.__value)}) at ${String(row.__period)}`,
          { code: 'INPUT', location: forecast.at(['target']) },
        );
      current.periods.push(period);
      current.values.push(value);
      if (lastPeriod === undefined || period > lastPeriod) lastPeriod = period;
    }
  }
  const series =
    forecast.fillGaps === 'zero' && lastPeriod !== undefined
      ? raw.map((s) => filled(s, lastPeriod!, forecast))
      : raw;
  return { series, nullKeyRows: await countNullKeys(engine, forecast, source), lastPeriod };
}

/** The series over every period from its first to `last`, 0 where it had no rows. */
function filled(s: ReadSeries, last: number, forecast: Forecast): ReadSeries {
  const periods = periodRange(s.periods[0]!, last, forecast.frequency);
  const byPeriod = new Map(s.periods.map((p, i) => [p, s.values[i]!]));
  return { ...s, periods, values: periods.map((p) => byPeriod.get(p) ?? 0) };
}
