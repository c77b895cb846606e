/** PostgreSQL adapter: the scale-out warehouse engine. */
export { openPostgres } from './engine.js';
