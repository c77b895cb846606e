/** Shared machinery of the database connectors (PostgreSQL, MySQL). */
export * from './common.js';
