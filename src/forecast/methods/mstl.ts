/**
 * `mstl`: MSTL (Bandara, Hyndman & Bergmeir 2021) by @bsull/augurs: STL removes each seasonal
 * component in turn (several season lengths at once: 24 and 168 for hourly data), AutoETS
 * forecasts the seasonally adjusted rest, and the last season of each component is repeated.
 * Season lengths with fewer than two full seasons in the series are left out (STL needs two);
 * with none left it is AutoETS on the series itself, which is what MSTL without seasonal
 * components is. Intervals are augurs's, from the trend model.
 */
import type { ForecastMethod, ForecastOptions, ForecastResult, IntervalBand } from '../method.js';
import { TributaryError } from '../../core/index.js';
import { mstl as mstlClass, withFreed } from '../augurs.js';
import { prepareSeries, usablePeriods } from '../input.js';
import { ets } from './ets.js';

/** augurs's AutoETS trend model needs 8 values. */
const TREND_MIN_LENGTH = 8;

function minLength(options: ForecastOptions): number {
  const shortest = usablePeriods(options)[0];
  return Math.max(TREND_MIN_LENGTH, shortest === undefined ? 0 : 2 * shortest);
}

export const mstl: ForecastMethod = {
  name: 'mstl',
  capabilities: {
    intervals: true,
    seasonal: true,
    multiSeasonal: true,
    intermittent: false,
    expensive: true,
  },
  minLength,
  forecast(y: readonly number[], h: number, options: ForecastOptions): ForecastResult {
    const series = prepareSeries('mstl', y, h, options, minLength(options));
    const periods = usablePeriods(options).filter((p) => series.length >= 2 * p);
    if (periods.length === 0 || h === 0) {
      return ets.forecast(y, h, { seasonPeriods: [], levels: options.levels });
    }
    const MSTL = mstlClass();
    return withFreed(MSTL.ets(periods), (model) => {
      try {
        model.fit(series);
      } catch (err) {
        throw new TributaryError(`mstl: augurs could not fit the series: ${String(err)}`, {
          code: 'INTERNAL',
          hint: `season lengths ${periods.join(', ')}; try ets or seasonal_naive for this series`,
          cause: err,
        });
      }
      const fitted = model.predictInSample(null).point;
      if (options.levels.length === 0) {
        return { mean: model.predict(h, null).point, intervals: [], fitted };
      }
      let mean: number[] = [];
      const intervals: IntervalBand[] = options.levels.map((level, i) => {
        const forecast = model.predict(h, level / 100);
        if (i === 0) mean = forecast.point;
        const bounds = forecast.intervals;
        return { level, lower: bounds?.lower ?? [...mean], upper: bounds?.upper ?? [...mean] };
      });
      return { mean, intervals, fitted };
    });
  },
};
