/**
 * How template problems reach the user: every syntax or rendering error becomes a
 * TributaryError (code CONFIG) naming the template file and line, and the macro it happened in.
 */
import { TributaryError } from '../core/index.js';

/** A syntax error in a template, located at its file and line. */
export class TemplateSyntaxError extends TributaryError {
  constructor(message: string, file: string, line: number) {
    super(message, { code: 'CONFIG', location: { file, line } });
  }
}

/**
 * Attaches where a rendering error happened. TributaryErrors that already carry a location pass
 * through untouched (they come from a deeper macro or template); those without one (e.g. from a
 * JS global such as ref()) get this file and line; anything else is wrapped.
 */
export function locateError(
  err: unknown,
  file: string,
  line: number,
  macro: string | null,
): TributaryError {
  const prefix = macro ? `in macro ${macro}: ` : '';
  if (err instanceof TributaryError) {
    if (err.location) return err;
    // Mutated rather than re-created so callers can still match on identity and subclass.
    const e = err as { location: unknown; message: string };
    e.location = { file, line };
    e.message = prefix + err.message;
    return err;
  }
  const message = err instanceof Error ? err.message : String(err);
  return new TributaryError(prefix + message, {
    code: 'CONFIG',
    location: { file, line },
    cause: err,
  });
}
