/** Choosing per series: ranking by backtest score, ties to the simpler method, fallbacks. */
import { describe, expect, it } from 'vitest';
import { combinationName, isIntermittent, rankMethods } from '../../src/forecast/auto.js';
import { forecastSeries } from '../../src/forecast/engine.js';
import type { MethodScore } from '../../src/forecast/types.js';

const score = (
  method: string,
  owa: number | null,
  windows = 3,
  mase: number | null = 1,
): MethodScore => ({
  method,
  windows,
  smape: 10,
  mase,
  owa,
});

describe('auto method choice', () => {
  it('ranks by mean relative score, lowest first', () => {
    const ranked = rankMethods(
      [score('naive', 1.4), score('ses', 0.8), score('naive2', 1)],
      ['naive', 'naive2', 'ses'],
    );
    expect(ranked).toEqual({ order: ['ses', 'naive2', 'naive'], by: 'owa' });
  });

  it('gives ties to the simpler (earlier) candidate', () => {
    const ranked = rankMethods([score('ets', 0.9), score('ses', 0.9)], ['ses', 'ets']);
    expect(ranked.order).toEqual(['ses', 'ets']);
    const reversed = rankMethods([score('ses', 0.9), score('ets', 0.9)], ['ets', 'ses']);
    expect(reversed.order).toEqual(['ets', 'ses']);
  });

  it('leaves out methods scored on fewer windows and those never scored', () => {
    const ranked = rankMethods(
      [score('mstl', 0.1, 1), score('ses', 0.9), score('ets', null, 0)],
      ['ses', 'ets', 'mstl'],
    );
    expect(ranked.order).toEqual(['ses']);
  });

  it('ranks by MASE when no Naive2 reference could be scored, and reports none when nothing was', () => {
    const ranked = rankMethods(
      [score('naive', null, 2, 2), score('ses', null, 2, 1.5)],
      ['naive', 'ses'],
    );
    expect(ranked).toEqual({ order: ['ses', 'naive'], by: 'mase' });
    expect(rankMethods([score('naive', null, 0, null)], ['naive'])).toEqual({
      order: [],
      by: 'none',
    });
  });

  it('detects intermittent demand by average inter-demand interval > 1.32', () => {
    expect(isIntermittent([0, 0, 3, 0, 0, 1, 0, 0])).toBe(true); // 8/2 = 4
    expect(isIntermittent([1, 2, 0, 4, 5, 6])).toBe(false); // 6/5 = 1.2
    expect(isIntermittent([0, 0, 0])).toBe(true);
  });

  it('a series too short for any backtest window falls down the ladder and says why', () => {
    const [result] = forecastSeries(
      [
        {
          keys: { sku: 'A' },
          periods: ['2024-01-01', '2024-01-02', '2024-01-03'],
          values: [4, 6, 5],
        },
      ],
      {
        horizon: 7,
        seasonPeriods: [7],
        levels: [80],
        methods: ['seasonal_naive'],
        backtest: { windows: 3, step: 7 },
        nonNegative: true,
      },
    );
    expect(result!.chosen.method).toBe('naive');
    expect(result!.chosen.fallbackReason).toMatch(/too short for a backtest window/);
    expect(result!.chosen.fallbackReason).toMatch(/seasonal_naive needs 7 values, series has 3/);
    expect(result!.forecast.mean).toEqual([5, 5, 5, 5, 5, 5, 5]);
  });

  it('combine_top averages the best k and scores the combination on the same windows', () => {
    const values = Array.from(
      { length: 70 },
      (_, t) => 20 + 8 * Math.sin((2 * Math.PI * t) / 7) + 0.2 * t + ((t * 7919) % 5),
    );
    const periods = values.map((_, t) => `2024-01-${String(1 + (t % 28)).padStart(2, '0')}`);
    const [result] = forecastSeries([{ keys: {}, periods, values }], {
      horizon: 7,
      seasonPeriods: [7],
      levels: [80, 95],
      methods: ['naive', 'seasonal_naive', 'naive2'],
      backtest: { windows: 3, step: 7 },
      nonNegative: false,
      combineTop: 2,
      keepAllMethods: true,
    });
    const members = result!.chosen.members!;
    expect(members).toHaveLength(2);
    expect(result!.chosen.method).toBe(combinationName(members));
    const [a, b] = members.map((m) => result!.forecasts.find((f) => f.method === m)!);
    result!.forecast.mean.forEach((v, i) =>
      expect(v).toBeCloseTo((a!.mean[i]! + b!.mean[i]!) / 2, 10),
    );
    const comboRows = result!.backtest.filter((r) => r.method === result!.chosen.method);
    expect(comboRows).toHaveLength(3);
    expect(result!.chosen.owa).not.toBeNull();
  });
});
