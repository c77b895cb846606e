/** Notify (the seeds' SNS and SQS dead-letter queue): alert channels and the dead-letter store. */
export {
  describeAlert,
  alertDetails,
  isAlertEvent,
  type FailureEvent,
  type RetriesExhaustedEvent,
  type SuccessEvent,
  type FreshnessEvent,
  type RefusedFilesEvent,
  type StreamGapEvent,
  type SyncFailuresEvent,
  type AlertEvent,
} from './events.js';
/** The backoff formula lives in core, shared with step retries; re-exported for alert users. */
export { backoffDelay } from '../core/index.js';
export {
  DeadLetterStore,
  DEAD_LETTER_MIGRATIONS,
  type DeadLetterKind,
  type DeadLetterStatus,
  type DeadLetter,
} from './dead-letters.js';
export { checkAlertsConfig, Notifier, type NotificationPayload } from './notifier.js';
