/**
 * Reading the fields of a JSON-protocol request body with Kinesis's own refusals: a missing or
 * mistyped member is a ValidationException naming the member, a Data blob that is not base64 is
 * a SerializationException (the body could not be read as the operation's input).
 */
import { AwsError, validationError } from './errors.js';

export type Body = Record<string, unknown>;

/** The request body as a JSON object, or the error the SDK gets for one that is not. */
export function parseJsonBody(raw: Buffer): Body {
  let parsed: unknown;
  try {
    parsed = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new AwsError(
      'SerializationException',
      `The request body is not JSON: ${(err as Error).message}`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new AwsError('SerializationException', 'The request body must be a JSON object.');
  return parsed as Body;
}

/** The lower-camel member path AWS's validation messages use (`StreamName` → `streamName`). */
const memberPath = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);

/** A string member with length bounds; undefined when absent and optional. */
export function stringField(
  body: Body,
  name: string,
  opts: { required?: boolean; min?: number; max?: number; pattern?: RegExp; path?: string } = {},
): string | undefined {
  const value = body[name];
  const path = opts.path ?? memberPath(name);
  if (value === undefined || value === null) {
    if (opts.required) throw validationError(path, 'Member must not be null', 'null');
    return undefined;
  }
  if (typeof value !== 'string')
    throw new AwsError('SerializationException', `${name} must be a string, got ${typeof value}.`);
  if (opts.min !== undefined && value.length < opts.min)
    throw validationError(
      path,
      `Member must have length greater than or equal to ${opts.min}`,
      value,
    );
  if (opts.max !== undefined && value.length > opts.max)
    throw validationError(
      path,
      `Member must have length less than or equal to ${opts.max}`,
      value.slice(0, 64),
    );
  if (opts.pattern && !opts.pattern.test(value))
    throw validationError(
      path,
      `Member must satisfy regular expression pattern: ${opts.pattern.source}`,
      value.slice(0, 64),
    );
  return value;
}

/** An integer member within bounds; undefined when absent. */
export function integerField(
  body: Body,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new AwsError('SerializationException', `${name} must be an integer.`);
  if (value < min)
    throw validationError(
      memberPath(name),
      `Member must have value greater than or equal to ${min}`,
      String(value),
    );
  if (value > max)
    throw validationError(
      memberPath(name),
      `Member must have value less than or equal to ${max}`,
      String(value),
    );
  return value;
}

/** An array member with count bounds. */
export function arrayField(body: Body, name: string, min: number, max: number): unknown[] {
  const value = body[name];
  if (value === undefined || value === null)
    throw validationError(memberPath(name), 'Member must not be null', 'null');
  if (!Array.isArray(value))
    throw new AwsError('SerializationException', `${name} must be a list.`);
  if (value.length < min)
    throw validationError(
      memberPath(name),
      `Member must have length greater than or equal to ${min}`,
    );
  if (value.length > max)
    throw validationError(memberPath(name), `Member must have length less than or equal to ${max}`);
  return value;
}

/** An object member (a list element or a nested structure). */
export function objectAt(value: unknown, path: string): Body {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new AwsError('SerializationException', `${path} must be a structure.`);
  return value as Body;
}

/**
 * Decodes a base64 blob member, refusing text that is not base64: Node's decoder skips characters
 * outside the alphabet, so a blob whose decoded length falls short of what its length promises
 * held some.
 */
export function blobField(body: Body, name: string, path: string): Buffer {
  const value = body[name];
  if (value === undefined || value === null)
    throw validationError(path, 'Member must not be null', 'null');
  if (typeof value !== 'string')
    throw new AwsError('SerializationException', `${path} must be a base64 string.`);
  const data = Buffer.from(value, 'base64');
  const padding = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
  if (value.length % 4 !== 0 || data.length !== (value.length / 4) * 3 - padding)
    throw new AwsError(
      'SerializationException',
      `Base64 encoded value at '${path}' is not valid base64 (${value.length} characters starting '${value.slice(0, 16)}').`,
    );
  return data;
}
