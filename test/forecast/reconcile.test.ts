/** Hierarchical reconciliation: bottom-up forecasts are coherent (parents equal sums of children). */
import { describe, expect, it } from 'vitest';
import { forecastSeries } from '../../src/forecast/engine.js';
import { bottomUp, hierarchyChildren } from '../../src/forecast/reconcile.js';
import type { SeriesInput } from '../../src/forecast/types.js';

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
