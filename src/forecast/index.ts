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
export { autoCandidates, forecastOne, forecastSeries } from './engine.js';
export {
  coverage,
  mase,
  msis,
  owa,
  relativeScore,
  rmsse,
  scaleSeason,
  seasonalNaiveMae,
  smape,
  type OwaItem,
  type OwaResult,
} from './metrics.js';
export {
  backtestOrigins,
  backtestSeries,
  REFERENCE_METHOD,
  summarize,
  type BacktestConfig,
  type SeriesBacktest,
} from './backtest.js';
export { combinationName, isIntermittent, rankMethods, type Ranked } from './auto.js';
export { bottomUp, hierarchyChildren, hierarchyKeys, reconcileForecasts } from './reconcile.js';
export { futurePeriods, defaultSeasonPeriods } from './periods.js';
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
export {
  runForecast,
  forecastSpec,
  seriesId,
  type ForecastRunInput,
  type ForecastRunResult,
} from './run.js';
export {
  accuracyByMethod,
  readAccuracy,
  type AccuracySummary,
  type BacktestScore,
  type MethodAccuracy,
} from './accuracy.js';
export { detectSeasonalities } from './augurs.js';
export { forecastSeriesParallel, parallelAvailable, type ParallelOptions } from './parallel.js';
