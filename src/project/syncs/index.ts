/**
 * Syncs (reverse ETL), the project side: `syncs/*.yml` read and validated, and the definition
 * shape the sync module runs. Checks against models and destinations live in the orchestrator.
 */
export {
  syncFileSchema,
  syncJsonSchema,
  SYNC_MODES,
  FIELD_CASTS,
  FIELD_TRANSFORMS,
  DEFAULT_FAILED_SHARE,
  type SyncMode,
  type FieldCast,
  type FieldTransform,
  type SyncFieldMapping,
  type SyncLines,
  type SyncDefinition,
} from './schema.js';
export { SYNCS_DIR, loadSyncs, parseSync, findSync } from './load.js';
