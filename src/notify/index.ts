/** Notify (the seeds' SNS and SQS dead-letter queue): alert channels and the dead-letter store. */
export * from './events.js';
/** The backoff formula lives in core, shared with step retries; re-exported for alert users. */
export { backoffDelay, type BackoffPolicy } from '../core/index.js';
export * from './channels.js';
export * from './dead-letters.js';
export * from './notifier.js';
