/** Catalog: schema inference, schema versions, partitions and lake views. */
export { catalogRaw, catalogProcessed, warehouseEntry } from './catalog.js';
export {
  processedSelect,
  quarantineSelect,
  registerLakeViews,
  PROCESSED_SCHEMA,
} from './lake-views.js';
export { loadLakeTable, exposeLakeTable, LOADS_SCHEMA, type LakeLoadResult } from './lake-load.js';
