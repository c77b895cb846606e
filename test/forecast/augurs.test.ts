/**
 * augurs's WebAssembly is instantiated from the bytes in the installed package, synchronously:
 * with `fetch` replaced by one that fails, AutoETS, MSTL and seasonality detection still run.
 * (This file imports the forecast module only after replacing fetch, so nothing loaded it before.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { weeklyDaily } from './series.js';

const realFetch = globalThis.fetch;
const fetched: string[] = [];
globalThis.fetch = ((input: unknown) => {
  fetched.push(String(input));
  return Promise.reject(new Error('no fetching in forecast methods'));
}) as typeof fetch;

afterAll(() => {
  globalThis.fetch = realFetch;
});

describe('augurs loading', () => {
  it('runs AutoETS, MSTL and seasonality detection without fetching anything', async () => {
    // augurs's AutoETS and MSTL are references now (bench:forecast-methods, autoets.test.ts);
    // seasonality detection is the forecast module's own use of augurs.
    const augurs = await import('../../src/forecast/augurs.js');
    const forecast = await import('../../src/forecast/index.js');
    const y = weeklyDaily(140);
    const AutoETS = augurs.autoEts();
    const etsPoints = augurs.withFreed(new AutoETS(1, 'ZZN'), (m) => {
      m.fit(Float64Array.from(y));
      return m.predict(7, null).point;
    });
    expect(etsPoints).toHaveLength(7);
    const MSTL = augurs.mstl();
    const mstlPoints = augurs.withFreed(MSTL.ets([7]), (m) => {
      m.fit(Float64Array.from(y));
      return m.predict(7, null).point;
    });
    expect(mstlPoints).toHaveLength(7);
    expect(forecast.detectSeasonalities(y)).toContain(7);
    expect(fetched).toEqual([]);
  });
});
