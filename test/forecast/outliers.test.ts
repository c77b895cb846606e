/**
 * Outlier cleaning before fitting (src/forecast/outliers.ts) and what the engine does with it:
 * a spike is replaced, a level shift is not, a series without outliers is unchanged, and the
 * backtest fits on cleaned windows while scoring against the raw actuals.
 */
import { describe, expect, it } from 'vitest';
import { rankMethods } from '../../src/forecast/auto.js';
import { forecastSeries } from '../../src/forecast/engine.js';
import { cleanOutliers, runningMedian } from '../../src/forecast/outliers.js';
import type { ForecastSpec, MethodScore } from '../../src/forecast/types.js';
import { intermittent, seededRandom, weeklyDaily } from './series.js';

const days = (n: number): string[] =>
  Array.from({ length: n }, (_, t) =>
    new Date(Date.UTC(2024, 0, 1 + t)).toISOString().slice(0, 10),
  );

function spec(over: Partial<ForecastSpec> = {}): ForecastSpec {
  return {
    horizon: 14,
    seasonPeriods: [7],
    levels: [80],
    methods: ['naive', 'ses'],
    backtest: { windows: 2, step: 14 },
    nonNegative: true,
    ...over,
  };
}

describe('cleanOutliers', () => {
  it('replaces a one-off spike by the seasonal + trend value there, and nothing else', () => {
    const y = weeklyDaily(200, 3);
    const spiked = [...y];
    for (const t of [120, 121, 122]) spiked[t] = y[t]! * 3;
    const { values, replaced } = cleanOutliers(spiked, [7]);
    expect(replaced.map((r) => r.index)).toEqual([120, 121, 122]);
    for (const r of replaced) {
      expect(r.value).toBe(spiked[r.index]);
      // Within the noise (±4) and trend of the series it replaces.
      expect(Math.abs(r.replacement - y[r.index]!)).toBeLessThan(12);
      expect(values[r.index]).toBe(r.replacement);
    }
    values.forEach((v, t) => {
      if (![120, 121, 122].includes(t)) expect(v).toBe(spiked[t]);
    });
  });

  it('replaces a spike in the last days of the series (where the next forecast starts)', () => {
    const y = weeklyDaily(200, 4);
    y[197] = y[197]! * 3;
    y[198] = y[198]! * 2.5;
    const { replaced } = cleanOutliers(y, [7]);
    expect(replaced.map((r) => r.index)).toEqual([197, 198]);
  });

  it('leaves a level shift alone', () => {
    const random = seededRandom(5);
    const week = [0.8, 0.9, 0.95, 1.0, 1.1, 1.35, 0.9];
    const y = Array.from(
      { length: 210 },
      (_, t) => (t < 120 ? 100 : 160) * week[t % 7]! + 8 * (random() - 0.5),
    );
    const { values, replaced } = cleanOutliers(y, [7]);
    expect(replaced).toEqual([]);
    expect(values).toBe(y);
  });

  it('leaves a series without outliers unchanged (same array, nothing replaced)', () => {
    for (const seed of [1, 2, 3]) {
      const y = weeklyDaily(365, seed);
      const { values, replaced } = cleanOutliers(y, [7]);
      expect(replaced).toEqual([]);
      expect(values).toBe(y);
    }
  });

  it('leaves intermittent and short series alone', () => {
    const sparse = intermittent(300);
    expect(cleanOutliers(sparse, [7]).replaced).toEqual([]);
    const short = [5, 5, 5, 50, 5, 5, 5, 5, 5, 5];
    expect(cleanOutliers(short, [7]).values).toBe(short);
  });

  it('cleans a non-seasonal series against its running median', () => {
    const random = seededRandom(9);
    const y = Array.from({ length: 120 }, (_, t) => 50 + 0.2 * t + 4 * (random() - 0.5));
    y[60] = 200;
    const { replaced } = cleanOutliers(y, []);
    expect(replaced.map((r) => r.index)).toEqual([60]);
    expect(Math.abs(replaced[0]!.replacement - 62)).toBeLessThan(5);
  });

  it('runningMedian judges each value by its neighbours, by a line through them at the ends', () => {
    // Interior: the nearer middle neighbour (9 and 100 do not count); ends: the line through
    // the other values of the first or last window (1, 2 → 0; 2, 3 → 4).
    expect(Array.from(runningMedian([9, 1, 2, 3, 100], 3))).toEqual([0, 2, 1, 2, 4]);
  });
});

describe('outliers in the engine', () => {
  const y = weeklyDaily(200, 6);
  // A spike two days before the end: the newest training values, where the forecast starts.
  y[196] = y[196]! * 4;
  y[197] = y[197]! * 4;
  const series = [{ keys: { id: 'a' }, periods: days(200), values: y }];

  it('clean (the default) fits on the cleaned series and lists the replaced values', () => {
    const [cleaned] = forecastSeries(series, spec({ methods: ['ses'] }));
    const [kept] = forecastSeries(series, spec({ methods: ['ses'], outliers: 'keep' }));
    expect(cleaned!.outliers?.map((o) => o.period)).toEqual([days(200)[196], days(200)[197]]);
    expect(cleaned!.outliers![0]!.value).toBe(y[196]);
    expect(kept!.outliers).toBeUndefined();
    // SES's level is pulled up by the spike only when it is kept.
    const level = (r: typeof cleaned): number => r!.forecast.mean[0]!;
    expect(level(kept)).toBeGreaterThan(level(cleaned) + 20);
    expect(level(cleaned)).toBeLessThan(140);
  });

  it('backtests fit on cleaned windows but score against the raw actuals', () => {
    const withSpike = [...weeklyDaily(200, 7)];
    // A spike inside the newest backtest window's actuals (origin 186): nothing to clean in the
    // training values before it, so fits match; the raw spike is still what they are scored on.
    withSpike[190] = withSpike[190]! * 5;
    const input = [{ keys: { id: 'b' }, periods: days(200), values: withSpike }];
    const [clean] = forecastSeries(input, spec({ methods: ['naive'] }));
    const [keep] = forecastSeries(input, spec({ methods: ['naive'], outliers: 'keep' }));
    const newest = (r: typeof clean): number =>
      r!.backtest.find((b) => b.window === 2 && b.method === 'naive')!.smape!;
    expect(newest(clean)).toBeCloseTo(newest(keep), 9);
    expect(clean!.outliers?.map((o) => o.period)).toEqual([days(200)[190]]);
  });
});

describe('intermittent series are ranked by RMSSE', () => {
  const score = (method: string, owa: number, mase: number, rmsse?: number): MethodScore => ({
    method,
    windows: 3,
    smape: 100,
    mase,
    owa,
    ...(rmsse !== undefined ? { rmsse } : {}),
  });
  it('orders by RMSSE when intermittent (MASE when RMSSE is absent), by OWA otherwise', () => {
    // naive (a zero forecast) wins on OWA and MASE; croston (the demand rate) on RMSSE.
    const scores = [score('naive', 0.9, 0.7, 1.3), score('croston', 1.2, 0.8, 0.9)];
    expect(rankMethods(scores, ['naive', 'croston'], true)).toEqual({
      order: ['croston', 'naive'],
      by: 'rmsse',
    });
    expect(rankMethods(scores, ['naive', 'croston']).by).toBe('owa');
    const noRmsse = [score('naive', 0.9, 1.4), score('croston', 1.2, 0.8)];
    expect(rankMethods(noRmsse, ['naive', 'croston'], true)).toEqual({
      order: ['croston', 'naive'],
      by: 'mase',
    });
  });
});
