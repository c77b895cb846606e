/**
 * DAG: the one executor of task graphs (ready heap by topological position, concurrency slots,
 * retries with backoff, timeouts, stop and abort, skip-on-failure of what is downstream). It
 * knows nothing of what a task is, so it sits on the floor beside core/ and depends on core/
 * only: the orchestrator runs assets through it and models/ runs dbt nodes through it.
 */
export {
  sleep,
  dispatch,
  type RetryPolicy,
  type DispatchTask,
  type TaskContext,
  type TaskResult,
} from './dispatch.js';
export {
  runQueueWorker,
  type QueueClaim,
  type QueueCompletion,
  type QueueTaskStatus,
  type QueueTaskOutcome,
  type TaskQueue,
  type QueueWorkerOptions,
  type QueueWorkerStats,
} from './queue-worker.js';
