/** PostgreSQL adapter: the scale-out warehouse engine. */
export { openPostgres } from './engine.js';
export { ensureReadRole, type ReadRoleOptions } from './read-role.js';
export {
  rebuildMaskedMirrors,
  mirrorSchemaOf,
  type MaskedMirrors,
  type MaskedMirrorOptions,
} from './masked-mirror.js';
