/** DuckDB adapter: the embedded default engine. */
export { openDuckDB, duckdbDialect, type DuckDBEngineOptions } from './engine.js';
