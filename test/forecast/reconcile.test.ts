/** Hierarchical reconciliation: bottom-up forecasts are coherent (parents equal sums of children). */
import { describe, expect, it } from 'vitest';
import { forecastSeries } from '../../src/forecast/engine.js';
import { mintBottom, shrinkCovariance, solve } from '../../src/forecast/mint.js';
import { bottomUp, hierarchyChildren, reconcileForecasts } from '../../src/forecast/reconcile.js';
import type { ForecastSpec, SeriesForecast, SeriesInput } from '../../src/forecast/types.js';

const n = 84;
const periods = Array.from({ length: n }, (_, t) =>
  new Date(Date.UTC(2024, 0, 1 + t)).toISOString().slice(0, 10),
);

/** Products under two categories, with category and total series as the sums of their parts. */
function hierarchy(): SeriesInput[] {
  const product = (seed: number): number[] =>
    Array.from({ length: n }, (_, t) =>
      Math.max(
        0,
        Math.round(
          5 + seed + 3 * Math.sin((2 * Math.PI * t) / 7 + seed) + ((t * seed * 31) % 4) - 1,
        ),
      ),
    );
  const products = [
    { keys: { category: 'shoes', product: 'boot' }, values: product(1) },
    { keys: { category: 'shoes', product: 'sandal' }, values: product(2) },
    { keys: { category: 'hats', product: 'cap' }, values: product(3) },
  ];
  const sum = (xs: number[][]): number[] => xs[0]!.map((_, t) => xs.reduce((s, x) => s + x[t]!, 0));
  const shoes = sum([products[0]!.values, products[1]!.values]);
  const hats = products[2]!.values;
  return [
    { keys: {}, periods, values: sum([shoes, hats]) },
    { keys: { category: 'shoes' }, periods, values: shoes },
    { keys: { category: 'hats' }, periods, values: hats },
    ...products.map((p) => ({ ...p, periods })),
  ];
}

describe('hierarchical reconciliation', () => {
  it('finds each series’ children from its keys', () => {
    const children = hierarchyChildren(
      hierarchy().map((s) => s.keys),
      ['total', 'category', 'product'],
    );
    expect(children).toEqual([[1, 2], [3, 4], [5], [], [], []]);
  });

  it('bottom-up sums children recursively', () => {
    const means = [[100], [10], [20], [1], [2], [3]];
    expect(bottomUp(means, [[1, 2], [3, 4], [5], [], [], []])).toEqual([
      [6],
      [3],
      [3],
      [1],
      [2],
      [3],
    ]);
  });

  it('reconciled forecasts are coherent: products sum to categories, categories to the total', () => {
    const results = forecastSeries(hierarchy(), {
      horizon: 14,
      seasonPeriods: [7],
      levels: [80, 95],
      methods: 'auto',
      backtest: { windows: 2, step: 14 },
      nonNegative: true,
      hierarchy: ['total', 'category', 'product'],
    });
    const mean = (i: number): number[] => results[i]!.forecast.mean;
    for (let t = 0; t < 14; t++) {
      expect(mean(1)[t]).toBeCloseTo(mean(3)[t]! + mean(4)[t]!, 9);
      expect(mean(2)[t]).toBeCloseTo(mean(5)[t]!, 9);
      expect(mean(0)[t]).toBeCloseTo(mean(1)[t]! + mean(2)[t]!, 9);
    }
    expect(results[0]!.reconciled).toBe('bottom_up');
    expect(results[3]!.reconciled).toBeUndefined();
    for (const r of results) {
      for (const band of r.forecast.intervals) {
        band.lower.forEach((lo, t) => {
          expect(lo).toBeGreaterThanOrEqual(0);
          expect(lo).toBeLessThanOrEqual(r.forecast.mean[t]!);
          expect(band.upper[t]).toBeGreaterThanOrEqual(r.forecast.mean[t]!);
        });
      }
    }
  });

  it('rejects a series with a lower level key but not the level above', () => {
    expect(() =>
      hierarchyChildren([{}, { product: 'cap' }], ['total', 'category', 'product']),
    ).toThrow(/has key 'product' but not the level above it/);
  });
});

describe('MinT (shrink) reconciliation', () => {
  it('solves a linear system (hand example) and keeps the diagonal of the shrunk covariance', () => {
    // 2x + y = 5, x + 3y = 10 -> x = 1, y = 3
    const x = solve(
      [Float64Array.of(2, 1), Float64Array.of(1, 3)],
      [Float64Array.of(5), Float64Array.of(10)],
    );
    expect(x[0]![0]).toBeCloseTo(1, 12);
    expect(x[1]![0]).toBeCloseTo(3, 12);
    const e = [
      Float64Array.of(1, 2),
      Float64Array.of(-1, -1),
      Float64Array.of(2, 1),
      Float64Array.of(0, -2),
    ];
    const { w, lambda } = shrinkCovariance(e);
    expect(lambda).toBeGreaterThanOrEqual(0);
    expect(lambda).toBeLessThanOrEqual(1);
    expect(w[0]![0]).toBeCloseTo((1 + 1 + 4 + 0) / 4, 12);
    expect(w[0]![1]).toBeCloseTo((1 - lambda) * ((2 + 1 + 2 + 0) / 4), 12);
  });

  it('leaves already coherent forecasts unchanged (MinT is a projection onto coherent forecasts)', () => {
    // total = a + b; base forecasts coherent
    const base = [
      [10, 12],
      [4, 5],
      [6, 7],
    ];
    const residuals = [
      Float64Array.of(1, 0.5, 0.4),
      Float64Array.of(-0.6, -0.1, -0.5),
      Float64Array.of(0.3, 0.4, -0.2),
      Float64Array.of(-0.2, -0.3, 0.1),
    ];
    const bottom = mintBottom(base, [1, 2], [[0, 1], [0], [1]], residuals);
    expect(bottom[0]![0]).toBeCloseTo(4, 9);
    expect(bottom[1]![1]).toBeCloseTo(7, 9);
  });

  it('reconciled forecasts are coherent at every level and say they were MinT-reconciled', () => {
    const results = forecastSeries(hierarchy(), {
      horizon: 14,
      seasonPeriods: [7],
      levels: [80, 95],
      methods: ['naive', 'seasonal_naive', 'ses'],
      backtest: { windows: 2, step: 14 },
      nonNegative: true,
      hierarchy: ['total', 'category', 'product'],
      reconcile: 'mint_shrink',
    });
    const mean = (i: number): number[] => results[i]!.forecast.mean;
    for (let t = 0; t < 14; t++) {
      expect(mean(1)[t]).toBeCloseTo(mean(3)[t]! + mean(4)[t]!, 9);
      expect(mean(2)[t]).toBeCloseTo(mean(5)[t]!, 9);
      expect(mean(0)[t]).toBeCloseTo(mean(1)[t]! + mean(2)[t]!, 9);
      for (const i of [3, 4, 5]) expect(mean(i)[t]).toBeGreaterThanOrEqual(0);
    }
    for (const r of results) {
      expect(r.reconciled).toBe('mint_shrink');
      expect(r.residuals).toBeUndefined();
    }
  });

  /** total = a + b, one-period forecasts, with the given in-sample residuals per series. */
  function tiny(base: [number, number, number], residuals: number[][]): SeriesForecast[] {
    const keys: Record<string, string>[] = [{}, { category: 'a' }, { category: 'b' }];
    return keys.map((k, i) => {
      const forecast = { method: 'naive', mean: [base[i]!], intervals: [] };
      return {
        keys: k,
        chosen: { method: 'naive', owa: null, smape: null, mase: null, fallbackReason: null },
        forecast,
        forecasts: [forecast],
        backtest: [],
        scores: [],
        residuals: residuals.map((row) => row[i]!),
      };
    });
  }
  const spec: ForecastSpec = {
    horizon: 1,
    seasonPeriods: [],
    levels: [],
    methods: ['naive'],
    backtest: { windows: 0, step: 1 },
    nonNegative: true,
    hierarchy: ['total', 'category'],
    reconcile: 'mint_shrink',
  };

  it('MinT with uncorrelated equal-variance errors is OLS reconciliation (known answer)', () => {
    // Orthogonal residual columns of equal norm: W = I/3 exactly, shrinkage or not, so
    // b = (SᵀS)⁻¹Sᵀŷ with S = [[1,1],[1,0],[0,1]], ŷ = (10, 3, 5): a = 11/3, b = 17/3.
    const e = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [-1, 0, 0],
      [0, -1, 0],
      [0, 0, -1],
    ];
    const out = reconcileForecasts(tiny([10, 3, 5], e), spec);
    expect(out[1]!.forecast.mean[0]).toBeCloseTo(11 / 3, 12);
    expect(out[2]!.forecast.mean[0]).toBeCloseTo(17 / 3, 12);
    expect(out[0]!.forecast.mean[0]).toBeCloseTo(28 / 3, 12);
    for (const r of out) expect(r.reconciliation).toEqual({ method: 'mint_shrink' });
  });

  it('falls back to bottom-up when the covariance is singular, and says so on every series', () => {
    // Series b's residuals are all zero: W has a zero row and column.
    const e = [
      [1, 1, 0],
      [-1, -1, 0],
      [2, 2, 0],
      [0.5, 0.5, 0],
    ];
    const out = reconcileForecasts(tiny([10, 3, 5], e), spec);
    expect(out.map((r) => r.forecast.mean[0])).toEqual([8, 3, 5]);
    for (const r of out) {
      expect(r.reconciliation!.method).toBe('bottom_up');
      expect(r.reconciliation!.note).toMatch(/mint_shrink asked, bottom_up used: .*singular/);
    }
  });

  it('falls back to bottom-up when too few periods have residuals for every series', () => {
    const e = [
      [1, 0.5, 0.5],
      [NaN, 1, -1],
      [-1, -0.5, -0.4],
    ];
    const out = reconcileForecasts(tiny([10, 3, 5], e), spec);
    expect(out[0]!.forecast.mean[0]).toBe(8);
    expect(out[0]!.reconciliation!.note).toMatch(/2 period\(s\) where every series has .*needs 3/);
    const plain = reconcileForecasts(tiny([10, 3, 5], e), { ...spec, reconcile: 'bottom_up' });
    expect(plain[0]!.reconciliation).toEqual({ method: 'bottom_up' });
  });
});
