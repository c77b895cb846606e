/** State: run history, catalog and asset versions, over any Engine (a DuckDB file by default). */
export * from './store.js';
