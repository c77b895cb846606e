/**
 * The warehouse tables a forecast writes, and writing them atomically: each table is built aside
 * under a name of its own, then all of them replace the old ones in one transaction, so a re-run
 * replaces (never appends twice) and a failure at any point leaves the previous tables whole.
 */
import { createHash } from 'node:crypto';
import { TributaryError, faultPoint } from '../core/index.js';
import type { Engine, LogicalType } from '../engines/index.js';
import type { Forecast } from '../project/index.js';
import { periodText, periodType } from './periods.js';
import type { SeriesForecast } from './types.js';

export interface TableColumn {
  name: string;
  type: LogicalType;
}

/** A table to write: its columns and rows of text values (null is NULL), as `insertRows` takes. */
export interface TableData {
  name: string;
  columns: TableColumn[];
  rows: (string | null)[][];
}

/** `80` -> `80`, `97.5` -> `97_5`: a level as part of a column name. */
export function levelSuffix(level: number): string {
  return String(level).replace('.', '_');
}

const num = (v: number | null | undefined): string | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : String(v);

/** A forecast's series with what run.ts knows of each beyond forecastSeries' result. */
export interface SeriesOutput {
  level?: string;
  keys: Record<string, string>;
  /** Epoch ms of the series' first and last periods, and how many it has. */
  first: number;
  last: number;
  history: number;
  /** Epoch ms of the h future periods. */
  future: number[];
  /** Epoch ms of every period of the series (for the backtest origins). */
  periods: number[];
  result: SeriesForecast;
}

/** The columns every table starts with: the level (hierarchies only), then the keys. */
function keyColumns(forecast: Forecast): TableColumn[] {
  return [
    ...(forecast.hierarchy ? [{ name: 'level', type: 'string' as const }] : []),
    ...forecast.keys.map((k) => ({ name: k, type: 'string' as const })),
  ];
}

function keyValues(forecast: Forecast, s: SeriesOutput): (string | null)[] {
  return [
    ...(forecast.hierarchy ? [s.level ?? null] : []),
    ...forecast.keys.map((k) => s.keys[k] ?? null),
  ];
}

/** `<name>`: one row per series and future period (every method's with keep_all_methods). */
export function forecastTable(forecast: Forecast, series: readonly SeriesOutput[]): TableData {
  const period = periodType(forecast.frequency);
  const columns: TableColumn[] = [
    ...keyColumns(forecast),
    { name: 'period', type: period },
    { name: 'method', type: 'string' },
    { name: 'forecast', type: 'double' },
    ...forecast.levels.flatMap((l) => [
      { name: `lower_${levelSuffix(l)}`, type: 'double' as const },
      { name: `upper_${levelSuffix(l)}`, type: 'double' as const },
    ]),
  ];
  const rows: (string | null)[][] = [];
  for (const s of series) {
    const keys = keyValues(forecast, s);
    const methods = forecast.keepAllMethods
      ? [
          s.result.forecast,
          ...s.result.forecasts.filter((m) => m.method !== s.result.forecast.method),
        ]
      : [s.result.forecast];
    for (const m of methods)
      s.future.forEach((p, i) => {
        const bands = forecast.levels.flatMap((l) => {
          const band = m.intervals.find((b) => b.level === l);
          return [num(band?.lower[i]), num(band?.upper[i])];
        });
        rows.push([...keys, periodText(p, forecast.frequency), m.method, num(m.mean[i]), ...bands]);
      });
  }
  return { name: forecast.name, columns, rows };
}

/** `<name>_backtest`: one row per series, backtest window and method, with its scores. */
export function backtestTable(forecast: Forecast, series: readonly SeriesOutput[]): TableData {
  const columns: TableColumn[] = [
    ...keyColumns(forecast),
    { name: 'window', type: 'integer' },
    { name: 'origin', type: periodType(forecast.frequency) },
    { name: 'method', type: 'string' },
    { name: 'smape', type: 'double' },
    { name: 'mase', type: 'double' },
    { name: 'rmsse', type: 'double' },
    ...forecast.levels.map((l) => ({
      name: `coverage_${levelSuffix(l)}`,
      type: 'double' as const,
    })),
    { name: 'msis', type: 'double' },
    { name: 'owa', type: 'double' },
    { name: 'note', type: 'string' },
  ];
  const rows: (string | null)[][] = [];
  for (const s of series) {
    const keys = keyValues(forecast, s);
    for (const b of s.result.backtest) {
      const origin = s.periods[b.origin];
      rows.push([
        ...keys,
        String(b.window),
        origin !== undefined ? periodText(origin, forecast.frequency) : null,
        b.method,
        num(b.smape),
        num(b.mase),
        num(b.rmsse),
        ...forecast.levels.map((l) => num(b.coverage[l])),
        num(b.msis),
        num(b.owa),
        b.skipped ?? b.note ?? null,
      ]);
    }
  }
  return { name: `${forecast.name}_backtest`, columns, rows };
}

/**
 * The `outliers_replaced` and `outliers` cells of a series: how many values the final fit saw
 * replaced and which (JSON: period, value, replacement), both null with `outliers: keep`.
 */
function outlierValues(outliers: SeriesForecast['outliers']): (string | null)[] {
  if (outliers === undefined) return [null, null];
  const list = outliers.map((o) => ({
    period: o.period,
    value: o.value,
    replacement: Math.round(o.replacement * 1e6) / 1e6,
  }));
  return [String(outliers.length), JSON.stringify(list)];
}

/** `<name>_methods`: one row per series: the method chosen, why (fallback), and its scores. */
export function methodsTable(forecast: Forecast, series: readonly SeriesOutput[]): TableData {
  const period = periodType(forecast.frequency);
  const columns: TableColumn[] = [
    ...keyColumns(forecast),
    { name: 'method', type: 'string' },
    { name: 'members', type: 'string' },
    { name: 'fallback_reason', type: 'string' },
    { name: 'owa', type: 'double' },
    { name: 'smape', type: 'double' },
    { name: 'mase', type: 'double' },
    { name: 'history', type: 'integer' },
    { name: 'outliers_replaced', type: 'integer' },
    { name: 'outliers', type: 'string' },
    { name: 'first_period', type: period },
    { name: 'last_period', type: period },
    ...(forecast.hierarchy
      ? [
          { name: 'reconciliation', type: 'string' } as TableColumn,
          { name: 'reconciliation_note', type: 'string' } as TableColumn,
        ]
      : []),
  ];
  const rows = series.map((s) => {
    const c = s.result.chosen;
    const r = s.result.reconciliation;
    return [
      ...keyValues(forecast, s),
      c.method,
      c.members?.join(',') ?? null,
      c.fallbackReason,
      num(c.owa),
      num(c.smape),
      num(c.mase),
      String(s.history),
      ...outlierValues(s.result.outliers),
      periodText(s.first, forecast.frequency),
      periodText(s.last, forecast.frequency),
      ...(forecast.hierarchy ? [r?.method ?? null, r?.note ?? null] : []),
    ];
  });
  return { name: `${forecast.name}_methods`, columns, rows };
}

/** A short name of its own for a table's copy being built (fits PostgreSQL's 63 characters). */
function asideName(name: string): string {
  return `__fc_${createHash('sha256').update(name).digest('hex').slice(0, 12)}`;
}

/**
 * Builds every table aside, then swaps them all in inside one transaction (engines with
 * transactional DDL); without it each table is replaced on its own with `replaceTable`, which
 * readers still see whole. Copies left by a crashed run are dropped first.
 */
export async function replaceTables(
  engine: Engine,
  schema: string,
  tables: readonly TableData[],
): Promise<void> {
  const max = engine.capabilities.maxIdentifierLength;
  for (const t of tables)
    if (t.name.length > max)
      throw new TributaryError(
        `table name ${t.name} is longer than the ${max} characters the warehouse keeps`,
        { code: 'CONFIG', hint: 'give the forecast file a shorter name' },
      );
  await engine.ensureSchema(schema);
  const q = (n: string) => engine.dialect.quoteIdentifier(n);
  for (const t of tables) {
    const aside = asideName(t.name);
    await engine.dropRelation(schema, aside);
    const columns = t.columns.map((c) => `${q(c.name)} ${engine.dialect.typeName(c.type)}`);
    await engine.exec(
      `CREATE TABLE ${engine.dialect.relation(schema, aside)} (${columns.join(', ')})`,
    );
    if (t.rows.length)
      await engine.insertRows(
        schema,
        aside,
        t.columns.map((c) => c.name),
        t.rows,
      );
  }
  faultPoint(`before-swap:${tables[0]?.name}`);
  if (engine.capabilities.transactionalDdl) {
    await engine.transaction(async (tx) => {
      for (const t of tables) {
        await tx.dropRelation(schema, t.name);
        await tx.renameRelation(schema, asideName(t.name), t.name);
        faultPoint(`mid-swap:${t.name}`);
      }
    });
    return;
  }
  for (const t of tables) {
    const aside = asideName(t.name);
    await engine.replaceTable(
      schema,
      t.name,
      `SELECT * FROM ${engine.dialect.relation(schema, aside)}`,
    );
    await engine.dropRelation(schema, aside);
  }
}
