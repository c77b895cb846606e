export type {
  ForecastMethod,
  ForecastOptions,
  ForecastResult,
  IntervalBand,
  MethodCapabilities,
} from './method.js';
