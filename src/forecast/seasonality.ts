/**
 * Seasonality as the M4 competition's benchmarks handle it (Makridakis et al. 2020, "The M4
 * Competition: 100,000 time series and 61 forecasting methods"; the benchmark code
 * `Benchmarks and Evaluation.R`): a series counts as seasonal with period m when its
 * autocorrelation at lag m is significant at 90% (one-sided z 1.645) against Bartlett's limit
 * 1.645·sqrt((1 + 2·Σ_{k<m} r_k²) / n), and only when it has at least three full seasons. A
 * seasonal series is adjusted by classical decomposition (R's `decompose`): a centred moving average
 * of order m is the trend, the mean ratio (or difference) to it per season position is the
 * seasonal index, normalised to average 1 (or 0). Naive2, SES/Holt/damped, Comb and Theta fit the
 * adjusted series and multiply (or add) the indices back onto their forecasts.
 *
 * Two departures from M4, both for data M4 did not have:
 * - M4's series were all positive, so it always used multiplicative decomposition. A series with
 *   any value <= 0 (demand with zero days) is adjusted additively instead, since ratios to a zero
 *   or negative trend mean nothing.
 * - Several season lengths (hourly data: 24 and 168) are tested and removed one after the other,
 *   shortest first, each on the series already adjusted for the shorter ones.
 * R's `acf` stops at lag 10·log10(n), so M4 never saw a lag above that as seasonal; this module
 * computes the autocorrelation at lag m itself, so long periods (168 hours) can be detected.
 */

import type { ForecastResult } from './method.js';

/** One removed seasonal component. `indices[t % period]` is the index of series position t. */
export interface SeasonalComponent {
  period: number;
  kind: 'multiplicative' | 'additive';
  indices: Float64Array;
}

/** A seasonally adjusted series and what was removed from it, oldest component first. */
export interface SeasonalAdjustment {
  adjusted: Float64Array;
  components: SeasonalComponent[];
}

/** One-sided 90% normal quantile the M4 benchmarks use. */
const M4_TCRIT = 1.645;

/**
 * Sample autocorrelations r_1..r_maxLag (index 0 holds r_1) as R's `acf` computes them: the mean
 * removed, autocovariances divided by n. A constant series has no autocorrelation: all zero.
 */
export function autocorrelations(y: ArrayLike<number>, maxLag: number): Float64Array {
  const n = y.length;
  const out = new Float64Array(Math.max(0, maxLag));
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i]!;
  mean /= n;
  let c0 = 0;
  for (let i = 0; i < n; i++) c0 += (y[i]! - mean) ** 2;
  if (!(c0 > 0)) return out;
  for (let lag = 1; lag <= maxLag && lag < n; lag++) {
    let c = 0;
    for (let i = lag; i < n; i++) c += (y[i]! - mean) * (y[i - lag]! - mean);
    out[lag - 1] = c / c0;
  }
  return out;
}

/**
 * M4's seasonality test: true when the series has at least three seasons of length `period` and
 * |r_period| exceeds 1.645/sqrt(n)·sqrt(1 + 2·Σ_{k=1}^{period-1} r_k²).
 */
export function isSeasonal(y: ArrayLike<number>, period: number): boolean {
  const n = y.length;
  if (!(Number.isInteger(period) && period > 1) || n < 3 * period) return false;
  const acf = autocorrelations(y, period);
  let sumSquares = 0;
  for (let k = 0; k < period - 1; k++) sumSquares += acf[k]! * acf[k]!;
  const limit = (M4_TCRIT / Math.sqrt(n)) * Math.sqrt(1 + 2 * sumSquares);
  return Math.abs(acf[period - 1]!) > limit;
}

/**
 * Seasonal indices of classical decomposition (R `decompose`) for `period`: the trend is the
 * centred moving average (order period, with half weights at both ends when period is even);
 * index j is the mean of y/trend (or y - trend) over positions t ≡ j (mod period) where the trend
 * exists, normalised to mean 1 (or 0). Needs at least two seasons.
 */
export function seasonalIndices(
  y: ArrayLike<number>,
  period: number,
  kind: SeasonalComponent['kind'],
): Float64Array {
  const n = y.length;
  const half = Math.floor(period / 2);
  const even = period % 2 === 0;
  const sums = new Float64Array(period);
  const counts = new Float64Array(period);
  // Running window sum over y[t-half .. t+half] (period + 1 values when even, period when odd).
  let window = 0;
  const span = even ? period + 1 : period;
  for (let i = 0; i < span && i < n; i++) window += y[i]!;
  for (let t = half; t + half < n; t++) {
    if (t > half) window += y[t + half]! - y[t - half - 1]!;
    const trend = even ? (window - 0.5 * (y[t - half]! + y[t + half]!)) / period : window / period;
    const ratio = kind === 'multiplicative' ? y[t]! / trend : y[t]! - trend;
    if (Number.isFinite(ratio)) {
      sums[t % period] += ratio;
      counts[t % period] += 1;
    }
  }
  const indices = new Float64Array(period);
  let mean = 0;
  for (let j = 0; j < period; j++) {
    indices[j] = counts[j]! > 0 ? sums[j]! / counts[j]! : kind === 'multiplicative' ? 1 : 0;
    mean += indices[j]!;
  }
  mean /= period;
  for (let j = 0; j < period; j++) {
    indices[j] = kind === 'multiplicative' ? indices[j]! / mean : indices[j]! - mean;
  }
  return indices;
}

/**
 * Tests each period (shortest first) with M4's test and removes the seasonal ones by classical
 * decomposition: multiplicative when every value is positive, additive otherwise. A series with
 * no seasonal period comes back as an unchanged copy with no components.
 */
export function seasonallyAdjust(
  y: ArrayLike<number>,
  periods: readonly number[],
): SeasonalAdjustment {
  const key = periods.join(',');
  if (lastAdjustment && lastAdjustment.key === key && sameValues(lastAdjustment.input, y)) {
    const { adjusted, components } = lastAdjustment.result;
    return { adjusted: adjusted.slice(), components };
  }
  const result = computeAdjustment(y, periods);
  lastAdjustment = { key, input: Float64Array.from(y), result };
  return { adjusted: result.adjusted.slice(), components: result.components };
}

/**
 * The last adjustment made. A backtest window runs every method on the same training values, and
 * most methods adjust them the same way, so one remembered result saves the repeated tests and
 * decompositions. It is used only when the values are equal, so it cannot change a result; callers
 * get their own copy of the adjusted series (components are shared and never modified).
 */
let lastAdjustment: { key: string; input: Float64Array; result: SeasonalAdjustment } | undefined;

/** Whether two series hold the same values (Object.is, so NaN and -0 compare as stored). */
export function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function computeAdjustment(y: ArrayLike<number>, periods: readonly number[]): SeasonalAdjustment {
  const adjusted = Float64Array.from(y as ArrayLike<number>);
  const components: SeasonalComponent[] = [];
  const sorted = [...new Set(periods)].filter((p) => Number.isInteger(p) && p > 1);
  sorted.sort((a, b) => a - b);
  for (const period of sorted) {
    if (!isSeasonal(adjusted, period)) continue;
    let kind: SeasonalComponent['kind'] = allPositive(adjusted) ? 'multiplicative' : 'additive';
    let indices = seasonalIndices(adjusted, period, kind);
    if (kind === 'multiplicative' && !indices.every((v) => Number.isFinite(v) && v > 0)) {
      kind = 'additive';
      indices = seasonalIndices(adjusted, period, kind);
    }
    if (!indices.every(Number.isFinite)) continue;
    for (let t = 0; t < adjusted.length; t++) {
      const s = indices[t % period]!;
      adjusted[t] = kind === 'multiplicative' ? adjusted[t]! / s : adjusted[t]! - s;
    }
    components.push({ period, kind, indices });
  }
  return { adjusted, components };
}

function allPositive(y: ArrayLike<number>): boolean {
  for (let i = 0; i < y.length; i++) if (!(y[i]! > 0)) return false;
  return true;
}

/**
 * Puts the removed seasonality back into `values`, where values[k] belongs to series position
 * `start + k` (start = n for forecasts, 0 for fitted values). Components are undone newest first.
 * In place; returns `values`.
 */
export function reseasonalise<T extends { [k: number]: number; length: number }>(
  values: T,
  start: number,
  components: readonly SeasonalComponent[],
): T {
  for (let c = components.length - 1; c >= 0; c--) {
    const { period, kind, indices } = components[c]!;
    for (let k = 0; k < values.length; k++) {
      const s = indices[(start + k) % period]!;
      values[k] = kind === 'multiplicative' ? values[k]! * s : values[k]! + s;
    }
  }
  return values;
}

/**
 * Reseasonalises a whole result fitted on the adjusted series, in place: the points and bands
 * (positions n…n+h−1) and the fitted values (positions 0…n−1). Multiplicative indices are
 * positive, so they keep lower <= point <= upper; additive ones shift all three alike.
 */
export function reseasonaliseResult(
  result: ForecastResult,
  n: number,
  components: readonly SeasonalComponent[],
): ForecastResult {
  if (components.length === 0) return result;
  reseasonalise(result.mean, n, components);
  for (const band of result.intervals) {
    reseasonalise(band.lower, n, components);
    reseasonalise(band.upper, n, components);
  }
  if (result.fitted) reseasonalise(result.fitted, 0, components);
  return result;
}
