/**
 * Models: a dbt-compatible model layer. Parses dbt projects (dbt_project.yml, profiles.yml,
 * models, seeds, snapshots, tests, macros, docs) into a manifest, compiles Jinja faithfully, and
 * materializes through the Engine seam on DuckDB or PostgreSQL.
 */
export * from './types.js';
export * from './dbt-project.js';
export * from './parse.js';
export * from './compile.js';
export * from './execute.js';
export * from './materialize.js';
export * from './runner.js';
export * from './select.js';
export * from './artifacts.js';
export * from './open.js';
export { Relation } from './relation.js';
