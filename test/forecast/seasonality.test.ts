/** M4's seasonality test and classical decomposition (src/forecast/seasonality.ts). */
import { describe, expect, it } from 'vitest';
import {
  autocorrelations,
  isSeasonal,
  reseasonalise,
  seasonalIndices,
  seasonallyAdjust,
} from '../../src/forecast/index.js';
import { seededRandom, weeklyDaily } from './series.js';

describe('seasonality', () => {
  it('computes autocorrelations as R acf does (acf(1:4) = 1, 0.25, -0.3, -0.45)', () => {
    const r = autocorrelations([1, 2, 3, 4], 3);
    expect(r[0]).toBeCloseTo(0.25, 12);
    expect(r[1]).toBeCloseTo(-0.3, 12);
    expect(r[2]).toBeCloseTo(-0.45, 12);
    expect([...autocorrelations([5, 5, 5, 5], 2)]).toEqual([0, 0]);
  });

  it('finds a weekly cycle, not in white noise, and never with fewer than three seasons', () => {
    expect(isSeasonal(weeklyDaily(140), 7)).toBe(true);
    const random = seededRandom(9);
    const noise = Array.from({ length: 300 }, () => random());
    expect(isSeasonal(noise, 7)).toBe(false);
    expect(isSeasonal(weeklyDaily(20), 7)).toBe(false);
    expect(isSeasonal(weeklyDaily(140), 1)).toBe(false);
  });

  it('applies the Bartlett limit: a lag-m correlation just inside it is not seasonal', () => {
    // Period 4 pattern of tiny amplitude on a large noise: |r_4| stays below 1.645/sqrt(n)·…
    const random = seededRandom(11);
    const y = Array.from({ length: 400 }, (_, t) => (t % 4 === 0 ? 0.02 : 0) + random());
    const r = autocorrelations(y, 4);
    let sum = 0;
    for (let k = 0; k < 3; k++) sum += r[k]! ** 2;
    const limit = (1.645 / Math.sqrt(400)) * Math.sqrt(1 + 2 * sum);
    expect(isSeasonal(y, 4)).toBe(Math.abs(r[3]!) > limit);
  });

  it('recovers exact multiplicative indices of a pure periodic series', () => {
    const pattern = [0.8, 1.2, 0.9, 1.1];
    const y = Array.from({ length: 40 }, (_, t) => 100 * pattern[t % 4]!);
    const indices = seasonalIndices(y, 4, 'multiplicative');
    for (let j = 0; j < 4; j++) expect(indices[j]).toBeCloseTo(pattern[j]!, 12);
    const odd = [0.7, 1.0, 1.3];
    const z = Array.from({ length: 30 }, (_, t) => 50 + 10 * (odd[t % 3]! - 1));
    const additive = seasonalIndices(z, 3, 'additive');
    for (let j = 0; j < 3; j++) expect(additive[j]).toBeCloseTo(10 * (odd[j]! - 1), 12);
  });

  it('adjusts multiplicatively when positive, additively with zeros, and reseasonalises back', () => {
    const y = weeklyDaily(210);
    const adjustment = seasonallyAdjust(y, [7]);
    expect(adjustment.components.map((c) => [c.period, c.kind])).toEqual([[7, 'multiplicative']]);
    const back = reseasonalise(Array.from(adjustment.adjusted), 0, adjustment.components);
    for (let t = 0; t < y.length; t++) expect(back[t]).toBeCloseTo(y[t]!, 9);

    const withZeros = y.map((v, t) => (t % 7 === 2 ? 0 : v));
    expect(seasonallyAdjust(withZeros, [7]).components[0]!.kind).toBe('additive');
    const random = seededRandom(5);
    const noise = Array.from({ length: 100 }, () => 10 + random());
    const unchanged = seasonallyAdjust(noise, [7]);
    expect(unchanged.components).toEqual([]);
    expect(Array.from(unchanged.adjusted)).toEqual(noise);
  });

  it('remembers the last adjustment only for equal values, and hands out copies', () => {
    const y = weeklyDaily(140, 15);
    const first = adjustTwice(y);
    const changed = [...y];
    changed[70] = changed[70]! + 50;
    const other = seasonallyAdjust(changed, [7]);
    expect(other.adjusted[70]).not.toBeCloseTo(first[70]!, 3);
  });
});

/** Adjusts y, spoils the returned copy, adjusts again: the second result must be unharmed. */
function adjustTwice(y: number[]): Float64Array {
  const once = seasonallyAdjust(y, [7]);
  const expected = once.adjusted.slice();
  once.adjusted.fill(-1);
  const twice = seasonallyAdjust(y, [7]);
  expect(Array.from(twice.adjusted)).toEqual(Array.from(expected));
  return twice.adjusted;
}
