/** Files connector: a landing folder of CSV, JSON and NDJSON files. */
export * from './source.js';
