/** Engines: the SQL seam. DuckDB is embedded (the default); PostgreSQL is the scale-out adapter. */
export * from './types.js';
export * from './sql.js';
export { datePart, logicalTypeOf } from './crossdb.js';
export * from './duckdb/index.js';
export * from './postgres/index.js';
