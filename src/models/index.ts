/** Models: SQL models with ref()/source(), schema.yml tests, reports; materialized via the Engine seam. */
export * from './resolver.js';
export * from './load.js';
export * from './materialize.js';
