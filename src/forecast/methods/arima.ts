/**
 * `arima`: automatic seasonal ARIMA (Hyndman & Khandakar 2008; R's forecast::auto.arima with its
 * stepwise defaults): KPSS tests for d, the STL seasonal strength for D, a stepwise AICc search of
 * the orders, drift when d + D = 1 and the AICc keeps it (arima.ts; the CSS fit, forecasts and the
 * ψ-weight variances in arima-model.ts). Prediction intervals are normal with variance
 * σ²·Σ_{j<k} ψ_j². The main season (the shortest above 1) is modelled by seasonal terms when it
 * is at most MAX_SEASON periods; a longer one is removed first as for ETS (M4's test and classical
 * decomposition, seasonality.ts) and the forecast reseasonalised.
 *
 * With `options.memory` the order chosen on the first (oldest) call for a series is kept and only
 * its coefficients are re-estimated on later calls whose series extends it (the backtest windows),
 * as `ets` keeps its model form; the engine drops the remembered order (`ARIMA_MEMORY_KEY`) before
 * the final fit, which searches its own.
 */
import type { ForecastMethod, ForecastOptions, ForecastResult } from '../method.js';
import {
  arimaForecast,
  autoArima,
  fitWindow,
  MAX_SEASON,
  refitArima,
  type ArimaFit,
  type ArimaOrder,
} from '../arima.js';
import { normalBands } from '../intervals.js';
import { prepareSeries, toArray, usablePeriods } from '../input.js';
import { reseasonaliseResult, seasonallyAdjust } from '../seasonality.js';

const MIN_LENGTH = 8;
/** The key of the remembered order in ForecastOptions.memory (the engine drops it before the final fit). */
export const ARIMA_MEMORY_KEY = 'arima';

interface ArimaMemory {
  series: Float64Array;
  order: ArimaOrder;
}

function startsWith(longer: Float64Array, shorter: Float64Array): boolean {
  if (longer.length < shorter.length) return false;
  for (let i = 0; i < shorter.length; i++) if (!Object.is(longer[i], shorter[i])) return false;
  return true;
}

/** The fit for x: the remembered order refitted when x extends the remembered series. */
function rememberedFit(
  x: Float64Array,
  raw: Float64Array,
  m: number,
  memory: Map<string, unknown> | undefined,
): ArimaFit {
  const earlier = memory?.get(ARIMA_MEMORY_KEY) as ArimaMemory | undefined;
  if (earlier && startsWith(raw, earlier.series) && earlier.order.m === m) {
    const fit = refitArima(x, earlier.order);
    if (Number.isFinite(fit.sigma2)) return fit;
  }
  const fit = autoArima(x, m);
  memory?.set(ARIMA_MEMORY_KEY, { series: raw.slice(), order: fit.order } satisfies ArimaMemory);
  return fit;
}

/** Forecast, bands and fitted values of a fit on x; a non-finite forecast is replaced by a random walk's. */
function arimaResult(fit: ArimaFit, x: Float64Array, h: number, levels: readonly number[]) {
  let { mean, variance } = arimaForecast(fit, x, h);
  if (![...mean, ...variance].every(Number.isFinite)) {
    const walk = refitArima(x, { p: 0, d: 1, q: 0, P: 0, D: 0, Q: 0, m: 1, constant: false });
    ({ mean, variance } = arimaForecast(walk, x, h));
  }
  const se = Float64Array.from(variance, (v) => Math.sqrt(v));
  const fitted = new Float64Array(x.length).fill(NaN);
  const offset = x.length - fit.residuals.length;
  const own = fit.order.p + fit.order.m * fit.order.P;
  for (let t = offset + own; t < x.length; t++) fitted[t] = x[t]! - fit.residuals[t - offset]!;
  return { mean, fitted, intervals: normalBands(mean, se, levels) };
}

export const arima: ForecastMethod = {
  name: 'arima',
  capabilities: { intervals: true, seasonal: true, multiSeasonal: false, intermittent: false },
  minLength: () => MIN_LENGTH,
  forecast(y: readonly number[], h: number, options: ForecastOptions): ForecastResult {
    const series = prepareSeries('arima', y, h, options, MIN_LENGTH);
    const periods = usablePeriods(options);
    const m = periods[0] ?? 1;
    const modelled = m <= MAX_SEASON ? m : 1;
    const { adjusted, components } =
      modelled === m ? { adjusted: series, components: [] } : seasonallyAdjust(series, [m]);
    const start = Math.max(0, adjusted.length - fitWindow(modelled));
    const x = adjusted.subarray(start);
    const fit = rememberedFit(x, series, modelled, options.memory);
    const { mean, fitted, intervals } = arimaResult(fit, x, h, options.levels);
    const allFitted = new Float64Array(series.length).fill(NaN);
    allFitted.set(fitted, start);
    const result: ForecastResult = {
      mean: toArray(mean),
      intervals,
      fitted: toArray(allFitted),
    };
    return reseasonaliseResult(result, series.length, components);
  },
};
