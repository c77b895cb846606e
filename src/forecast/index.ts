export type {
  ForecastMethod,
  ForecastOptions,
  ForecastResult,
  IntervalBand,
  MethodCapabilities,
} from './method.js';
export {
  METHODS,
  METHOD_NAMES,
  methodByName,
  fallbackFor,
  resolveForLength,
  type ResolvedMethod,
} from './methods/index.js';
export {
  autocorrelations,
  isSeasonal,
  seasonalIndices,
  seasonallyAdjust,
  reseasonalise,
  reseasonaliseResult,
  type SeasonalAdjustment,
  type SeasonalComponent,
} from './seasonality.js';
export { normalQuantile, zForLevel, normalBands } from './intervals.js';
export { detectSeasonalities } from './augurs.js';
