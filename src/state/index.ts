/** State: run history, catalog and asset versions, over any Engine (a DuckDB file by default). */
export {
  StateStore,
  STATE_MIGRATIONS,
  type RunStatus,
  type StepStatus,
  type PartitionStatus,
  type RunRecord,
  type StepRecord,
  type StepWrite,
  type StepLogLine,
  type CatalogEntry,
  type SchemaVersion,
} from './store.js';
export {
  migrate,
  appliedMigrations,
  migrationChecksum,
  type Migration,
  type AppliedMigration,
} from './migrations.js';
export { openStateEngine, describeStateLocation, type StateLocation } from './open.js';
export {
  copyState,
  type StateStoreMigrations,
  type StateSide,
  type CopiedTable,
  type StateCopyResult,
  type StateCopyOptions,
} from './copy.js';
export {
  WorkQueue,
  WORK_QUEUE_MIGRATIONS,
  FINISHED_STATES,
  type WorkState,
  type QueuedTask,
  type Claim,
  type CompletedStatus,
  type Completion,
  type WorkTask,
  type WorkQueueOptions,
} from './work-queue.js';
export {
  Leadership,
  LEADER_MIGRATIONS,
  type LeaderRecord,
  type LeadershipOptions,
} from './leader.js';
export {
  ServingPointerStore,
  SERVING_POINTER_MIGRATIONS,
  type ServingPointer,
} from './serving-pointer.js';
