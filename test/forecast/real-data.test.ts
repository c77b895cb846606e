/**
 * A real-data check: classic public series from R's datasets package (AirPassengers, USAccDeaths,
 * lynx, Nile, WWWusage; sources and licence in bench/data/r-datasets.ts). The last h values are
 * held out, `auto` forecasts from the rest (choosing by its own backtests), and across the five
 * series it must beat Naive2 by M4's OWA, the bar the M4 benchmarks themselves clear.
 */
import { describe, expect, it } from 'vitest';
import { R_DATASETS } from '../../bench/data/r-datasets.js';
import { forecastSeries } from '../../src/forecast/engine.js';
import { mase, owa, smape } from '../../src/forecast/metrics.js';
import type { OwaItem } from '../../src/forecast/metrics.js';

describe('auto on real series (R datasets)', () => {
  it('beats Naive2 on the held-out periods (OWA < 1 over the set)', () => {
    const items: OwaItem[] = [];
    for (const r of R_DATASETS) {
      const train = r.values.slice(0, -r.horizon);
      const actual = r.values.slice(-r.horizon);
      const [result] = forecastSeries(
        [{ keys: { series: r.name }, periods: train.map((_, t) => String(t)), values: train }],
        {
          horizon: r.horizon,
          seasonPeriods: r.season > 1 ? [r.season] : [],
          levels: [80, 95],
          methods: 'auto',
          backtest: { windows: 3, step: r.horizon },
          nonNegative: true,
          keepAllMethods: true,
        },
      );
      const naive2 = result!.forecasts.find((f) => f.method === 'naive2')!.mean;
      const m = Math.max(1, r.season);
      items.push({
        smape: smape(actual, result!.forecast.mean),
        mase: mase(actual, result!.forecast.mean, train, m),
        naive2Smape: smape(actual, naive2),
        naive2Mase: mase(actual, naive2, train, m),
      });
      expect(result!.chosen.fallbackReason).toBeNull();
    }
    const score = owa(items);
    expect(score.used).toBe(5);
    expect(score.owa).toBeLessThan(1);
  }, 60_000);
});
