/** Orchestrator: the asset graph, selection, the runner and open workspaces. */
export { buildAssetGraph, selectAssets, type Asset, type AssetGraph } from './graph.js';
export {
  openWorkspace,
  acquireProjectLock,
  isSharedProject,
  stateLocation,
  loadAssetGraph,
  loadColumnLineage,
  columnLineageOf,
  type Workspace,
} from './workspace.js';
export {
  buildColumnLineage,
  columnId,
  type ColumnLineage,
  type ColumnLineageInput,
  type LineageEdge,
  type TableLevelRead,
} from './column-lineage.js';
export {
  locateColumn,
  traceColumn,
  type ColumnTrace,
  type TraceDirection,
  type TracedColumn,
} from './column-trace.js';
export { executeAsset, type StepOutcome, type ExecContext } from './executors.js';
export {
  runPipeline,
  runPlan,
  queuedRunOpener,
  claimRunTick,
  TickHandled,
  type RunTick,
  type FreshnessAlert,
  type StepResult,
  type RunResult,
  type PlannedStep,
} from './runner.js';
export {
  QueueStepExecutor,
  heartbeatEvery,
  reapFinishedRuns,
  finishQueuedRun,
  NEVER_QUEUED,
  workerName,
  type QueuedRunPayload,
} from './queued-runs.js';
export { LandingWatcher, DEFAULT_SETTLE_MS } from './watch.js';
export { partitionStates, backfill, type PartitionState } from './partitions.js';
export {
  compileSchedule,
  schedulerRole,
  ticksBetween,
  RunQueue,
  Scheduler,
  type Clock,
  type SchedulerEvent,
  type RunRequest,
} from './scheduler.js';
export { PipelineServer } from './server.js';
export { replayDeadLetter } from './replay.js';
export {
  readServingSnapshot,
  readSharedSnapshot,
  publishServingSnapshot,
  servingDir,
  type ServingSnapshot,
  type PostgresServing,
} from './serving.js';
export { readerCredentialsFile, warehouseReaderUrl, maskedRoleOf } from './warehouse-readers.js';
export { piiColumns } from './pii.js';
export {
  runOneSync,
  planSyncRun,
  listSyncs,
  syncRunHistory,
  type SyncCommandOptions,
  type SyncCommandResult,
  type SyncRunPlan,
  type SyncSummary,
} from './sync-run.js';
export {
  SyncHistory,
  SYNC_HISTORY_MIGRATIONS,
  type SyncRunRecord,
  type SyncRunStatus,
} from './sync-history.js';
export { checkSyncMapping, resolveSyncSource } from './sync-assets.js';
export { checkSync, type SyncCheckReport } from './sync-check.js';
export { checkSharedStreamLog } from './streams.js';
