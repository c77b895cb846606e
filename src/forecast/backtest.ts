/**
 * Rolling-origin backtests: for each of N windows, fit every method on y[0..origin) and score its
 * forecast of the next h periods against what happened. Origins step back S periods from the
 * last possible one (n − h), so the newest window ends at the series' end. A window whose origin
 * leaves fewer than 2 training values is dropped; a method whose `minLength` is not met at an
 * origin (or that fails there) is skipped for that window with the reason in its row.
 */
import { describeError } from '../core/errors.js';
import { runMethod } from './bands.js';
import type { ForecastMethod, ForecastOptions, ForecastResult } from './method.js';
import {
  coverage,
  mase,
  msis,
  orNull,
  relativeScore,
  rmsse,
  scaleProblem,
  scaleSeason,
  seasonalNaiveMae,
  naiveMse,
  smape,
} from './metrics.js';
import type { BacktestRow, MethodScore } from './types.js';

export interface BacktestConfig {
  horizon: number;
  windows: number;
  step: number;
  seasonPeriods: readonly number[];
  levels: readonly number[];
  nonNegative: boolean;
  /** The series' method memory (ForecastOptions.memory), passed to every window's fits. */
  memory?: Map<string, unknown>;
  /**
   * What the fits of a window see instead of its raw training values (outlier cleaning,
   * outliers.ts); the window is still scored against the raw actuals with the raw training
   * values as the MASE/RMSSE scale. Absent: the raw values.
   */
  prepare?: (train: readonly number[]) => readonly number[];
}

/** One window's training end, its actuals and every method's forecast there (null: skipped). */
export interface BacktestWindow {
  window: number;
  origin: number;
  forecasts: Map<string, ForecastResult | null>;
}

export interface SeriesBacktest {
  rows: BacktestRow[];
  windows: BacktestWindow[];
  /** Why no window could be formed (series shorter than horizon + 2), else null. */
  tooShort: string | null;
}

/** The name of the benchmark every relative score is taken against. */
export const REFERENCE_METHOD = 'naive2';

/** Forecast origins, oldest first: n − h − (N − i)·S for i = 1..N, keeping those >= 2. */
export function backtestOrigins(
  n: number,
  horizon: number,
  windows: number,
  step: number,
): number[] {
  const origins: number[] = [];
  for (let i = windows - 1; i >= 0; i--) {
    const origin = n - horizon - i * step;
    if (origin >= 2) origins.push(origin);
  }
  return origins;
}

/**
 * Scores one forecast made at `origin` against y[origin..origin+h). `owa` is left null; the
 * caller fills it from the reference row of the same window.
 */
export function scoreWindow(
  y: readonly number[],
  periods: readonly string[],
  window: number,
  origin: number,
  method: string,
  result: ForecastResult,
  config: BacktestConfig,
): BacktestRow {
  const train = y.slice(0, origin);
  const actual = y.slice(origin, origin + config.horizon);
  const m = scaleSeason(config.seasonPeriods);
  const cover: Record<number, number | null> = {};
  for (const band of result.intervals) cover[band.level] = coverage(actual, band.lower, band.upper);
  const widest = result.intervals.reduce<(typeof result.intervals)[number] | null>(
    (best, b) => (best === null || b.level > best.level ? b : best),
    null,
  );
  const row: BacktestRow = {
    window,
    origin,
    originPeriod: periods[origin] ?? '',
    method,
    smape: orNull(smape(actual, result.mean)),
    mase: orNull(mase(actual, result.mean, train, m)),
    rmsse: orNull(rmsse(actual, result.mean, train)),
    coverage: cover,
    msis: widest ? orNull(msis(actual, widest.lower, widest.upper, widest.level, train, m)) : null,
    owa: null,
  };
  const notes = [
    scaleProblem(seasonalNaiveMae(train, m), 'MASE and MSIS'),
    scaleProblem(naiveMse(train), 'RMSSE'),
  ].filter((n): n is string => n !== null);
  if (notes.length > 0) row.note = notes.join('; ');
  return row;
}

function skippedRow(
  window: number,
  origin: number,
  periods: readonly string[],
  method: string,
  reason: string,
  levels: readonly number[],
): BacktestRow {
  const cover: Record<number, number | null> = {};
  for (const level of levels) cover[level] = null;
  return {
    window,
    origin,
    originPeriod: periods[origin] ?? '',
    method,
    smape: null,
    mase: null,
    rmsse: null,
    coverage: cover,
    msis: null,
    owa: null,
    skipped: reason,
  };
}

/** Fills each row's `owa` from the reference (Naive2) row of its window. */
export function fillRelativeScores(rows: BacktestRow[]): void {
  const reference = new Map<number, BacktestRow>();
  for (const r of rows) if (r.method === REFERENCE_METHOD && !r.skipped) reference.set(r.window, r);
  for (const r of rows) {
    const ref = reference.get(r.window);
    if (!ref || r.skipped || r.smape === null) continue;
    r.owa = orNull(relativeScore(r.smape, r.mase ?? NaN, ref.smape ?? NaN, ref.mase ?? NaN));
  }
}

/** Backtests every method on one series (see the module comment). */
export function backtestSeries(
  y: readonly number[],
  periods: readonly string[],
  methods: readonly ForecastMethod[],
  config: BacktestConfig,
): SeriesBacktest {
  const origins = backtestOrigins(y.length, config.horizon, config.windows, config.step);
  const options: ForecastOptions = {
    seasonPeriods: config.seasonPeriods,
    levels: config.levels,
    ...(config.memory ? { memory: config.memory } : {}),
  };
  const rows: BacktestRow[] = [];
  const windows: BacktestWindow[] = [];
  origins.forEach((origin, i) => {
    const window = i + 1;
    const raw = y.slice(0, origin);
    const train = config.prepare ? config.prepare(raw) : raw;
    const forecasts = new Map<string, ForecastResult | null>();
    for (const method of methods) {
      const need = method.minLength(options);
      if (origin < need) {
        rows.push(
          skippedRow(
            window,
            origin,
            periods,
            method.name,
            `needs ${need} values, window has ${origin}`,
            config.levels,
          ),
        );
        forecasts.set(method.name, null);
        continue;
      }
      try {
        const result = runMethod(method, train, config.horizon, options, config.nonNegative);
        forecasts.set(method.name, result);
        rows.push(scoreWindow(y, periods, window, origin, method.name, result, config));
      } catch (err) {
        rows.push(
          skippedRow(
            window,
            origin,
            periods,
            method.name,
            `failed: ${describeError(err)}`,
            config.levels,
          ),
        );
        forecasts.set(method.name, null);
      }
    }
    windows.push({ window, origin, forecasts });
  });
  fillRelativeScores(rows);
  const tooShort =
    origins.length === 0 && config.windows > 0
      ? `series of ${y.length} values is too short for a backtest window of horizon ${config.horizon} (needs ${config.horizon + 2})`
      : null;
  return { rows, windows, tooShort };
}

function mean(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** Per-method summary over windows: mean sMAPE, MASE and OWA of the windows it was scored on. */
export function summarize(
  rows: readonly BacktestRow[],
  methodNames: readonly string[],
): MethodScore[] {
  return methodNames.map((method) => {
    const mine = rows.filter((r) => r.method === method);
    const scored = mine.filter((r) => !r.skipped);
    const pick = (f: (r: BacktestRow) => number | null): number[] =>
      scored.map(f).filter((v): v is number => v !== null);
    const score: MethodScore = {
      method,
      windows: scored.length,
      smape: mean(pick((r) => r.smape)),
      mase: mean(pick((r) => r.mase)),
      owa: mean(pick((r) => r.owa)),
      rmsse: mean(pick((r) => r.rmsse)),
    };
    const reasons = [...new Set(mine.filter((r) => r.skipped).map((r) => r.skipped!))];
    if (reasons.length > 0) score.skipped = reasons.join('; ');
    return score;
  });
}
