/**
 * Models: a dbt-compatible model layer. Parses dbt projects (dbt_project.yml, profiles.yml,
 * models, seeds, snapshots, tests, macros, docs) into a manifest, compiles Jinja faithfully
 * (through jinja/), and materializes through the Engine seam on DuckDB or PostgreSQL.
 */
export { newNode, type ColumnDoc, type Node } from './types.js';
export { defaultConfig } from './config.js';
export { loadDbtProject } from './dbt-project.js';
export { DBT_PROJECT_KEYS, IGNORED_DBT_PROJECT_KEYS } from './dbt-project-schema.js';
export type { ParsedProject } from './parse.js';
export { DbtSession, type NodeResult } from './execute.js';
export { adapterResponse, type AdapterResponse } from './adapter-response.js';
export {
  listNodes,
  runVerb,
  sourceFreshness,
  type DbtVerb,
  type RunOptions,
  type RunSummary,
} from './runner.js';
export { compiledFile, writeCatalog, writeCompiled, writeManifest } from './artifacts.js';
export { tuneForShortRun } from './short-run.js';
export {
  openDbtProject,
  parsePipelineModels,
  type OpenOptions,
  type OpenedDbtProject,
} from './open.js';
export {
  installDeps,
  LOCK_FILE,
  type DepsOptions,
  type DepsResult,
  type InstalledPackage,
} from './packages/index.js';
export { resolveWarnError, type WarnErrorFlags } from './warn-error.js';
export { findOperationMacro, runOperation, type OperationOptions } from './operation.js';
