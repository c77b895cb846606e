/**
 * Methods for intermittent demand (most periods zero), with the smoothing constants the
 * literature uses as defaults (0.1), not fitted: on short runs of sparse demand a fitted constant
 * chases noise (Syntetos & Boylan 2005).
 * - `croston` (Croston 1972): SES of the non-zero demand sizes z and, separately, of the
 *   intervals p between them (the first interval counts from the series start); forecast z/p.
 * - `sba` (Syntetos & Boylan 2005): Croston times (1 − α/2), removing Croston's positive bias.
 * - `tsb` (Teunter, Syntetos & Babai 2011): SES of the demand probability updated every period
 *   (so it decays through long runs of zeros, unlike Croston) times SES of the sizes; forecast d·z.
 * SES here starts at the first observation, as statsforecast's Croston and TSB do. The forecast
 * is flat over the horizon; none has prediction intervals of its own. A series with no demand
 * forecasts zero.
 */
import type { ForecastMethod, ForecastOptions, ForecastResult } from '../method.js';
import { prepareSeries } from '../input.js';

/** Smoothing constant of sizes and intervals (Croston, SBA) and of sizes (TSB). */
export const DEMAND_ALPHA = 0.1;
/** Smoothing constant of the demand probability (TSB). */
export const PROBABILITY_BETA = 0.1;

const CAPABILITIES = {
  intervals: false,
  seasonal: false,
  multiSeasonal: false,
  intermittent: true,
};

/**
 * Croston's estimate z/p after the whole series, times `factor`, and the one-step forecasts
 * available before each period (NaN before the first demand).
 */
export function crostonCore(
  y: Float64Array,
  alpha: number,
  factor: number,
): { forecast: number; fitted: Float64Array } {
  const fitted = new Float64Array(y.length).fill(NaN);
  let size = NaN;
  let interval = NaN;
  let sinceLast = 0;
  for (let t = 0; t < y.length; t++) {
    if (!Number.isNaN(size)) fitted[t] = (factor * size) / interval;
    sinceLast++;
    const v = y[t]!;
    if (v === 0) continue;
    if (Number.isNaN(size)) {
      size = v;
      interval = sinceLast;
    } else {
      size += alpha * (v - size);
      interval += alpha * (sinceLast - interval);
    }
    sinceLast = 0;
  }
  return { forecast: Number.isNaN(size) ? 0 : (factor * size) / interval, fitted };
}

/** TSB's estimate d·z after the whole series and the one-step forecasts before each period. */
export function tsbCore(
  y: Float64Array,
  alpha: number,
  beta: number,
): { forecast: number; fitted: Float64Array } {
  const fitted = new Float64Array(y.length).fill(NaN);
  let probability = y.length > 0 && y[0] !== 0 ? 1 : 0;
  let size = NaN;
  for (let t = 0; t < y.length; t++) {
    if (!Number.isNaN(size)) fitted[t] = probability * size;
    const v = y[t]!;
    if (t > 0) probability += beta * ((v !== 0 ? 1 : 0) - probability);
    if (v === 0) continue;
    size = Number.isNaN(size) ? v : size + alpha * (v - size);
  }
  return { forecast: Number.isNaN(size) ? 0 : probability * size, fitted };
}

function flat(value: number, h: number, fitted: Float64Array): ForecastResult {
  return { mean: new Array<number>(h).fill(value), intervals: [], fitted: Array.from(fitted) };
}

export const croston: ForecastMethod = {
  name: 'croston',
  capabilities: CAPABILITIES,
  minLength: () => 1,
  forecast(y: readonly number[], h: number, options: ForecastOptions): ForecastResult {
    const series = prepareSeries('croston', y, h, options, 1);
    const { forecast, fitted } = crostonCore(series, DEMAND_ALPHA, 1);
    return flat(forecast, h, fitted);
  },
};

export const sba: ForecastMethod = {
  name: 'sba',
  capabilities: CAPABILITIES,
  minLength: () => 1,
  forecast(y: readonly number[], h: number, options: ForecastOptions): ForecastResult {
    const series = prepareSeries('sba', y, h, options, 1);
    const { forecast, fitted } = crostonCore(series, DEMAND_ALPHA, 1 - DEMAND_ALPHA / 2);
    return flat(forecast, h, fitted);
  },
};

export const tsb: ForecastMethod = {
  name: 'tsb',
  capabilities: CAPABILITIES,
  minLength: () => 1,
  forecast(y: readonly number[], h: number, options: ForecastOptions): ForecastResult {
    const series = prepareSeries('tsb', y, h, options, 1);
    const { forecast, fitted } = tsbCore(series, DEMAND_ALPHA, PROBABILITY_BETA);
    return flat(forecast, h, fitted);
  },
};
