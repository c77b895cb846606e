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
