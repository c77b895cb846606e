/**
 * Errors in the shapes AWS's JSON protocols answer with (`{"__type": name, "message": text}`
 * with HTTP 400 for the caller's faults and 500/503 for the service's), so an unchanged SDK
 * raises its own exception classes (`ResourceNotFoundException`, `ValidationException`, ...).
 * Log errors (`TributaryError` codes) are mapped here, in one place, for Kinesis and Firehose.
 */
import { TributaryError } from '../../core/index.js';

/** The account id every ARN and message names: Tributary has one project, not AWS accounts. */
export const ACCOUNT_ID = '000000000000';

/** Which API a request speaks: the error names differ a little between them. */
export type AwsService = 'kinesis' | 'firehose';

/** An error answered in the AWS JSON shape. */
export class AwsError extends Error {
  constructor(
    /** The exception's name, as the SDK's class is named. */
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }

  /** The response body. */
  body(): { __type: string; message: string } {
    return { __type: this.type, message: this.message };
  }
}

/** Kinesis's ValidationException wording for one failed constraint. */
export function validationError(path: string, constraint: string, value?: string): AwsError {
  const shown = value === undefined ? 'Value' : `Value '${value}'`;
  return new AwsError(
    'ValidationException',
    `1 validation error detected: ${shown} at '${path}' failed to satisfy constraint: ${constraint}`,
  );
}

/** How a stream is named in messages: `Stream x under account 000000000000`. */
export function streamPhrase(service: AwsService, name: string): string {
  return service === 'kinesis'
    ? `Stream ${name} under account ${ACCOUNT_ID}`
    : `Firehose ${name} under account ${ACCOUNT_ID}`;
}

/** The AWS error a log failure is answered with. */
export function awsErrorOf(err: unknown, service: AwsService, stream?: string): AwsError {
  if (err instanceof AwsError) return err;
  const code = err instanceof TributaryError ? String(err.code) : undefined;
  const message = err instanceof Error ? err.message : String(err);
  switch (code) {
    case 'NOT_FOUND':
      return new AwsError(
        'ResourceNotFoundException',
        stream ? `${streamPhrase(service, stream)} not found.` : message,
      );
    case 'CONFLICT':
    case 'LOCKED':
      return new AwsError(
        'ResourceInUseException',
        stream ? `${streamPhrase(service, stream)} already exists.` : message,
      );
    case 'INPUT':
    case 'USAGE':
    case 'CONFIG':
      return new AwsError('InvalidArgumentException', message);
    case 'UNAVAILABLE':
      return service === 'kinesis'
        ? new AwsError('ProvisionedThroughputExceededException', `Rate exceeded: ${message}`)
        : new AwsError('ServiceUnavailableException', `Slow down: ${message}`, 503);
    default:
      return service === 'kinesis'
        ? new AwsError('InternalFailure', `Internal Service Failure: ${message}`, 500)
        : new AwsError('ServiceUnavailableException', `Internal Service Failure: ${message}`, 503);
  }
}
