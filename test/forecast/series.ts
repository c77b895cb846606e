/** Deterministic test series for the forecast method tests (a seeded PRNG, no Math.random). */
import { seededRandom } from '../../src/core/index.js';

export { seededRandom };

/** Daily demand with a weekly cycle (weekends high), a slow trend and noise; all positive. */
export function weeklyDaily(n: number, seed = 1): number[] {
  const random = seededRandom(seed);
  const week = [0.8, 0.9, 0.95, 1.0, 1.1, 1.35, 0.9];
  return Array.from({ length: n }, (_, t) => (100 + 0.1 * t) * week[t % 7]! + 8 * (random() - 0.5));
}

/** Mostly zeros: a sale on about one day in five, sizes 1 to 6. */
export function intermittent(n: number, seed = 2): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => (random() < 0.2 ? 1 + Math.floor(random() * 6) : 0));
}

export function linearTrend(n: number, intercept = 5, slope = 2): number[] {
  return Array.from({ length: n }, (_, t) => intercept + slope * t);
}

export function constant(n: number, value = 10): number[] {
  return new Array<number>(n).fill(value);
}
