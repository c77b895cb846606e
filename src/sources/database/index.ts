/** Shared machinery of the database connectors (PostgreSQL, MySQL). */
export type { DatabaseBatch } from './common.js';
