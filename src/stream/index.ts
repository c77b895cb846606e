/**
 * Streaming: the Kinesis/Firehose-compatible collector, its durable log (local segment files or
 * NATS JetStream) and the flusher that lands micro-batches in the lake exactly once.
 */
export type {
  AppendOutcome,
  LogRecord,
  ReadLimits,
  ReadPosition,
  ReadResult,
  RecordInput,
  ShardDescription,
  StreamDescription,
  StreamLog,
  StreamSettings,
} from './log.js';
export {
  MAX_HASH_KEY,
  compareSequenceNumbers,
  hashKeyOf,
  parseExplicitHashKey,
  shardForHashKey,
  shardIdOf,
  shardIndexOfId,
  shardRange,
  describeShard,
} from './shards.js';
export {
  LogOpening,
  METADATA_FIELDS,
  StreamFlusher,
  StreamSource,
  advisoryFlushFence,
  cursorOf,
  flushOnce,
  lineOf,
  startStreamRuntime,
  streamTables,
  type FlushFence,
  type FlushResult,
  type FlushService,
  type LogLease,
  type RuntimeOptions,
  type StreamRuntime,
  type RetentionGap,
  type StreamAccess,
  type StreamCursor,
  type StreamFlusherOptions,
} from './flush/index.js';
export {
  MAX_PARTITION_KEY_LENGTH,
  MAX_RECORD_DATA_BYTES,
  MAX_SHARDS,
  checkStreamName,
  checkStreamSettings,
  placeRecord,
  shardOfKeyBytes,
  shardOfPartitionKey,
} from './records.js';
export {
  LocalSegmentLog,
  nodeSegmentIo,
  type LocalSegmentLogOptions,
  type RecoveryNote,
  type SegmentIo,
} from './local/index.js';
export { JetStreamLog, type JetStreamLogOptions } from './jetstream/index.js';
export { openStreamLog } from './open.js';
export {
  AMZ_JSON,
  BODY_LIMIT,
  FIREHOSE_LIMITS,
  KINESIS_LIMITS,
  MAX_EVENTS_PER_REQUEST,
  buildCollectorApp,
  collectorRoutes,
  dualProtocolServerFactory,
  type CollectorCredentials,
  type CollectorOptions,
} from './collector/index.js';
export { startCollecting, type Collecting, type CollectingOptions } from './collecting.js';
