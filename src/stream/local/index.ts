/**
 * The local segment log: the default StreamLog, durable segment files in the project folder.
 */
export {
  LocalSegmentLog,
  type DurableListener,
  type LocalSegmentLogOptions,
  type RecoveryNote,
} from './segment-log.js';
export { decodeFrame, type StagedFrames } from './frame.js';
export { nodeSegmentIo, type SegmentIo } from './shard-log.js';
