/**
 * Errors a user can act on. Every failure that reaches the CLI is a TributaryError naming
 * where the problem is (file, line, column, config path or record) and what to do about it.
 */

/** Where in the user's input a problem sits; every field is optional because not all inputs have lines. */
export interface ErrorLocation {
  file?: string;
  line?: number;
  column?: number;
  /** Path inside a config document, e.g. `sources.shop.tables.orders.format`. */
  path?: string;
  /** 1-based record number inside a data file. */
  record?: number;
}

/**
 * What kind of failure an error is, which callers branch on instead of its message: the CLI's
 * exit code and the API's HTTP status are chosen by it. NOT_FOUND: the thing a command or request
 * names (a run, a dead letter, a table, an asset, a dashboard, a tile, a token) does not exist.
 * CONFLICT: what a request would create exists already (a stream). UNAVAILABLE: the storage or
 * service cannot take the request now (a full disk, a lost server); worth retrying later.
 */
const ERROR_CODES = [
  'CONFIG',
  'INPUT',
  'ENGINE',
  'LAKE',
  'STATE',
  'LOCKED',
  'GRAPH',
  'USAGE',
  'NOT_FOUND',
  'INTERNAL',
  'CONFLICT',
  'UNAVAILABLE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Whether a value (an API's answer, say) is one of the error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

export interface TributaryErrorOptions {
  code?: ErrorCode;
  location?: ErrorLocation;
  hint?: string;
  cause?: unknown;
  /** A failure that may pass on its own (lost connection, lock, rate limit): worth retrying. */
  transient?: boolean;
}

/** An error with a location and a hint, formatted as one clear message for people. */
export class TributaryError extends Error {
  readonly code: ErrorCode;
  readonly location: ErrorLocation | undefined;
  readonly hint: string | undefined;
  readonly transient: boolean;

  constructor(message: string, options: TributaryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TributaryError';
    this.code = options.code ?? 'INPUT';
    this.location = options.location;
    this.hint = options.hint;
    this.transient = options.transient ?? false;
  }

  /** `file:line:col: message` followed by the hint on its own line. */
  format(): string {
    const where = formatLocation(this.location);
    const head = where ? `${where}: ${this.message}` : this.message;
    return this.hint ? `${head}\n  hint: ${this.hint}` : head;
  }
}

/** Renders a location as `file:line:col (path) record N`, leaving out what is unknown. */
function formatLocation(loc: ErrorLocation | undefined): string {
  if (!loc) return '';
  let out = loc.file ?? '';
  if (loc.line !== undefined) {
    out += `${out ? ':' : 'line '}${loc.line}`;
    if (loc.column !== undefined) out += `:${loc.column}`;
  }
  if (loc.record !== undefined) out += `${out ? ' ' : ''}record ${loc.record}`;
  if (loc.path) out += `${out ? ' ' : ''}(${loc.path})`;
  return out;
}

/** Turns anything thrown into a one-line message; TributaryErrors keep their location and hint. */
export function describeError(err: unknown): string {
  if (err instanceof TributaryError) return err.format();
  if (err instanceof Error) return err.message;
  return String(err);
}

/** True when an error is a Node system error with the given code (ENOENT, EXDEV…). */
export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/** Node, HTTP and database error codes of failures that may pass on their own. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  '57P01', // PostgreSQL: admin shutdown
  '57P02',
  '57P03', // cannot connect now (starting up)
  '08000',
  '08003',
  '08006', // connection failure
  '40001', // serialization failure
  '40P01', // deadlock detected
  '55P03', // lock not available
  'PROTOCOL_CONNECTION_LOST', // mysql2
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
]);

/**
 * Whether a failure is worth another try: flagged transient (a TributaryError said so, or an
 * engine classified its error as a lock or write conflict), a timeout, a lost connection. Looks
 * through `cause` chains, since wrappers keep the original. Never reads the message: what an
 * engine's failure means is decided once, by the engine (engines/types.ts EngineError).
 */
export function isTransientError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 8; depth++) {
    if (typeof e !== 'object') break;
    const o = e as { code?: unknown; name?: unknown; transient?: unknown; cause?: unknown };
    if (o.transient === true) return true;
    if (typeof o.code === 'string' && TRANSIENT_CODES.has(o.code)) return true;
    if (o.name === 'TimeoutError') return true;
    e = o.cause;
  }
  return false;
}
