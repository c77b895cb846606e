/**
 * `collectorRoutes`: the Fastify plugin that serves producers — the Kinesis and Firehose JSON
 * APIs on `POST /` (told apart by `X-Amz-Target`, signed with SigV4) and `POST /api/events`
 * (bearer token). It takes the log and the credential lookups from its caller and starts no
 * server: `tributary collect` and `tributary serve` register it on theirs. Bodies are taken as
 * raw buffers (one JSON.parse, one signature check per request), up to BODY_LIMIT.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { StreamLog } from '../log.js';
import { MIN_POOLED_BYTES, registerPooledBodies } from './body.js';
import { AwsError, type AwsService } from './errors.js';
import { EventsError, appendEvents, parseEvents, recordsOf } from './events.js';
import { FIREHOSE_OPERATIONS } from './firehose.js';
import { parseJsonBody } from './input.js';
import { IteratorCodec } from './iterators.js';
import { KINESIS_LIMITS, KINESIS_OPERATIONS, putScannedRecords } from './kinesis.js';
import { scanPutRecords } from './put-records-scan.js';
import { SigV4Verifier, type SecretLookup } from './sigv4.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route anyone may reach (the collector authenticates its requests itself). */
    public?: boolean;
  }
}

/** Largest body taken: a full 5 MiB PutRecords is about 6.7 MiB once base64-encoded in JSON. */
export const BODY_LIMIT = 16 * 1024 * 1024;

/** The content type of the AWS JSON 1.1 protocol Kinesis and Firehose speak. */
export const AMZ_JSON = 'application/x-amz-json-1.1';

/** How the collector checks who is sending. The caller should cache: both run per request. */
export interface CollectorCredentials {
  /** The secret access key of a producer's access key id; undefined when unknown or revoked. */
  secretFor: SecretLookup;
  /** Checks a bearer token for /api/events: true, or why it is refused. */
  checkBearer(token: string): Promise<true | string>;
}

export interface CollectorOptions {
  log: StreamLog;
  credentials: CollectorCredentials;
  /** The region in ARNs and the one signatures must be scoped to; any region when unset. */
  region?: string;
  /** Shards of a stream CreateStream makes without ShardCount (on-demand mode). Default 1. */
  defaultShards?: number;
  /** Key that seals shard iterators; random per process when unset. */
  iteratorKey?: Buffer;
}

const TARGETS: Record<string, AwsService> = {
  Kinesis_20131202: 'kinesis',
  Firehose_20150804: 'firehose',
};

/** Registers the producer endpoints. */
export const collectorRoutes: FastifyPluginAsync<CollectorOptions> = async (app, options) => {
  const region = options.region ?? 'us-east-1';
  const verifier = new SigV4Verifier(options.credentials.secretFor, options.region);
  const kinesis = {
    log: options.log,
    region,
    defaultShards: options.defaultShards ?? 1,
    iterators: new IteratorCodec(options.iteratorKey),
  };
  app.removeAllContentTypeParsers();
  const buffers = registerPooledBodies(app, BODY_LIMIT);
  app.setErrorHandler((err: FastifyError, req, reply) => answerError(err, req, reply));

  app.post('/', { bodyLimit: BODY_LIMIT, config: { public: true } }, async (req, reply) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const [prefix, op] = target.split('.', 2) as [string, string | undefined];
    const service = TARGETS[prefix];
    const operation =
      service === 'kinesis'
        ? KINESIS_OPERATIONS[op ?? '']
        : service === 'firehose'
          ? FIREHOSE_OPERATIONS[op ?? '']
          : undefined;
    if (!service || !operation)
      throw new AwsError(
        'UnknownOperationException',
        `Unknown operation ${target || '(no X-Amz-Target header)'}.`,
      );
    const media = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    if (media !== AMZ_JSON)
      throw new AwsError(
        'SerializationException',
        `Content-Type ${media || '(none)'} is not served: send ${AMZ_JSON} (the AWS JSON 1.1 protocol; CBOR is not served).`,
        415,
      );
    const body = bodyOf(req);
    await verifier.verify(
      {
        method: req.method,
        path: req.url.split('?')[0]!,
        query: req.url.split('?')[1] ?? '',
        headers: req.headers,
        body,
      },
      service,
    );
    // The common PutRecords body is read from its bytes (put-records-scan.ts); any other body is
    // parsed whole.
    const scanned =
      service === 'kinesis' && op === 'PutRecords'
        ? scanPutRecords(body, KINESIS_LIMITS.recordsPerRequest)
        : undefined;
    let result: unknown;
    if (scanned) {
      // The answer's buffer is the request's until its response has been sent, like its body.
      const take = (bytes: number) => {
        const buffer = buffers.take(Math.max(bytes, MIN_POOLED_BYTES));
        buffers.lend(req, buffer);
        return buffer;
      };
      result = await putScannedRecords(kinesis, scanned, take);
    } else if (service === 'kinesis')
      result = await (operation as (typeof KINESIS_OPERATIONS)[string])(
        kinesis,
        parseJsonBody(body),
      );
    else
      result = await (operation as (typeof FIREHOSE_OPERATIONS)[string])(
        kinesis,
        parseJsonBody(body),
      );
    return reply
      .header('content-type', AMZ_JSON)
      .header('x-amzn-requestid', randomUUID())
      .send(Buffer.isBuffer(result) ? result : JSON.stringify(result));
  });

  const events = async (req: FastifyRequest, reply: FastifyReply) => {
    const query = req.query as Record<string, string | undefined>;
    const stream = (req.params as { stream?: string }).stream ?? query.stream;
    await checkBearer(options.credentials, req);
    if (!stream)
      throw new EventsError(
        400,
        'USAGE',
        'no stream named',
        'POST to /api/events/<stream> (or /api/events?stream=<stream>)',
      );
    const records = recordsOf(
      parseEvents(req.headers['content-type'], bodyOf(req)),
      query.partition_key || undefined,
    );
    const { status, body } = await appendEvents(options.log, stream, records);
    return reply.status(status).send(body);
  };
  app.post('/api/events', { bodyLimit: BODY_LIMIT, config: { public: true } }, events);
  app.post('/api/events/:stream', { bodyLimit: BODY_LIMIT, config: { public: true } }, events);
};

const bodyOf = (req: FastifyRequest): Buffer =>
  Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);

async function checkBearer(credentials: CollectorCredentials, req: FastifyRequest): Promise<void> {
  const auth = req.headers.authorization ?? '';
  if (!auth.startsWith('Bearer '))
    throw new EventsError(
      401,
      'UNAUTHENTICATED',
      'a producer token is needed',
      'send Authorization: Bearer <token>; `tributary token create --role producer` makes one',
    );
  const verdict = await credentials.checkBearer(auth.slice(7).trim());
  if (verdict !== true)
    throw new EventsError(401, 'UNAUTHENTICATED', `the token is refused: ${verdict}`);
}

/** Answers an error in the shape of the endpoint that failed: AWS's on `/`, ours on /api/events. */
function answerError(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) {
  const aws = !req.url.startsWith('/api/');
  if (err instanceof AwsError)
    return reply
      .status(err.status)
      .header('content-type', AMZ_JSON)
      .send(JSON.stringify(err.body()));
  if (err instanceof EventsError) return reply.status(err.status).send(err.body());
  const status = (err as FastifyError).statusCode ?? 500;
  const message =
    (err as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE'
      ? `the request body is larger than ${BODY_LIMIT} bytes, the most the collector takes`
      : err.message;
  if (status >= 500) req.log.error({ err }, 'collector request failed');
  if (aws) {
    const type = status >= 500 ? 'InternalFailure' : 'InvalidArgumentException';
    return reply
      .status(status)
      .header('content-type', AMZ_JSON)
      .send(JSON.stringify({ __type: type, message }));
  }
  return reply
    .status(status)
    .send(new EventsError(status, status >= 500 ? 'INTERNAL' : 'USAGE', message).body());
}
