/** DuckDB adapter: the embedded default engine. */
export { openDuckDB, duckdbDialect, type DuckDBEngineOptions } from './engine.js';
export {
  DuckDBSandbox,
  type SandboxOptions,
  type SandboxLimits,
  type SandboxResult,
} from './sandbox.js';
export { relationsInSerializedSql } from './sql-ast.js';
