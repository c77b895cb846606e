/** DuckDB adapter: the embedded default engine. */
export { openDuckDB, openInMemoryDuckDBLazily } from './engine.js';
export {
  DuckDBSandbox,
  type SandboxOptions,
  type SandboxLimits,
  type SandboxResult,
} from './sandbox.js';
export {
  relationsInSerializedSql,
  relationsRead,
  redirectTables,
  redirectQualifiedTables,
  serializeSql,
} from './sql-ast.js';
export { type SandboxPolicy } from './read-policy.js';
export { writeMaskedCopy, MASK_TEXT, type MaskedCopy } from './mask.js';
