/** Engines: the SQL seam. DuckDB is embedded; other adapters implement the same interface. */
export * from './types.js';
export * from './sql.js';
export * from './duckdb/index.js';
