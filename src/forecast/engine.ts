/**
 * The forecast engine's one entry point: `forecastSeries` backtests the candidate methods on
 * every series, chooses per series, fits the choice on the whole series and forecasts the
 * horizon with bands. Pure: no SQL, no files (the pipeline step in run.ts does the I/O).
 *
 * First version: a stand-in over naive and seasonal naive until the methods registry is merged.
 */
import { TributaryError } from '../core/errors.js';
import { BASELINE_METHODS } from './baseline.js';
import type { ForecastOptions } from './method.js';
import type {
  ForecastProgress,
  ForecastSpec,
  MethodForecast,
  SeriesForecast,
  SeriesInput,
} from './types.js';

export function forecastSeries(
  series: readonly SeriesInput[],
  spec: ForecastSpec,
  onProgress?: ForecastProgress,
): SeriesForecast[] {
  if (!Number.isInteger(spec.horizon) || spec.horizon < 1) {
    throw new TributaryError(`forecast horizon must be a whole number >= 1, got ${spec.horizon}`);
  }
  const options: ForecastOptions = { seasonPeriods: spec.seasonPeriods, levels: spec.levels };
  const out: SeriesForecast[] = [];
  for (const s of series) {
    const seasonal = BASELINE_METHODS.get('seasonal_naive')!;
    const method =
      s.values.length >= seasonal.minLength(options) ? seasonal : BASELINE_METHODS.get('naive')!;
    const fit = method.forecast(s.values, spec.horizon, options);
    const mean = spec.nonNegative ? fit.mean.map((v) => Math.max(0, v)) : fit.mean;
    const forecast: MethodForecast = { method: method.name, mean, intervals: [] };
    out.push({
      keys: s.keys,
      chosen: {
        method: method.name,
        owa: null,
        smape: null,
        mase: null,
        fallbackReason: method === seasonal ? null : 'series shorter than one season',
      },
      forecast,
      forecasts: [forecast],
      backtest: [],
      scores: [],
    });
    onProgress?.(out.length, series.length);
  }
  return out;
}
