/** PostgreSQL adapter: the scale-out warehouse engine. */
export { openPostgres, postgresDialect, type PostgresEngineOptions } from './engine.js';
