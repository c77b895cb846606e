/**
 * `mstl`: MSTL (Bandara, Hyndman & Bergmeir 2021) as R's forecast::mstl and stlf do it: STL
 * (stl.ts) removes each seasonal component in turn (several season lengths at once: 24 and 168
 * for hourly data), AutoETS (autoets.ts) forecasts the seasonally adjusted rest, and the last
 * season of each component is repeated onto the forecast, its bands and the fitted values.
 * Season lengths with fewer than two full seasons in the series are left out (STL needs two);
 * with none left it is AutoETS on the series itself, which is what MSTL without seasonal
 * components is. (Decomposition and AutoETS used to come from @bsull/augurs; both are ours now,
 * an order of magnitude cheaper per fit: bench/RESULTS.md.)
 */
import type { ForecastMethod, ForecastOptions, ForecastResult } from '../method.js';
import { autoEtsRemembered } from '../autoets.js';
import { prepareSeries, usablePeriods } from '../input.js';
import { mstlDecompose } from '../stl.js';
import { ets, etsResult } from './ets.js';

/** AutoETS on the adjusted series needs 8 values, as `ets` does. */
const TREND_MIN_LENGTH = 8;

function minLength(options: ForecastOptions): number {
  const shortest = usablePeriods(options)[0];
  return Math.max(TREND_MIN_LENGTH, shortest === undefined ? 0 : 2 * shortest);
}

/** Adds the seasonal components to values at series positions start, start + 1…, in place. */
function addSeasonals(
  values: number[],
  start: number,
  periods: readonly number[],
  seasonals: readonly Float64Array[],
  n: number,
): void {
  periods.forEach((period, i) => {
    const seasonal = seasonals[i]!;
    for (let k = 0; k < values.length; k++) {
      const t = start + k;
      // Past positions take their own seasonal value; future ones repeat the last full season.
      const source = t < n ? t : n - period + ((t - n) % period);
      values[k]! += seasonal[source]!;
    }
  });
}

export const mstl: ForecastMethod = {
  name: 'mstl',
  capabilities: {
    intervals: true,
    seasonal: true,
    multiSeasonal: true,
    intermittent: false,
  },
  minLength,
  forecast(y: readonly number[], h: number, options: ForecastOptions): ForecastResult {
    const series = prepareSeries('mstl', y, h, options, minLength(options));
    const n = series.length;
    const periods = usablePeriods(options).filter((p) => n >= 2 * p);
    if (periods.length === 0) {
      return ets.forecast(y, h, { seasonPeriods: [], levels: options.levels });
    }
    const decomposition = mstlDecompose(series, periods);
    const adjusted = new Float64Array(n);
    for (let t = 0; t < n; t++) adjusted[t] = decomposition.trend[t]! + decomposition.remainder[t]!;
    const fit = autoEtsRemembered(adjusted, series, options.memory, 'mstl');
    const result = etsResult(fit, h, options.levels);
    const { periods: used, seasonals } = decomposition;
    addSeasonals(result.mean, n, used, seasonals, n);
    for (const band of result.intervals) {
      addSeasonals(band.lower, n, used, seasonals, n);
      addSeasonals(band.upper, n, used, seasonals, n);
    }
    if (result.fitted) addSeasonals(result.fitted, 0, used, seasonals, n);
    return result;
  },
};
