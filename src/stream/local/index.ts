/**
 * The local segment log: the default StreamLog, durable segment files in the project folder.
 */
export { LocalSegmentLog, type LocalSegmentLogOptions, type RecoveryNote } from './segment-log.js';
export { nodeSegmentIo, type SegmentIo } from './shard-log.js';
