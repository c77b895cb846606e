/** Catalog: schema inference, schema versions, partitions and lake views. */
export * from './catalog.js';
export * from './lake-views.js';
