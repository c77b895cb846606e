/** Accuracy metrics against values worked out by hand (the arithmetic is in each comment). */
import { describe, expect, it } from 'vitest';
import {
  coverage,
  mase,
  msis,
  owa,
  relativeScore,
  rmsse,
  scaleProblem,
  scaleSeason,
  seasonalNaiveMae,
  smape,
} from '../../src/forecast/metrics.js';

const insample = [1, 2, 4, 3];
const actual = [2, 4];
const forecast = [1, 4];

describe('forecast metrics', () => {
  it('sMAPE: 200/h · Σ|y−ŷ|/(|y|+|ŷ|), a 0/0 term counting as perfect', () => {
    // 200/2 · (1/3 + 0/8) = 33.33…
    expect(smape(actual, forecast)).toBeCloseTo(100 / 3, 12);
    // 200/2 · (0 [0/0] + 2/2) = 100
    expect(smape([0, 0], [0, 2])).toBeCloseTo(100, 12);
  });

  it('MASE scales by the in-sample seasonal naive MAE of season m', () => {
    // m=1: diffs 1,2,1 -> 4/3; MAE (1+0)/2 = 0.5 -> 0.375
    expect(mase(actual, forecast, insample, 1)).toBeCloseTo(0.375, 12);
    // m=2: diffs |4−1|, |3−2| -> 2; 0.5/2 = 0.25
    expect(mase(actual, forecast, insample, 2)).toBeCloseTo(0.25, 12);
    // a training series no longer than m falls back to m=1
    expect(seasonalNaiveMae([1, 3], 7)).toBe(2);
  });

  it('MASE and MSIS of a constant training series are NaN with a reason, never Infinity', () => {
    expect(mase([1, 2], [1, 1], [3, 3, 3], 1)).toBeNaN();
    expect(msis([1], [0], [2], 95, [3, 3, 3], 1)).toBeNaN();
    expect(scaleProblem(seasonalNaiveMae([3, 3, 3], 1), 'MASE')).toMatch(/constant/);
    expect(scaleProblem(seasonalNaiveMae([3], 1), 'MASE')).toMatch(/too short/);
    expect(scaleProblem(4 / 3, 'MASE')).toBeNull();
  });

  it('RMSSE divides the MSE by the in-sample one-step naive MSE (M5)', () => {
    // MSE (1+0)/2 = 0.5; naive MSE (1+4+1)/3 = 2; sqrt(0.25) = 0.5
    expect(rmsse(actual, forecast, insample)).toBeCloseTo(0.5, 12);
    expect(rmsse([1], [1], [5, 5])).toBeNaN();
  });

  it('coverage counts actuals inside the band, bounds included', () => {
    expect(coverage([2, 4], [1, 5], [3, 6])).toBe(0.5);
    expect(coverage([1, 6], [1, 5], [3, 6])).toBe(1);
  });

  it('MSIS follows M4: width plus 2/alpha times the miss, over the seasonal naive MAE', () => {
    // widths 2 + 1 = 3; y=4 below L=5: 2/0.05 · 1 = 40; (3+40)/2 = 21.5; /(4/3) = 16.125
    expect(msis([2, 4], [1, 5], [3, 6], 95, insample, 1)).toBeCloseTo(16.125, 12);
    // at 80%: 2/0.2 · 1 = 10; (3+10)/2 = 6.5; /(4/3) = 4.875
    expect(msis([2, 4], [1, 5], [3, 6], 80, insample, 1)).toBeCloseTo(4.875, 12);
  });

  it('OWA is computed on the set means, leaving out series with undefined metrics', () => {
    const result = owa([
      { smape: 10, mase: 1, naive2Smape: 20, naive2Mase: 2 },
      { smape: 20, mase: 1, naive2Smape: 20, naive2Mase: 2 },
      { smape: 5, mase: NaN, naive2Smape: 9, naive2Mase: NaN },
    ]);
    // means 15, 1 vs 20, 2: (0.75 + 0.5)/2 = 0.625
    expect(result.owa).toBeCloseTo(0.625, 12);
    expect(result.used).toBe(2);
    expect(result.excluded).toBe(1);
    // Naive2 against itself is 1
    expect(owa([{ smape: 7, mase: 0.9, naive2Smape: 7, naive2Mase: 0.9 }]).owa).toBe(1);
    expect(owa([]).owa).toBeNaN();
  });

  it('per-series relative score averages the two ratios, using one when the other is undefined', () => {
    expect(relativeScore(10, 1, 20, 2)).toBeCloseTo(0.5, 12);
    expect(relativeScore(10, NaN, 20, NaN)).toBeCloseTo(0.5, 12);
    expect(relativeScore(0, 0, 0, 0)).toBe(1);
    expect(relativeScore(5, NaN, 0, NaN)).toBeNaN();
  });

  it('scale season is the shortest season, 1 without seasonality', () => {
    expect(scaleSeason([7, 365])).toBe(7);
    expect(scaleSeason([])).toBe(1);
    expect(scaleSeason([1])).toBe(1);
  });
});
