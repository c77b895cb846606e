/** Notify (the seeds' SNS and SQS dead-letter queue): alert channels and the dead-letter store. */
export {};
