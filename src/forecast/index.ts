export type {
  ForecastMethod,
  ForecastOptions,
  ForecastResult,
  IntervalBand,
  MethodCapabilities,
} from './method.js';
export type {
  BacktestRow,
  BacktestSpec,
  ChosenMethod,
  ForecastFrequency,
  ForecastProgress,
  ForecastSpec,
  MethodForecast,
  MethodScore,
  SeriesForecast,
  SeriesInput,
} from './types.js';
export { forecastSeries } from './engine.js';
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
