/**
 * Turns what the NATS client throws into the StreamLog contract's `TributaryError` codes, so the
 * collector answers Kinesis's error shapes the same way for JetStream as for the local log: a lost
 * or silent server is UNAVAILABLE (transient, worth a retry), a missing stream NOT_FOUND, a name
 * taken CONFLICT.
 */
import { TributaryError } from '../../core/errors.js';

/** JetStream API error codes this adapter tells apart (nats-server's errors.json). */
const API_STREAM_NOT_FOUND = 10059;
const API_STREAM_NAME_IN_USE = 10058;
const API_INSUFFICIENT_RESOURCES = 10023;
const API_STORE_FAILED = 10077;

/** Error class names (nats-core, @nats-io/jetstream) meaning the server is out of reach. */
const UNREACHABLE = new Set([
  'TimeoutError',
  'ClosedConnectionError',
  'ConnectionError',
  'DrainingConnectionError',
  'NoRespondersError',
  'RequestError',
  'JetStreamNotEnabled',
  'errors', // nats-core's generic connection failure ("CONNECTION_REFUSED")
]);

/** The JetStream API error code carried by `err`, if it is a JetStreamApiError. */
export function apiErrorCode(err: unknown): number | undefined {
  if (!(err instanceof Error) || !('apiError' in err)) return undefined;
  const apiError = (err as { apiError: () => { err_code?: number } }).apiError();
  return apiError.err_code;
}

/** Whether `err` says the server could not be reached or did not answer in time. */
export function isUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (UNREACHABLE.has(err.constructor.name) || UNREACHABLE.has(err.name)) return true;
  return /timeout|connection|closed|refused|no responders/i.test(err.message);
}

/** Maps a NATS client failure during `action` (e.g. `reading stream "x"`) to a TributaryError. */
export function toTributaryError(err: unknown, action: string, url: string): TributaryError {
  if (err instanceof TributaryError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = apiErrorCode(err);
  if (code === API_STREAM_NOT_FOUND) {
    return new TributaryError(`${action}: no such stream`, { code: 'NOT_FOUND', cause: err });
  }
  if (code === API_STREAM_NAME_IN_USE) {
    return new TributaryError(`${action}: the stream exists already`, {
      code: 'CONFLICT',
      cause: err,
    });
  }
  if (code === API_INSUFFICIENT_RESOURCES || code === API_STORE_FAILED) {
    return new TributaryError(`${action}: the NATS server cannot store more (${message})`, {
      code: 'UNAVAILABLE',
      transient: true,
      cause: err,
      hint: 'free disk space or raise the JetStream storage limits of nats-server',
    });
  }
  if (code === undefined && isUnreachable(err)) {
    return new TributaryError(`${action}: the NATS server at ${url} did not answer (${message})`, {
      code: 'UNAVAILABLE',
      transient: true,
      cause: err,
      hint: 'check that nats-server is running with JetStream enabled (nats-server -js)',
    });
  }
  return new TributaryError(`${action}: JetStream refused it (${message})`, {
    code: 'INTERNAL',
    cause: err,
  });
}
