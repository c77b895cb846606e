/** Quality: contracts compiled to SQL, processing raw batches into processed Parquet, quarantine. */
export * from './contract-sql.js';
export * from './csv-header.js';
export * from './lines.js';
export * from './process.js';
