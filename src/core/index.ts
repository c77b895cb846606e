/** Core: errors, atomic file helpers and progress events shared by every module. */
export {
  describeError,
  isErrno,
  isTransientError,
  isErrorCode,
  TributaryError,
  type ErrorLocation,
  type ErrorCode,
} from './errors.js';
export {
  writeFileAtomic,
  moveFile,
  copyFileAtomic,
  removeTempFiles,
  newId,
  nodeSyncIo,
  syncDir,
  type SyncIo,
} from './fs.js';
export { silentProgress, type ProgressEvent, type ProgressReporter } from './progress.js';
export { scanFile } from './scan.js';
export { csvField, toCsv } from './csv.js';
export { faultPoint } from './faults.js';
export { Redactor } from './redact.js';
export { parseDuration, formatDuration } from './duration.js';
export { parseByteSize, formatByteSize } from './bytes.js';
export { backoffDelay, type BackoffPolicy } from './backoff.js';
export { seededRandom } from './random.js';
