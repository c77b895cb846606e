/** PostgreSQL adapter: the scale-out warehouse engine. */
export { openPostgres } from './engine.js';
export { ensureReadRole, type ReadRoleOptions } from './read-role.js';
