/**
 * Running one method for the engine and the backtest: fit, derive prediction bands when the
 * method has none of its own, clamp at zero for non-negative quantities, and average several
 * forecasts (Comb-style combinations of the best k).
 */
import type { ForecastMethod, ForecastOptions, ForecastResult, IntervalBand } from './method.js';
import { zForLevel } from './intervals.js';
import { scaleSeason } from './metrics.js';

/**
 * Standard deviation of one-step errors: from the method's own in-sample fitted values when it
 * gives at least 3, otherwise from the training series' seasonal naive differences (the errors
 * the simplest seasonal method would have made). 0 for a series without variation.
 */
export function residualSigma(
  y: readonly number[],
  fitted: readonly number[] | undefined,
  m: number,
): number {
  let sum = 0;
  let count = 0;
  if (fitted && fitted.length === y.length) {
    for (let t = 0; t < y.length; t++) {
      const f = fitted[t]!;
      if (!Number.isFinite(f)) continue;
      const e = y[t]! - f;
      sum += e * e;
      count++;
    }
  }
  if (count < 3) {
    sum = 0;
    count = 0;
    const lag = y.length > m ? m : 1;
    for (let t = lag; t < y.length; t++) {
      const e = y[t]! - y[t - lag]!;
      sum += e * e;
      count++;
    }
  }
  return count > 0 ? Math.sqrt(sum / count) : 0;
}

/**
 * Bands for a method without intervals: point ± z·σ·√k at step k, σ the one-step residual
 * standard deviation (`residualSigma`). The √k growth is the random-walk rate; it is what the
 * backtest's coverage and MSIS then measure.
 */
export function residualBands(
  y: readonly number[],
  result: ForecastResult,
  levels: readonly number[],
  m: number,
): IntervalBand[] {
  const sigma = residualSigma(y, result.fitted, m);
  return levels.map((level) => {
    const z = zForLevel(level);
    const lower: number[] = [];
    const upper: number[] = [];
    result.mean.forEach((point, k) => {
      const half = z * sigma * Math.sqrt(k + 1);
      lower.push(point - half);
      upper.push(point + half);
    });
    return { level, lower, upper };
  });
}

/** Points and bounds clamped at zero (for non-negative quantities). */
export function clampAtZero(result: ForecastResult): ForecastResult {
  const clamp = (xs: number[]): number[] => xs.map((v) => (v < 0 ? 0 : v));
  return {
    mean: clamp(result.mean),
    intervals: result.intervals.map((b) => ({
      level: b.level,
      lower: clamp(b.lower),
      upper: clamp(b.upper),
    })),
    ...(result.fitted ? { fitted: result.fitted } : {}),
  };
}

/**
 * Fits `method` on y and forecasts h periods with a band per requested level (its own, else
 * residual-based), clamped at zero when `nonNegative`. Throws what the method throws.
 */
export function runMethod(
  method: ForecastMethod,
  y: readonly number[],
  h: number,
  options: ForecastOptions,
  nonNegative: boolean,
): ForecastResult {
  const raw = method.forecast(y, h, options);
  const own = raw.intervals.length === options.levels.length && options.levels.length > 0;
  const result: ForecastResult = {
    mean: raw.mean,
    intervals:
      own || options.levels.length === 0
        ? raw.intervals
        : residualBands(y, raw, options.levels, scaleSeason(options.seasonPeriods)),
    ...(raw.fitted ? { fitted: raw.fitted } : {}),
  };
  return nonNegative ? clampAtZero(result) : result;
}

/** The element-wise average of forecasts (points and each level's bounds), e.g. Comb or top-k. */
export function averageForecasts(results: readonly ForecastResult[]): ForecastResult {
  const first = results[0]!;
  const n = results.length;
  const avg = (pick: (r: ForecastResult) => number[]): number[] =>
    pick(first).map((_, i) => results.reduce((s, r) => s + pick(r)[i]!, 0) / n);
  return {
    mean: avg((r) => r.mean),
    intervals: first.intervals.map((band, j) => ({
      level: band.level,
      lower: avg((r) => r.intervals[j]!.lower),
      upper: avg((r) => r.intervals[j]!.upper),
    })),
  };
}

function medianOf(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * A pool hedged with robust anchors (auto.ts `selection: 'hedge'`): per step, half the average of
 * `pool` plus half the median of `anchors`, for the points and each level's bounds alike.
 */
export function hedgeForecasts(
  pool: readonly ForecastResult[],
  anchors: readonly ForecastResult[],
): ForecastResult {
  const first = pool[0]!;
  const blend = (pick: (r: ForecastResult) => number[]): number[] =>
    pick(first).map(
      (_, i) =>
        0.5 * (pool.reduce((s, r) => s + pick(r)[i]!, 0) / pool.length) +
        0.5 * medianOf(anchors.map((r) => pick(r)[i]!)),
    );
  return {
    mean: blend((r) => r.mean),
    intervals: first.intervals.map((band, j) => ({
      level: band.level,
      lower: blend((r) => r.intervals[j]!.lower),
      upper: blend((r) => r.intervals[j]!.upper),
    })),
  };
}
