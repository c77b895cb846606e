/** The NATS JetStream stream log: `JetStreamLog.connect({ url, prefix })`. */
export { JetStreamLog, type JetStreamLogOptions } from './jetstream-log.js';
