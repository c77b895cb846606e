/**
 * SES, Holt and damped trend as the M4 benchmarks run them: on the seasonally adjusted series
 * (M4's seasonality test and classical decomposition, seasonality.ts), fitted by least squares of
 * the one-step errors (smoothing.ts), reseasonalised. Without a seasonal period, or when the test
 * finds none, they are the plain textbook methods. Intervals are the closed forms of the
 * equivalent ETS(A,N,N), ETS(A,A,N) and ETS(A,Ad,N) models (FPP3 8.7), on the adjusted scale.
 */
import type { ForecastMethod, ForecastOptions, ForecastResult } from '../method.js';
import { normalBands } from '../intervals.js';
import { prepareSeries, toArray, usablePeriods } from '../input.js';
import { reseasonaliseResult, seasonallyAdjust } from '../seasonality.js';
import {
  fitSmoothing,
  smoothingForecast,
  smoothingStandardErrors,
  type TrendKind,
} from '../smoothing.js';

/** Fits one smoothing model to the adjusted series and returns its reseasonalised result. */
export function adjustedSmoothing(
  series: Float64Array,
  h: number,
  options: ForecastOptions,
  trend: TrendKind,
): ForecastResult {
  const { adjusted, components } = seasonallyAdjust(series, usablePeriods(options));
  const fit = fitSmoothing(adjusted, trend);
  const mean = smoothingForecast(fit, h);
  const result: ForecastResult = {
    mean: toArray(mean),
    intervals: normalBands(mean, smoothingStandardErrors(fit, h), options.levels),
    fitted: toArray(fit.fitted),
  };
  return reseasonaliseResult(result, series.length, components);
}

function smoothingMethod(name: string, trend: TrendKind, minLength: number): ForecastMethod {
  return {
    name,
    capabilities: { intervals: true, seasonal: true, multiSeasonal: true, intermittent: false },
    minLength: () => minLength,
    forecast(y: readonly number[], h: number, options: ForecastOptions): ForecastResult {
      const series = prepareSeries(name, y, h, options, minLength);
      return adjustedSmoothing(series, h, options, trend);
    },
  };
}

/** Simple exponential smoothing: level only (two values fix α and the initial level). */
export const ses = smoothingMethod('ses', 'none', 2);
/** Holt's linear trend: level and slope. */
export const holt = smoothingMethod('holt', 'additive', 3);
/** Damped trend (Gardner & McKenzie): the slope fades by φ per period, φ in [0.8, 0.98]. */
export const damped = smoothingMethod('damped', 'damped', 4);
