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
    const forecast = await import('../../src/forecast/index.js');
    const y = weeklyDaily(140);
    const ets = forecast.methodByName('ets').forecast(y, 7, { seasonPeriods: [7], levels: [80] });
    expect(ets.mean).toHaveLength(7);
    const mstl = forecast.methodByName('mstl').forecast(y, 7, { seasonPeriods: [7], levels: [] });
    expect(mstl.mean).toHaveLength(7);
    expect(forecast.detectSeasonalities(y)).toContain(7);
    expect(fetched).toEqual([]);
  });
});
