/** The exactly-once flusher: stream tables' micro-batches into the raw zone, and the `stream` source. */
export { METADATA_FIELDS, lineOf, type LandedLine, type RejectReason } from './lines.js';
export {
  flushOnce,
  cursorOf,
  type FlushContext,
  type FlushResult,
  type RetentionGap,
  type StreamCursor,
} from './flusher.js';
export {
  StreamFlusher,
  type FlushService,
  type LandedStream,
  type StreamFlusherOptions,
} from './service.js';
export { FlusherThread, flusherThreadAvailable } from './thread.js';
export { StreamSource, type StreamAccess } from './source.js';
export { LogOpening, type LogLease } from './opening.js';
export { advisoryFlushFence, flushLockKey, type FlushFence } from './fence.js';
export {
  startStreamRuntime,
  streamTables,
  type RuntimeOptions,
  type StreamRuntime,
} from './runtime.js';
