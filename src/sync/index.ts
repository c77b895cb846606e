export type {
  DestinationCapabilities,
  DestinationField,
  RecordResult,
  SyncDestination,
  SyncRecord,
  WaitListener,
  WriteBatch,
  WriteOperation,
} from './destination.js';
export {
  DEFAULT_FAILED_SHARE,
  FIELD_CASTS,
  FIELD_TRANSFORMS,
  SYNC_MODES,
  type FieldCast,
  type FieldTransform,
  type SyncDefinition,
  type SyncFieldMapping,
  type SyncMode,
  type SyncOutcome,
  type SyncRunInput,
  type SyncSamples,
} from './types.js';
export { runSync } from './runner.js';
export { openDestination, type OpenDestinationOptions } from './destinations/index.js';
export { resendSyncRecord, syncRecordPayload, type ResendInput } from './resend.js';
