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
