/**
 * M4's Comb benchmark: the plain average of SES, Holt and damped trend forecasts, each fitted on
 * the same seasonally adjusted series, reseasonalised. It has no prediction intervals of its own
 * (averaging three models' bands has no standard distribution); the backtest derives empirical
 * ones from its in-sample errors.
 */
import type { ForecastMethod, ForecastOptions, ForecastResult } from '../method.js';
import { prepareSeries, toArray, usablePeriods } from '../input.js';
import { reseasonaliseResult, seasonallyAdjust } from '../seasonality.js';
import { fitSmoothing, smoothingForecast } from '../smoothing.js';

const MIN_LENGTH = 4;

export const comb: ForecastMethod = {
  name: 'comb',
  capabilities: { intervals: false, seasonal: true, multiSeasonal: true, intermittent: false },
  minLength: () => MIN_LENGTH,
  forecast(y: readonly number[], h: number, options: ForecastOptions): ForecastResult {
    const series = prepareSeries('comb', y, h, options, MIN_LENGTH);
    const { adjusted, components } = seasonallyAdjust(series, usablePeriods(options));
    const mean = new Float64Array(h);
    const fitted = new Float64Array(series.length);
    for (const trend of ['none', 'additive', 'damped'] as const) {
      const fit = fitSmoothing(adjusted, trend);
      const forecast = smoothingForecast(fit, h);
      for (let k = 0; k < h; k++) mean[k]! += forecast[k]! / 3;
      for (let t = 0; t < fitted.length; t++) fitted[t]! += fit.fitted[t]! / 3;
    }
    const result: ForecastResult = { mean: toArray(mean), intervals: [], fitted: toArray(fitted) };
    return reseasonaliseResult(result, series.length, components);
  },
};
