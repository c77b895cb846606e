/** Engines: the SQL seam. DuckDB is embedded (the default); PostgreSQL is the scale-out adapter. */
export {
  engineErrorKind,
  EngineError,
  type Row,
  type ColumnInfo,
  type QueryResult,
  type LogicalType,
  type Dialect,
  type Engine,
  type Notice,
} from './types.js';
export { quoteIdentifier } from './sql.js';
export {
  openDuckDB,
  openInMemoryDuckDBLazily,
  DuckDBSandbox,
  relationsInSerializedSql,
  relationsRead,
  redirectTables,
  redirectQualifiedTables,
  serializeSql,
  writeMaskedCopy,
  MASK_TEXT,
  type MaskedCopy,
  type SandboxOptions,
  type SandboxLimits,
  type SandboxPolicy,
  type SandboxResult,
} from './duckdb/index.js';
export {
  openPostgres,
  ensureReadRole,
  rebuildMaskedMirrors,
  mirrorSchemaOf,
  type ReadRoleOptions,
  type MaskedMirrors,
} from './postgres/index.js';
