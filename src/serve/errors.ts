/**
 * How the API answers an error: `{ error: { code, message, hint? } }` with a status chosen by the
 * error's code, never by its message. TributaryErrors carry their own code (NOT_FOUND is a 404);
 * what the HTTP layer itself refuses (no token, a too-low role, a change it cannot audit) is an
 * HttpError with an API code.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { TributaryError, describeError, type ErrorCode } from '../core/index.js';

/** Codes of refusals made by the HTTP layer rather than by the pipeline's own modules. */
export type HttpErrorCode =
  'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT' | 'UNAVAILABLE' | 'USAGE';

/** Every code an API error body may carry. */
export type ApiErrorCode = ErrorCode | HttpErrorCode;

const CODE_BY_STATUS: Record<number, HttpErrorCode> = {
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  503: 'UNAVAILABLE',
};

/** An error with an HTTP status, for what the HTTP layer refuses (not a TributaryError). */
export class HttpError extends Error {
  readonly code: HttpErrorCode;

  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'HttpError';
    this.code = CODE_BY_STATUS[status] ?? 'USAGE';
  }
}

/** The HTTP status of each TributaryError code; any code not listed is the server's fault (500). */
export const STATUS_BY_CODE: Readonly<Partial<Record<ErrorCode, number>>> = {
  USAGE: 400,
  CONFIG: 400,
  INPUT: 400,
  GRAPH: 400,
  NOT_FOUND: 404,
  LOCKED: 409,
  CONFLICT: 409,
  UNAVAILABLE: 503,
};

export interface ErrorBody {
  error: { code: ApiErrorCode; message: string; hint?: string };
}

/** The status and body the API answers an error with. */
export function errorResponse(err: unknown): { status: number; body: ErrorBody } {
  const body = (code: ApiErrorCode, message: string, hint?: string): ErrorBody => ({
    error: { code, message, ...(hint ? { hint } : {}) },
  });
  if (err instanceof HttpError)
    return { status: err.status, body: body(err.code, err.message, err.hint) };
  if (err instanceof TributaryError)
    return {
      status: STATUS_BY_CODE[err.code] ?? 500,
      body: body(err.code, err.message, err.hint),
    };
  const e = err as Partial<FastifyError> & Error;
  // Fastify's own refusals: schema validation, an unsupported media type, a body too large.
  if (e.validation || (e.statusCode && e.statusCode < 500))
    return { status: e.statusCode ?? 400, body: body('USAGE', e.message) };
  return { status: 500, body: body('INTERNAL', e.message ?? String(err)) };
}

/**
 * The app's error handler. A 500 is the server's fault and nobody may be left to see it but the
 * client, so it is also written to stderr with the request that met it.
 */
export function sendError(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body } = errorResponse(err);
  if (status >= 500)
    process.stderr.write(
      `${new Date().toISOString()} ${req.method} ${req.url.split('?')[0]} failed: ${describeError(err)}\n`,
    );
  return reply.status(status).send(body);
}

/** The 404 of a path no route answers. */
export function noRoute(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.status(404).send({
    error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` },
  } satisfies ErrorBody);
}
