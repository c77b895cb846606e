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
export { defaultSeasonPeriods } from './periods.js';
