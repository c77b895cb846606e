/** Files connector: a landing folder of CSV, JSON and NDJSON files. */
export { FilesSource, type LandedBatch } from './source.js';
