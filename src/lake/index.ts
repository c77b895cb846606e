/** Lake: object stores, zone layout and manifest commits. */
export type { ObjectStore } from './store.js';
export { LocalObjectStore } from './local.js';
export {
  schemaHash,
  parquetScan,
  readManifest,
  commitManifest,
  LOADED_AT,
  type DataFile,
  type QuarantineFile,
  type ColumnSchema,
  type TableManifest,
  type RawManifest,
  type RawBatch,
} from './manifest.js';
export { lakeKeys } from './zones.js';
