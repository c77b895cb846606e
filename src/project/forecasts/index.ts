/**
 * Forecasts, the project side: `forecasts/*.yml` read and validated (source, target, keys or
 * hierarchy, frequency, horizon, methods, backtest). Running them lives in forecast/run.ts.
 */
export {
  forecastJsonSchema,
  parseRef,
  SQL_REF,
  FREQUENCIES,
  TOTAL_LEVEL,
  type Frequency,
  type ForecastDef,
} from './schema.js';
export {
  FORECASTS_DIR,
  loadForecasts,
  parseForecast,
  findForecast,
  forecastTables,
  type Forecast,
  type ForecastSource,
} from './load.js';
