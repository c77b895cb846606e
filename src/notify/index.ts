/** Notify (the seeds' SNS and SQS dead-letter queue): alert channels and the dead-letter store. */
export * from './events.js';
export * from './backoff.js';
export * from './dead-letters.js';
