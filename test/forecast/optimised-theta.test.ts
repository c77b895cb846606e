/**
 * OTM and DOTM (Fiorucci et al. 2016, src/forecast/methods/optimised-theta.ts): the state space
 * recursion is checked against the theta-line definition it was derived from, the exact least
 * squares against a brute-force search, and the bands against their closed form.
 */
import { describe, expect, it } from 'vitest';
import { methodByName, zForLevel, type ForecastOptions } from '../../src/forecast/index.js';
import {
  OTM_ALPHA_MAX,
  OTM_ALPHA_MIN,
  fitForAlpha,
  fitOptimisedTheta,
  optimisedThetaPath,
  thetaLines,
} from '../../src/forecast/methods/optimised-theta.js';
import { linearTrend, seededRandom } from './series.js';

const NONE: ForecastOptions = { seasonPeriods: [], levels: [80, 95] };

/** A trending series with noise and a level shift, all positive. */
function noisyTrend(n: number, seed: number): number[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, (_, t) => 50 + 0.8 * t + (t > n / 2 ? 10 : 0) + 6 * rand());
}

/** Plain SES of x with smoothing α and initial level s1 (the forecast of x_1): one-step forecasts. */
function sesForecasts(x: number[], alpha: number, s1: number): number[] {
  const out: number[] = [];
  let s = s1;
  for (const v of x) {
    out.push(s);
    s = alpha * v + (1 - alpha) * s;
  }
  out.push(s);
  return out;
}

/** Least-squares line of y_1..y_n as [intercept, slope]. */
function line(y: number[]): [number, number] {
  const n = y.length;
  const tm = (n + 1) / 2;
  const ym = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  y.forEach((v, i) => {
    sxy += (i + 1 - tm) * (v - ym);
    sxx += (i + 1 - tm) ** 2;
  });
  return [ym - (sxy / sxx) * tm, sxy / sxx];
}

describe('otm (static line)', () => {
  it('is the theta-line combination: (1−1/θ)·line + (1/θ)·SES of θ·Y + (1−θ)·line', () => {
    const y = noisyTrend(48, 3);
    const fit = fitOptimisedTheta(Float64Array.from(y), false);
    expect(fit.theta).toBeGreaterThan(1);
    expect(Number.isFinite(fit.theta)).toBe(true);
    const h = 5;
    const path = optimisedThetaPath(Float64Array.from(y), h, fit, false);
    const [a, b] = line(y);
    const th = fit.theta;
    const z = y.map((v, i) => th * v + (1 - th) * (a + b * (i + 1)));
    // ℓ_0 is the SES level of Y before Y_1; the Z line's then starts at θ·ℓ_0 (the line's own
    // SES starting at 0 carries the rest, see the derivation in the method's comment).
    const zs = sesForecasts(z, fit.alpha, th * fit.level0);
    for (let t = 1; t <= y.length; t++) {
      const direct = (1 - 1 / th) * (a + b * t) + zs[t - 1]! / th;
      expect(path.fitted[t - 1]!).toBeCloseTo(direct, 8);
    }
    for (let k = 1; k <= h; k++) {
      const direct = (1 - 1 / th) * (a + b * (y.length + k)) + zs[y.length]! / th;
      expect(path.mean[k - 1]!).toBeCloseTo(direct, 8);
    }
  });

  it('continues an exact linear trend at its full slope (θ → ∞), where theta halves it', () => {
    const y = linearTrend(40, 10, 2);
    const result = methodByName('otm').forecast(y, 3, NONE);
    for (let k = 0; k < 3; k++) expect(result.mean[k]!).toBeCloseTo(10 + 2 * (40 + k), 6);
    const standard = methodByName('theta').forecast(y, 3, NONE);
    expect(standard.mean[2]!).toBeLessThan(result.mean[2]! - 1);
  });

  it('is SES (θ = 1) on a flat noisy series whose line has no slope to add', () => {
    const rand = seededRandom(11);
    const y = Array.from({ length: 60 }, () => 100 + 5 * rand());
    const fit = fitOptimisedTheta(Float64Array.from(y), false);
    const result = methodByName('otm').forecast(y, 4, NONE);
    // Whatever θ is chosen, the forecast is flat up to the line's (tiny) slope times ω.
    expect(Math.abs(result.mean[3]! - result.mean[0]!)).toBeLessThan(
      3 * Math.abs(line(y)[1]) + 1e-9,
    );
    expect(fit.omega).toBeGreaterThanOrEqual(0);
    expect(fit.omega).toBeLessThanOrEqual(1);
  });
});

describe('least squares over (ℓ0, α, θ)', () => {
  it.each([
    ['otm', false],
    ['dotm', true],
  ] as const)(
    '%s: no α on a fine grid, nor any nearby (ℓ0, ω), gives a smaller SSE',
    (_name, dynamic) => {
      const y = Float64Array.from(noisyTrend(40, 7));
      const fit = fitOptimisedTheta(y, dynamic);
      const first = dynamic ? 2 : 1;
      const sseAt = (alpha: number, level0: number, omega: number): number => {
        const path = optimisedThetaPath(y, 1, { alpha, omega, theta: 0, level0, sse: 0 }, dynamic);
        let sse = 0;
        for (let t = first; t <= y.length; t++) sse += path.residuals[t - 1]! ** 2;
        return sse;
      };
      // The closed-form SSE matches the recursion's.
      expect(sseAt(fit.alpha, fit.level0, fit.omega)).toBeCloseTo(fit.sse, 6);
      const lines = thetaLines(y, dynamic);
      for (let alpha = OTM_ALPHA_MIN; alpha <= OTM_ALPHA_MAX; alpha += 0.0025) {
        const best = fitForAlpha(y, lines, alpha, first);
        expect(sseAt(alpha, best.level0, best.omega)).toBeCloseTo(best.sse, 6);
        expect(best.sse).toBeGreaterThanOrEqual(fit.sse * (1 - 1e-9));
      }
      for (const dl of [-0.5, 0.5]) {
        for (const dw of [-0.01, 0, 0.01]) {
          const omega = Math.min(1, Math.max(0, fit.omega + dw));
          expect(sseAt(fit.alpha, fit.level0 + dl, omega)).toBeGreaterThan(fit.sse);
        }
      }
    },
  );

  it('keeps ω in [0, 1] (θ >= 1) when the unconstrained optimum lies outside', () => {
    // A series that falls then jumps back: the least-squares ω for SES-with-drift can be negative.
    const y = Float64Array.from([10, 9, 8, 7, 6, 5, 4, 3, 2, 12, 11, 10, 9, 8, 7, 6, 5, 4]);
    for (let alpha = 0.1; alpha <= 0.99; alpha += 0.1) {
      const fit = fitForAlpha(
        y,
        { a: new Float64Array(19).fill(8), b: new Float64Array(19).fill(-0.1) },
        alpha,
        1,
      );
      expect(fit.omega).toBeGreaterThanOrEqual(0);
      expect(fit.omega).toBeLessThanOrEqual(1);
      expect(fit.sse).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('dotm (line refitted each period)', () => {
  it('follows a trend that changes slope better than the static line of all the values', () => {
    const y = [
      ...Array.from({ length: 30 }, (_, t) => 100 + 0.2 * t),
      ...Array.from({ length: 20 }, (_, t) => 106 + 3 * (t + 1)),
    ];
    const truth = 106 + 3 * 23;
    const dynamic = methodByName('dotm').forecast(y, 3, NONE).mean[2]!;
    const standard = methodByName('theta').forecast(y, 3, NONE).mean[2]!;
    expect(Math.abs(dynamic - truth)).toBeLessThan(Math.abs(standard - truth));
  });

  it('forecasts an exact linear trend almost on the line', () => {
    const y = linearTrend(50, 5, 1.5);
    const result = methodByName('dotm').forecast(y, 4, NONE);
    for (let k = 0; k < 4; k++)
      expect(Math.abs(result.mean[k]! - (5 + 1.5 * (50 + k)))).toBeLessThan(0.05);
  });
});

describe('bands', () => {
  it.each(['otm', 'dotm'])(
    '%s: mean ± z·σ·sqrt(1 + (k−1)·α²), σ from the one-step errors',
    (name) => {
      const y = noisyTrend(45, 5);
      const result = methodByName(name).forecast(y, 6, NONE);
      const fit = fitOptimisedTheta(Float64Array.from(y), name === 'dotm');
      const path = optimisedThetaPath(Float64Array.from(y), 6, fit, name === 'dotm');
      const errors = Array.from(path.residuals).filter((r) => Number.isFinite(r));
      const sigma = Math.sqrt(errors.reduce((s, r) => s + r * r, 0) / (errors.length - 3));
      for (const [i, level] of [80, 95].entries()) {
        const band = result.intervals[i]!;
        expect(band.level).toBe(level);
        for (let k = 1; k <= 6; k++) {
          const se = sigma * Math.sqrt(1 + (k - 1) * fit.alpha ** 2);
          expect(band.upper[k - 1]! - result.mean[k - 1]!).toBeCloseTo(zForLevel(level) * se, 8);
          expect(result.mean[k - 1]! - band.lower[k - 1]!).toBeCloseTo(zForLevel(level) * se, 8);
        }
      }
    },
  );

  it('reseasonalises a monthly series with a multiplicative season', () => {
    const y = Array.from(
      { length: 96 },
      (_, t) => (200 + 2 * t) * (1 + 0.3 * Math.sin((2 * Math.PI * t) / 12)),
    );
    const h = 12;
    const result = methodByName('otm').forecast(y, h, { seasonPeriods: [12], levels: [] });
    for (let k = 0; k < h; k++) {
      const t = 96 + k;
      const truth = (200 + 2 * t) * (1 + 0.3 * Math.sin((2 * Math.PI * t) / 12));
      expect(Math.abs(result.mean[k]! - truth) / truth).toBeLessThan(0.03);
    }
  });
});
