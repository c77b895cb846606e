/**
 * `ets`: automatic ETS model selection (Hyndman et al. 2002/2008) by @bsull/augurs's AutoETS,
 * which searches the non-seasonal models (error A/M, trend N/A/Ad…; spec "ZZN") by AICc and has
 * analytic prediction intervals. augurs has no seasonal ETS (a seasonal spec finds no model), so
 * seasonality is handled the M4 way: the model is fitted to the seasonally adjusted series
 * (seasonality.ts) and the forecast and bands are reseasonalised.
 *
 * When augurs finds no model (it reports "no model found" on some inputs), the same search is
 * done here over the additive models ETS(A,N,N), ETS(A,A,N) and ETS(A,Ad,N) by AICc (smoothing.ts),
 * so `ets` always answers for a series of minLength or more.
 */
import type { ForecastMethod, ForecastOptions, ForecastResult, IntervalBand } from '../method.js';
import { autoEts, withFreed } from '../augurs.js';
import { normalBands } from '../intervals.js';
import { prepareSeries, toArray, usablePeriods } from '../input.js';
import { reseasonaliseResult, seasonallyAdjust } from '../seasonality.js';
import {
  fitSmoothing,
  smoothingAicc,
  smoothingForecast,
  smoothingStandardErrors,
  type SmoothingFit,
} from '../smoothing.js';

/** augurs's AutoETS refuses fewer than 8 values ("not enough data"). */
const MIN_LENGTH = 8;

/** AutoETS by augurs: null when it finds no model. */
function augursEts(x: Float64Array, h: number, levels: readonly number[]): ForecastResult | null {
  const AutoETS = autoEts();
  return withFreed(new AutoETS(1, 'ZZN'), (model) => {
    try {
      model.fit(x);
    } catch {
      return null;
    }
    if (levels.length === 0) return { mean: model.predict(h, null).point, intervals: [] };
    let mean: number[] = [];
    const intervals: IntervalBand[] = levels.map((level, i) => {
      const forecast = model.predict(h, level / 100);
      if (i === 0) mean = forecast.point;
      const bounds = forecast.intervals;
      return { level, lower: bounds?.lower ?? [...mean], upper: bounds?.upper ?? [...mean] };
    });
    return { mean, intervals };
  });
}

/** The additive ETS model with the lowest AICc, fitted here. */
export function additiveAutoEts(x: Float64Array): SmoothingFit {
  let best: SmoothingFit | undefined;
  let bestAicc = Infinity;
  for (const trend of ['none', 'additive', 'damped'] as const) {
    const fit = fitSmoothing(x, trend);
    const aicc = smoothingAicc(fit);
    if (best === undefined || aicc < bestAicc) {
      best = fit;
      bestAicc = aicc;
    }
  }
  return best!;
}

function isUsable(result: ForecastResult, h: number): boolean {
  const finite = (values: number[]) => values.length === h && values.every(Number.isFinite);
  return finite(result.mean) && result.intervals.every((b) => finite(b.lower) && finite(b.upper));
}

export const ets: ForecastMethod = {
  name: 'ets',
  capabilities: {
    intervals: true,
    seasonal: true,
    multiSeasonal: true,
    intermittent: false,
    expensive: true,
  },
  minLength: () => MIN_LENGTH,
  forecast(y: readonly number[], h: number, options: ForecastOptions): ForecastResult {
    const series = prepareSeries('ets', y, h, options, MIN_LENGTH);
    const { adjusted, components } = seasonallyAdjust(series, usablePeriods(options));
    let result = h > 0 ? augursEts(adjusted, h, options.levels) : null;
    if (result === null || !isUsable(result, h)) {
      const fit = additiveAutoEts(adjusted);
      const mean = smoothingForecast(fit, h);
      result = {
        mean: toArray(mean),
        intervals: normalBands(mean, smoothingStandardErrors(fit, h), options.levels),
        fitted: toArray(fit.fitted),
      };
    }
    return reseasonaliseResult(result, series.length, components);
  },
};
