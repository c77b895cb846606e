/**
 * The naive family, the benchmarks every other method must beat:
 * - `naive`: the last value, repeated.
 * - `seasonal_naive`: the last season repeated, with the main (shortest) season length.
 * - `naive2`: naive on the seasonally adjusted series, reseasonalised; M4's Naive2, the reference
 *   of its OWA.
 * Intervals are FPP3's closed forms (section 5.5) with σ the root mean square of the one-step
 * residuals: naive σ·sqrt(k), seasonal naive σ·sqrt(⌊(k−1)/m⌋ + 1).
 */
import type { ForecastMethod, ForecastOptions, ForecastResult } from '../method.js';
import { normalBands, residualRms } from '../intervals.js';
import { prepareSeries, primaryPeriod, toArray, usablePeriods } from '../input.js';
import { reseasonaliseResult, seasonallyAdjust } from '../seasonality.js';

/** Naive forecast of an already prepared series: points, σ·sqrt(k) errors and fitted values. */
export function naiveCore(
  y: Float64Array,
  h: number,
): { mean: Float64Array; se: Float64Array; fitted: Float64Array } {
  const n = y.length;
  const fitted = new Float64Array(n);
  const residuals = new Float64Array(n);
  fitted[0] = NaN;
  residuals[0] = NaN;
  for (let t = 1; t < n; t++) {
    fitted[t] = y[t - 1]!;
    residuals[t] = y[t]! - y[t - 1]!;
  }
  const sigma = residualRms(residuals);
  const mean = new Float64Array(h).fill(y[n - 1]!);
  const se = new Float64Array(h);
  for (let k = 0; k < h; k++) se[k] = sigma * Math.sqrt(k + 1);
  return { mean, se, fitted };
}

export const naive: ForecastMethod = {
  name: 'naive',
  capabilities: { intervals: true, seasonal: false, multiSeasonal: false, intermittent: false },
  minLength: () => 1,
  forecast(y: readonly number[], h: number, options: ForecastOptions): ForecastResult {
    const series = prepareSeries('naive', y, h, options, 1);
    const { mean, se, fitted } = naiveCore(series, h);
    return {
      mean: toArray(mean),
      intervals: normalBands(mean, se, options.levels),
      fitted: toArray(fitted),
    };
  },
};

export const seasonalNaive: ForecastMethod = {
  name: 'seasonal_naive',
  capabilities: { intervals: true, seasonal: true, multiSeasonal: false, intermittent: false },
  minLength: (options) => primaryPeriod(options),
  forecast(y: readonly number[], h: number, options: ForecastOptions): ForecastResult {
    const m = primaryPeriod(options);
    const series = prepareSeries('seasonal_naive', y, h, options, m);
    const n = series.length;
    const fitted = new Float64Array(n).fill(NaN);
    const residuals = new Float64Array(n).fill(NaN);
    for (let t = m; t < n; t++) {
      fitted[t] = series[t - m]!;
      residuals[t] = series[t]! - series[t - m]!;
    }
    const sigma = residualRms(residuals);
    const mean = new Float64Array(h);
    const se = new Float64Array(h);
    for (let k = 0; k < h; k++) {
      mean[k] = series[n - m + (k % m)]!;
      se[k] = sigma * Math.sqrt(Math.floor(k / m) + 1);
    }
    return {
      mean: toArray(mean),
      intervals: normalBands(mean, se, options.levels),
      fitted: toArray(fitted),
    };
  },
};

export const naive2: ForecastMethod = {
  name: 'naive2',
  capabilities: { intervals: true, seasonal: true, multiSeasonal: true, intermittent: false },
  minLength: () => 1,
  forecast(y: readonly number[], h: number, options: ForecastOptions): ForecastResult {
    const series = prepareSeries('naive2', y, h, options, 1);
    const { adjusted, components } = seasonallyAdjust(series, usablePeriods(options));
    const core = naiveCore(adjusted, h);
    const result: ForecastResult = {
      mean: toArray(core.mean),
      intervals: normalBands(core.mean, core.se, options.levels),
      fitted: toArray(core.fitted),
    };
    return reseasonaliseResult(result, series.length, components);
  },
};
