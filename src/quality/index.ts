/** Quality: contracts compiled to SQL, processing raw batches into processed Parquet, quarantine. */
export { parseFirstRecord } from './csv-header.js';
export { ndjsonLines, CsvLineCalculator } from './lines.js';
export { emptyManifest, processTable, type ProcessResult } from './process.js';
