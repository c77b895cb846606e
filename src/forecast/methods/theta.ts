/**
 * The standard Theta method (Assimakopoulos & Nikolopoulos 2000) as the M4 benchmarks run it
 * (`Theta.classic` in the M4 benchmark code): on the seasonally adjusted series x, the theta-0
 * line is the least-squares linear trend a + b·t; the theta-2 line is 2x − (a + b·t); SES
 * (least squares, optimal initial level) extrapolates theta-2; the forecast is the equal-weight
 * mean of the two lines' extrapolations, reseasonalised. Hyndman & Billah (2003) showed this is
 * SES with drift b/2: on a perfectly linear series it continues at half the slope, by design.
 * Intervals follow forecast::thetaf: σ·sqrt(1 + (k−1)·α²), with σ the residual standard deviation
 * of the in-sample one-step forecasts.
 */
import type { ForecastMethod, ForecastOptions, ForecastResult } from '../method.js';
import { normalBands, residualRms } from '../intervals.js';
import { prepareSeries, toArray, usablePeriods } from '../input.js';
import { reseasonaliseResult, seasonallyAdjust } from '../seasonality.js';
import { fitSmoothing, smoothingForecast } from '../smoothing.js';

const MIN_LENGTH = 3;

/** Least-squares line through (t, x_t), t = 1..n, as M4's lm(input ~ xs) with xs = 1..n. */
function linearTrend(x: Float64Array): { intercept: number; slope: number } {
  const n = x.length;
  const meanT = (n + 1) / 2;
  let meanX = 0;
  for (let t = 0; t < n; t++) meanX += x[t]!;
  meanX /= n;
  let sxy = 0;
  let sxx = 0;
  for (let t = 0; t < n; t++) {
    const dt = t + 1 - meanT;
    sxy += dt * (x[t]! - meanX);
    sxx += dt * dt;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { intercept: meanX - slope * meanT, slope };
}

/** Theta on an already adjusted series: points, fitted values and the SES α used. */
export function thetaCore(
  x: Float64Array,
  h: number,
): { mean: Float64Array; fitted: Float64Array; alpha: number } {
  const n = x.length;
  const { intercept, slope } = linearTrend(x);
  const thetaTwo = new Float64Array(n);
  for (let t = 0; t < n; t++) thetaTwo[t] = 2 * x[t]! - (intercept + slope * (t + 1));
  const fit = fitSmoothing(thetaTwo, 'none');
  const ses = smoothingForecast(fit, h);
  const mean = new Float64Array(h);
  for (let k = 0; k < h; k++) mean[k] = 0.5 * ses[k]! + 0.5 * (intercept + slope * (n + k + 1));
  const fitted = new Float64Array(n);
  for (let t = 0; t < n; t++)
    fitted[t] = 0.5 * fit.fitted[t]! + 0.5 * (intercept + slope * (t + 1));
  return { mean, fitted, alpha: fit.alpha };
}

export const theta: ForecastMethod = {
  name: 'theta',
  capabilities: { intervals: true, seasonal: true, multiSeasonal: true, intermittent: false },
  minLength: () => MIN_LENGTH,
  forecast(y: readonly number[], h: number, options: ForecastOptions): ForecastResult {
    const series = prepareSeries('theta', y, h, options, MIN_LENGTH);
    const { adjusted, components } = seasonallyAdjust(series, usablePeriods(options));
    const { mean, fitted, alpha } = thetaCore(adjusted, h);
    const residuals = new Float64Array(adjusted.length);
    for (let t = 0; t < residuals.length; t++) residuals[t] = adjusted[t]! - fitted[t]!;
    const sigma = residualRms(residuals, 2);
    const se = new Float64Array(h);
    for (let k = 0; k < h; k++) se[k] = sigma * Math.sqrt(1 + k * alpha * alpha);
    const result: ForecastResult = {
      mean: toArray(mean),
      intervals: normalBands(mean, se, options.levels),
      fitted: toArray(fitted),
    };
    return reseasonaliseResult(result, series.length, components);
  },
};
