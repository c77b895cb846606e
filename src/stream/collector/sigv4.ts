/**
 * Verifies AWS Signature Version 4 on a collector request, as AWS does: the credential scope
 * names the access key id, the day, the region and the service; the request is re-signed with the
 * stored secret over exactly the headers the client listed as signed (by `@smithy/signature-v4`,
 * the SDK's own signer), and the two signatures are compared in constant time. The body's SHA-256
 * is computed once: checked against `x-amz-content-sha256` when the client signed that header,
 * or hashed by the signer into the canonical request otherwise.
 *
 * Refusals use the error names Kinesis and Firehose answer with (HTTP 400):
 * MissingAuthenticationTokenException, IncompleteSignatureException, UnrecognizedClientException,
 * InvalidSignatureException (also for a date more than 15 minutes off).
 */
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { AwsError, type AwsService } from './errors.js';

/** How far a request's X-Amz-Date may be from the server's clock (as AWS allows). */
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;

/** Looks up the secret access key of an access key id (undefined: unknown or revoked). */
export type SecretLookup = (accessKeyId: string) => Promise<string | undefined>;

/** The parts of an incoming request a signature covers. */
export interface SignedRequestParts {
  method: string;
  /** The path as sent, without the query string. */
  path: string;
  /** The raw query string (after `?`), or empty. */
  query: string;
  /** Lower-case header names, as Node gives them (HTTP/2 pseudo-headers included). */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A verified request's signer: who signed, for which region. */
export interface VerifiedSigner {
  accessKeyId: string;
  region: string;
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** node:crypto as the signer's hash constructor: an HMAC when given a key, else a plain SHA-256. */
export class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | Uint8Array | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: string | Uint8Array | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === 'string' ? data : toBytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }
  reset(): void {
    throw new Error('NodeSha256 cannot be reset');
  }
}

function toBytes(value: string | Uint8Array | ArrayBuffer | ArrayBufferView): Uint8Array {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value))
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return new Uint8Array(value);
}

const header = (headers: SignedRequestParts['headers'], name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

/** Parses X-Amz-Date (`20261203T113240Z`), or undefined when it is not one. */
function parseAmzDate(text: string): Date | undefined {
  const m = AMZ_DATE.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

const fmt = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/** Verifies requests against the project's access keys, caching one signer per key and scope. */
export class SigV4Verifier {
  private readonly signers = new Map<string, SignatureV4>();

  constructor(
    private readonly secretFor: SecretLookup,
    /** The region the collector answers for; any region is accepted when undefined. */
    private readonly region?: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Verifies a request made to `service`; throws the AWS error a bad one gets. */
  async verify(req: SignedRequestParts, service: AwsService): Promise<VerifiedSigner> {
    const authorization = header(req.headers, 'authorization');
    if (!authorization)
      throw new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    const m = AUTH.exec(authorization);
    if (!m)
      throw new AwsError(
        'IncompleteSignatureException',
        `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters with the AWS4-HMAC-SHA256 algorithm; got '${authorization.slice(0, 40)}…'`,
      );
    const [credential, signedList, signature] = [m[1]!, m[2]!, m[3]!];
    const scope = credential.split('/');
    if (scope.length !== 5 || scope[4] !== 'aws4_request')
      throw new AwsError(
        'IncompleteSignatureException',
        `Credential should be scoped to a valid region, service and aws4_request terminator: ${credential}`,
      );
    const [accessKeyId, day, region, scopeService] = scope as [string, string, string, string];
    if (scopeService !== service)
      throw new AwsError(
        'InvalidSignatureException',
        `Credential should be scoped to correct service: '${service}', not '${scopeService}'.`,
      );
    if (this.region && region !== this.region)
      throw new AwsError(
        'InvalidSignatureException',
        `Credential should be scoped to a valid region, not '${region}'; this collector answers for '${this.region}'.`,
      );
    const signingDate = this.checkDate(req, day);
    const secret = await this.secretFor(accessKeyId);
    if (secret === undefined)
      throw new AwsError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    const expected = await this.sign(req, signedList.split(';'), {
      accessKeyId,
      secret,
      region,
      service,
      signingDate,
    });
    const given = Buffer.from(signature, 'hex');
    if (expected.length !== given.length || !timingSafeEqual(expected, given))
      throw new AwsError(
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
    return { accessKeyId, region };
  }

  private checkDate(req: SignedRequestParts, day: string): Date {
    const text = header(req.headers, 'x-amz-date');
    const date = text === undefined ? undefined : parseAmzDate(text);
    if (!text || !date)
      throw new AwsError(
        'IncompleteSignatureException',
        `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header; got '${text ?? ''}'.`,
      );
    if (!text.startsWith(day))
      throw new AwsError(
        'InvalidSignatureException',
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${day}' != '${text.slice(0, 8)}'`,
      );
    const now = this.now();
    if (date.getTime() < now - MAX_CLOCK_SKEW_MS)
      throw new AwsError(
        'InvalidSignatureException',
        `Signature expired: ${text} is now earlier than ${fmt(new Date(now - MAX_CLOCK_SKEW_MS))} (${fmt(new Date(now))} - 15 min.)`,
      );
    if (date.getTime() > now + MAX_CLOCK_SKEW_MS)
      throw new AwsError(
        'InvalidSignatureException',
        `Signature not yet current: ${text} is still later than ${fmt(new Date(now + MAX_CLOCK_SKEW_MS))} (${fmt(new Date(now))} + 15 min.)`,
      );
    return date;
  }

  /** The signature the stored secret gives the request, over the headers the client signed. */
  private async sign(
    req: SignedRequestParts,
    signedHeaders: string[],
    key: {
      accessKeyId: string;
      secret: string;
      region: string;
      service: string;
      signingDate: Date;
    },
  ): Promise<Buffer> {
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) {
      // HTTP/2 carries the host as the :authority pseudo-header.
      const value =
        header(req.headers, name) ??
        (name === 'host' ? header(req.headers, ':authority') : undefined);
      if (value === undefined)
        throw new AwsError(
          'InvalidSignatureException',
          `The request signature names header '${name}', which the request does not carry.`,
        );
      headers[name] = value;
    }
    const payloadHash = headers['x-amz-content-sha256'];
    // The body must be covered by the signature: an unsigned payload could be swapped in transit.
    if (payloadHash === 'UNSIGNED-PAYLOAD' || payloadHash?.startsWith('STREAMING-'))
      throw new AwsError(
        'InvalidSignatureException',
        `x-amz-content-sha256 ${payloadHash} is not accepted: sign the request body.`,
      );
    if (payloadHash !== undefined) {
      const actual = createHash('sha256').update(req.body).digest('hex');
      if (actual !== payloadHash)
        throw new AwsError(
          'InvalidSignatureException',
          'The provided x-amz-content-sha256 header does not match what was computed.',
        );
    }
    const request = new HttpRequest({
      method: req.method,
      protocol: 'http:',
      hostname: headers.host ?? '',
      path: req.path,
      query: parseQuery(req.query),
      headers,
      body: req.body,
    });
    const signed = await this.signerFor(key).sign(request, {
      signingDate: key.signingDate,
      signingRegion: key.region,
      signingService: key.service,
      signableHeaders: new Set(signedHeaders),
    });
    const match = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization));
    return Buffer.from(match?.[1] ?? '', 'hex');
  }

  private signerFor(key: { accessKeyId: string; secret: string; region: string; service: string }) {
    const cacheKey = `${key.accessKeyId}\n${key.secret}\n${key.region}\n${key.service}`;
    let signer = this.signers.get(cacheKey);
    if (!signer) {
      if (this.signers.size > 1000) this.signers.clear();
      signer = new SignatureV4({
        credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secret },
        region: key.region,
        service: key.service,
        sha256: NodeSha256,
        applyChecksum: false,
      });
      this.signers.set(cacheKey, signer);
    }
    return signer;
  }
}

/** A query string as the signer's map of (repeated) values, decoded. */
function parseQuery(query: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(query)) {
    const had = out[k];
    out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  return out;
}
