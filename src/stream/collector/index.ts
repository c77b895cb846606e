/**
 * The collector: the producer-facing HTTP API (Kinesis, Firehose, /api/events) as a Fastify
 * plugin over a StreamLog, and a server factory that speaks HTTP/1.1 and h2c on one port.
 */
export {
  AMZ_JSON,
  BODY_LIMIT,
  collectorRoutes,
  type CollectorCredentials,
  type CollectorOptions,
} from './plugin.js';
export { buildCollectorApp, dualProtocolServerFactory } from './server.js';
export { KINESIS_LIMITS } from './kinesis.js';
export { FIREHOSE_LIMITS } from './firehose.js';
export { MAX_EVENTS_PER_REQUEST } from './events.js';
export { MAX_CLOCK_SKEW_MS } from './sigv4.js';
export { ITERATOR_TTL_MS } from './iterators.js';
