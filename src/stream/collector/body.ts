/**
 * Request bodies read into reused buffers. Fastify's own raw-body reader keeps the chunks and
 * `Buffer.concat`s them into a fresh buffer per request: for a 700 KB PutRecords that is a new
 * allocation whose every page the kernel maps and zeroes as the copy first touches it (page faults
 * were an eighth of the collector's CPU under bench:stream, issue 15). Here each request's chunks
 * are copied into a buffer taken from a small pool, given back once the response has been sent;
 * by then nothing reads the body (every record's data was decoded or copied out of it, and the
 * log had taken its records before answering).
 *
 * Limits and errors are Fastify's: a body (declared or received) over the limit is
 * FST_ERR_CTP_BODY_TOO_LARGE, a body shorter or longer than its Content-Length is
 * FST_ERR_CTP_INVALID_CONTENT_LENGTH, a stream error is answered with status 400 or its own.
 */
import type { IncomingMessage } from 'node:http';
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';
import { BufferPool } from '../buffer-pool.js';

/** Bodies smaller than this are allocated as usual (Node's own pool) and never kept. */
export const MIN_POOLED_BYTES = 64 * 1024;
/** Bytes of body buffers the pool keeps at most. */
const POOL_BYTES = 32 * 1024 * 1024;

/** Buffers given back after their responses, for the next requests' bodies (and answers). */
export class BodyBufferPool extends BufferPool {
  /** Buffers lent to a request (its body, its answer) until its response has been sent. */
  private readonly lent = new WeakMap<object, Buffer[]>();

  constructor(maxBytes = POOL_BYTES) {
    super(maxBytes, MIN_POOLED_BYTES);
  }

  /** A buffer of at least `bytes`: the smallest spare one that fits, or a new one. */
  override take(bytes: number): Buffer {
    if (bytes < MIN_POOLED_BYTES) return Buffer.allocUnsafe(bytes);
    return super.take(bytes) ?? Buffer.allocUnsafeSlow(bytes);
  }

  /** Lends `buffer` to `owner` (a request) until `giveBackLent(owner)`. */
  lend(owner: object, buffer: Buffer): void {
    const buffers = this.lent.get(owner);
    if (buffers) buffers.push(buffer);
    else this.lent.set(owner, [buffer]);
  }

  /** Takes back every buffer lent to `owner`: nothing reads them any more. */
  giveBackLent(owner: object): void {
    const buffers = this.lent.get(owner);
    if (!buffers) return;
    this.lent.delete(owner);
    for (const buffer of buffers) this.give(buffer);
  }
}

type Done = (err: Error | null, body?: Buffer) => void;

/**
 * Registers, on `app` (every content type), a body reader into pooled buffers, and the hook that
 * gives a request's buffer back once its response is sent.
 */
export function registerPooledBodies(app: FastifyInstance, limit: number): BodyBufferPool {
  const pool = new BodyBufferPool();
  app.addContentTypeParser('*', (req: FastifyRequest, payload: IncomingMessage, done: Done) =>
    readBody(req, payload, { limit, pool }, done),
  );
  app.addHook('onResponse', (req, _reply, next) => {
    pool.giveBackLent(req);
    next();
  });
  return pool;
}

function readBody(
  req: FastifyRequest,
  payload: IncomingMessage,
  ctx: { limit: number; pool: BodyBufferPool },
  done: Done,
): void {
  const declared = Number(req.headers['content-length']);
  if (declared > ctx.limit) return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
  let body = ctx.pool.take(declared >= 0 ? declared : MIN_POOLED_BYTES);
  let length = 0;
  const stop = () => {
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', onEnd);
  };
  function onData(chunk: Buffer | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (length + bytes.length > ctx.limit) {
      stop();
      ctx.pool.give(body);
      return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    }
    if (length + bytes.length > body.length) {
      const grown = ctx.pool.take(Math.max(2 * body.length, length + bytes.length));
      body.copy(grown, 0, 0, length);
      ctx.pool.give(body);
      body = grown;
    }
    bytes.copy(body, length);
    length += bytes.length;
  }
  function onEnd(err?: Error & { statusCode?: number }): void {
    stop();
    if (err) {
      ctx.pool.give(body);
      if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
      return done(err);
    }
    if (!Number.isNaN(declared) && length !== declared) {
      ctx.pool.give(body);
      return done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
    }
    ctx.pool.lend(req, body);
    done(null, body.subarray(0, length));
  }
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onEnd);
  payload.resume();
}
