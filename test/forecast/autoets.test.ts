/**
 * Our AutoETS and STL/MSTL against published values: R's ets(AirPassengers, "ZZN") (the values
 * augurs's own test asserts: ETS(M,A,N), log-likelihood −831.488, AIC 1672.977), stlrs's STL
 * test series (ankane/stl-rust, which ports the netlib Fortran R runs), augurs's AutoETS and MSTL
 * on the same input, and the variance formulas of Hyndman et al. (2008) worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { autoEts as augursAutoEts, mstl as augursMstl } from '../../src/forecast/augurs.js';
import {
  autoEts,
  autoEtsRemembered,
  etsForecast,
  etsForecastVariances,
  etsModelName,
  fitEtsCandidates,
  refitEts,
  type EtsFit,
} from '../../src/forecast/autoets.js';
import { methodByName } from '../../src/forecast/index.js';
import { mstlDecompose, stl } from '../../src/forecast/stl.js';
import { R_DATASETS } from '../../bench/data/r-datasets.js';
import { weeklyDaily } from './series.js';

const air = Float64Array.from(R_DATASETS.find((d) => d.name === 'AirPassengers')!.values);

describe('AutoETS', () => {
  it('selects ETS(M,A,N) for AirPassengers with R’s log-likelihood and AIC', () => {
    const fit = autoEts(air);
    expect(etsModelName(fit)).toBe('MAN');
    expect(-0.5 * fit.lik).toBeCloseTo(-831.4884, 2);
    expect(fit.lik + 2 * (fit.parameterCount + 1)).toBeCloseTo(1672.9767, 2);
    // The same model as augurs's AutoETS, so the same forecasts, up to where two optimizers stop
    // on a flat likelihood (the final slope differs by about 0.1% over 12 months).
    const AutoETS = augursAutoEts();
    const model = new AutoETS(1, 'ZZN');
    try {
      model.fit(air);
      const theirs = model.predict(12, null).point;
      const ours = etsForecast(fit, 12);
      theirs.forEach((v, k) => expect(Math.abs(ours[k]! - v) / v).toBeLessThan(5e-3));
    } finally {
      model.free();
    }
  });

  it('fits multiplicative errors only to positive series', () => {
    const withZero = air.slice();
    withZero[10] = 0;
    const errors = new Set(fitEtsCandidates(withZero).map((f) => f.error));
    expect([...errors]).toEqual(['additive']);
    expect(fitEtsCandidates(air).map(etsModelName)).toEqual([
      'ANN',
      'AAN',
      'AAdN',
      'MNN',
      'MAN',
      'MAdN',
    ]);
  });

  it('gives the class 1 and class 2 forecast variances of Hyndman et al. (2008)', () => {
    const base: Omit<EtsFit, 'error'> = {
      trend: 'none',
      alpha: 0.5,
      beta: 0,
      phi: 1,
      initialLevel: 10,
      initialSlope: 0,
      level: 10,
      slope: 0,
      n: 20,
      parameterCount: 2,
      lik: 0,
      aicc: 0,
      sigma2: 0.04,
      fitted: new Float64Array(20),
    };
    const mean = Float64Array.from([10, 10, 10]);
    const additive = etsForecastVariances({ ...base, error: 'additive' }, mean);
    expect(Array.from(additive)).toEqual(
      [0.04, 0.04 * 1.25, 0.04 * 1.5].map((v) => expect.closeTo(v, 12)),
    );
    // θ1 = μ², θ2 = μ² + σ²·α²·θ1, v = (1 + σ²)·θ − μ².
    const multiplicative = etsForecastVariances({ ...base, error: 'multiplicative' }, mean);
    const theta2 = 100 + 0.04 * 0.25 * 100;
    expect(multiplicative[0]).toBeCloseTo(1.04 * 100 - 100, 10);
    expect(multiplicative[1]).toBeCloseTo(1.04 * theta2 - 100, 10);
  });

  it('remembers the form chosen on the oldest window and only re-estimates it later', () => {
    const y = Float64Array.from(weeklyDaily(400, 5));
    const memory = new Map<string, unknown>();
    const first = autoEtsRemembered(y.subarray(0, 300), y.subarray(0, 300), memory, 'ets');
    expect(first).toEqual(autoEts(y.subarray(0, 300)));
    const later = autoEtsRemembered(y, y, memory, 'ets');
    expect(etsModelName(later)).toBe(etsModelName(first));
    expect(later).toEqual(refitEts(y, first));
    // A different series is not an extension of the remembered one: a full search, remembered.
    const other = Float64Array.from(weeklyDaily(300, 6));
    expect(autoEtsRemembered(other, other, memory, 'ets')).toEqual(autoEts(other));
  });
});

describe('STL and MSTL', () => {
  const series = [
    5, 9, 2, 9, 0, 6, 3, 8, 5, 8, 7, 8, 8, 0, 2, 5, 0, 5, 6, 7, 3, 6, 1, 4, 4, 4, 3, 7, 5, 8,
  ];

  it('decomposes stlrs’s test series as the netlib STL does', () => {
    const fit = stl(series, 7);
    const close = (actual: Float64Array, expected: number[]) =>
      expected.forEach((v, i) => expect(Math.abs(actual[i]! - v)).toBeLessThan(1e-5));
    close(fit.seasonal, [0.36926576, 0.75655484, -1.3324139, 1.9553658, -0.6044802]);
    close(fit.trend, [4.804099, 4.9097075, 5.015316, 5.16045, 5.305584]);
    close(fit.remainder, [-0.17336464, 3.3337379, -1.6829021, 1.8841844, -4.7011037]);
  });

  it('MSTL components add back up to the series and match augurs’s MSTL forecast', () => {
    const y = weeklyDaily(730, 9).map((v, t) => v * (1 + 0.1 * Math.sin((2 * Math.PI * t) / 365)));
    const d = mstlDecompose(y, [365, 7]);
    expect(d.periods).toEqual([7, 365]);
    y.forEach((v, t) => {
      const sum = d.trend[t]! + d.remainder[t]! + d.seasonals[0]![t]! + d.seasonals[1]![t]!;
      expect(sum).toBeCloseTo(v, 9);
    });
    const ours = methodByName('mstl').forecast(y, 28, { seasonPeriods: [7, 365], levels: [] });
    const MSTL = augursMstl();
    const model = MSTL.ets([7, 365]);
    try {
      model.fit(Float64Array.from(y));
      const theirs = model.predict(28, null).point;
      theirs.forEach((v, k) => expect(Math.abs(ours.mean[k]! - v) / v).toBeLessThan(0.01));
    } finally {
      model.free();
    }
  });
});
