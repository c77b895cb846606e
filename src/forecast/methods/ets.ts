/**
 * `ets`: automatic ETS model selection (Hyndman et al. 2002/2008) by our own AutoETS
 * (autoets.ts): ETS(A|M, N|A|Ad, N) fitted by maximum likelihood, the smallest AICc kept, with
 * the analytic prediction intervals of Hyndman et al. (2008). Seasonality is handled the M4 way:
 * the model is fitted to the seasonally adjusted series (seasonality.ts) and the forecast and
 * bands are reseasonalised. (This replaced @bsull/augurs's AutoETS, which searches the same six
 * models, at about a tenth of its cost per fit; bench/RESULTS.md has the comparison.)
 */
import type { ForecastMethod, ForecastOptions, ForecastResult } from '../method.js';
import { autoEtsRemembered, etsForecast, etsForecastVariances, type EtsFit } from '../autoets.js';
import { normalBands } from '../intervals.js';
import { prepareSeries, toArray, usablePeriods } from '../input.js';
import { reseasonaliseResult, seasonallyAdjust } from '../seasonality.js';
import { fitSmoothing, smoothingAicc, type SmoothingFit } from '../smoothing.js';

/** The shortest series R's ets and augurs's AutoETS fit every model on is 7; 8 leaves one spare. */
const MIN_LENGTH = 8;

/** The additive ETS model with the lowest AICc (the additive half of autoEts's search). */
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

/** Forecast, bands and fitted values of an ETS fit on the (adjusted) series it was fitted to. */
export function etsResult(fit: EtsFit, h: number, levels: readonly number[]): ForecastResult {
  const mean = etsForecast(fit, h);
  const variances = etsForecastVariances(fit, mean);
  const se = variances.map((v) => Math.sqrt(v));
  return {
    mean: toArray(mean),
    intervals: normalBands(mean, se, levels),
    fitted: toArray(fit.fitted),
  };
}

export const ets: ForecastMethod = {
  name: 'ets',
  capabilities: {
    intervals: true,
    seasonal: true,
    multiSeasonal: true,
    intermittent: false,
  },
  minLength: () => MIN_LENGTH,
  forecast(y: readonly number[], h: number, options: ForecastOptions): ForecastResult {
    const series = prepareSeries('ets', y, h, options, MIN_LENGTH);
    const { adjusted, components } = seasonallyAdjust(series, usablePeriods(options));
    const fit = autoEtsRemembered(adjusted, series, options.memory, 'ets');
    const result = etsResult(fit, h, options.levels);
    return reseasonaliseResult(result, series.length, components);
  },
};
