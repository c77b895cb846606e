/**
 * Accuracy by method over a forecast's backtest (what `tributary forecast` prints): for each
 * method its mean sMAPE and MASE, interval coverage, and OWA against Naive2 as M4 computes it
 * over the whole set, plus the chosen methods together (`auto`). Reads the rows of the
 * `<name>_backtest` table, so it describes what is in the warehouse, whichever run wrote it.
 */
import type { Engine, Row } from '../engines/index.js';
import { forecastTables, type Forecast } from '../project/index.js';
import { owa } from './metrics.js';
import { levelSuffix } from './tables.js';

/** One row of `<name>_backtest`, as read back. */
export interface BacktestScore {
  /** The series (its level and keys, as one text). */
  series: string;
  window: number;
  method: string;
  smape: number | null;
  mase: number | null;
  /** Coverage by level (80, 95…). */
  coverage: Record<number, number | null>;
}

export interface MethodAccuracy {
  /** The method, or `auto` for each series' chosen method together. */
  method: string;
  /** Series and (series, window) pairs scored. */
  series: number;
  windows: number;
  smape: number | null;
  mase: number | null;
  /** M4's OWA against Naive2 over the same series and windows; null without Naive2 scores. */
  owa: number | null;
  coverage: Record<number, number | null>;
}

export interface AccuracySummary {
  methods: MethodAccuracy[];
  /** Methods less accurate than seasonal naive on MASE over the windows both were scored on. */
  losesToSeasonalNaive: { method: string; mase: number; seasonalNaive: number }[];
}

const mean = (xs: number[]): number | null =>
  xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;

const finite = (v: number | null | undefined): v is number =>
  v !== null && v !== undefined && Number.isFinite(v);

function summarize(
  method: string,
  rows: readonly BacktestScore[],
  naive2: Map<string, BacktestScore>,
  levels: readonly number[],
): MethodAccuracy {
  const items = rows.flatMap((r) => {
    const n = naive2.get(`${r.series}\0${r.window}`);
    return n
      ? [
          {
            smape: r.smape ?? NaN,
            mase: r.mase ?? NaN,
            naive2Smape: n.smape ?? NaN,
            naive2Mase: n.mase ?? NaN,
          },
        ]
      : [];
  });
  const relative = items.length ? owa(items).owa : NaN;
  return {
    method,
    series: new Set(rows.map((r) => r.series)).size,
    windows: rows.length,
    smape: mean(rows.map((r) => r.smape).filter(finite)),
    mase: mean(rows.map((r) => r.mase).filter(finite)),
    owa: Number.isFinite(relative) ? relative : null,
    coverage: Object.fromEntries(
      levels.map((l) => [l, mean(rows.map((r) => r.coverage[l]).filter(finite))]),
    ),
  };
}

/**
 * Accuracy of every method, best OWA first (`auto` first of all), from backtest rows and the
 * method chosen for each series (`chosen`: series -> method).
 */
export function accuracyByMethod(
  rows: readonly BacktestScore[],
  chosen: ReadonlyMap<string, string>,
  levels: readonly number[],
): AccuracySummary {
  const naive2 = new Map(
    rows.filter((r) => r.method === 'naive2').map((r) => [`${r.series}\0${r.window}`, r]),
  );
  const byMethod = new Map<string, BacktestScore[]>();
  for (const r of rows) byMethod.set(r.method, [...(byMethod.get(r.method) ?? []), r]);
  const methods = [...byMethod].map(([m, rs]) => summarize(m, rs, naive2, levels));
  methods.sort(
    (a, b) =>
      (a.owa ?? Infinity) - (b.owa ?? Infinity) ||
      (a.mase ?? Infinity) - (b.mase ?? Infinity) ||
      a.method.localeCompare(b.method),
  );
  const chosenRows = rows.filter((r) => chosen.get(r.series) === r.method);
  if (chosenRows.length && byMethod.size > 1)
    methods.unshift(summarize('auto', chosenRows, naive2, levels));
  return { methods, losesToSeasonalNaive: againstSeasonalNaive(rows, chosenRows) };
}

/** Each method (and the chosen ones, as `auto`) whose mean MASE is above seasonal naive's. */
function againstSeasonalNaive(
  rows: readonly BacktestScore[],
  chosenRows: readonly BacktestScore[],
): AccuracySummary['losesToSeasonalNaive'] {
  const snaive = new Map(
    rows
      .filter((r) => r.method === 'seasonal_naive' && finite(r.mase))
      .map((r) => [`${r.series}\0${r.window}`, r.mase!]),
  );
  if (!snaive.size) return [];
  const groups = new Map<string, BacktestScore[]>();
  for (const r of rows)
    if (r.method !== 'seasonal_naive') groups.set(r.method, [...(groups.get(r.method) ?? []), r]);
  if (chosenRows.length) groups.set('auto', [...chosenRows]);
  const out: AccuracySummary['losesToSeasonalNaive'] = [];
  for (const [method, rs] of groups) {
    const pairs = rs.flatMap((r) => {
      const s = snaive.get(`${r.series}\0${r.window}`);
      return finite(r.mase) && s !== undefined ? [[r.mase, s] as const] : [];
    });
    const m = mean(pairs.map((p) => p[0]));
    const s = mean(pairs.map((p) => p[1]));
    if (m !== null && s !== null && m > s) out.push({ method, mase: m, seasonalNaive: s });
  }
  return out.sort((a, b) => b.mase / b.seasonalNaive - a.mase / a.seasonalNaive);
}

/**
 * Reads a forecast's `<name>_backtest` and `<name>_methods` tables back and summarizes them;
 * undefined when the forecast has not run yet (no tables).
 */
export async function readAccuracy(
  engine: Engine,
  forecast: Forecast,
  schema: string,
): Promise<AccuracySummary | undefined> {
  const tables = forecastTables(forecast.name);
  const q = (n: string) => engine.dialect.quoteIdentifier(n);
  if (
    !(await engine.describe(schema, tables.backtest)) ||
    !(await engine.describe(schema, tables.methods))
  )
    return undefined;
  const keyCols = [...(forecast.hierarchy ? ['level'] : []), ...forecast.keys];
  const seriesOf = (row: Row) => JSON.stringify(keyCols.map((k) => row[k] ?? null));
  const coverage = forecast.levels.map((l) => `coverage_${levelSuffix(l)}`);
  const backtest = await engine.query(
    `SELECT ${[...keyCols, 'window', 'method', 'smape', 'mase', ...coverage].map(q).join(', ')} FROM ${engine.dialect.relation(schema, tables.backtest)}`,
  );
  const methods = await engine.query(
    `SELECT ${[...keyCols, 'method'].map(q).join(', ')} FROM ${engine.dialect.relation(schema, tables.methods)}`,
  );
  const number = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  const rows: BacktestScore[] = backtest.rows.map((r) => ({
    series: seriesOf(r),
    window: Number(r.window),
    method: String(r.method),
    smape: number(r.smape),
    mase: number(r.mase),
    coverage: Object.fromEntries(forecast.levels.map((l, i) => [l, number(r[coverage[i]!])])),
  }));
  const chosen = new Map(methods.rows.map((r) => [seriesOf(r), String(r.method)]));
  return accuracyByMethod(rows, chosen, forecast.levels);
}
