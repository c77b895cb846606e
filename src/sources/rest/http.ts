/**
 * The HTTP side of the REST connector: one GET that returns parsed JSON, behind a token-bucket
 * rate limit, a per-request timeout and retries with exponential backoff and full jitter that
 * honour Retry-After. Node's global fetch (undici) does the I/O. Time is injected (`Clock`) so
 * tests drive backoff and rate limits without waiting; every message goes through the Redactor.
 */
import { TributaryError } from '../../core/index.js';
import type { Redactor } from '../../core/index.js';

/** Time as the connector sees it: injectable so tests can run on fake time. */
export interface Clock {
  /** Milliseconds since an arbitrary origin. */
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** A number in [0, 1), for backoff jitter. */
  random(): number;
}

/** Real time. */
export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
  random: Math.random,
};

/**
 * A token bucket holding at most one token: requests leave at most `rate` per second, evenly
 * spaced (a burst would only earn the 429s the limit exists to avoid).
 */
class TokenBucket {
  private next = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly perSecond: number,
    private readonly clock: Clock,
  ) {}

  /** Waits until a request may leave. */
  async take(signal?: AbortSignal): Promise<void> {
    const now = this.clock.now();
    const at = Math.max(now, this.next);
    this.next = at + 1000 / this.perSecond;
    if (at > now) await this.clock.sleep(at - now, signal);
  }
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  backoffMs: number;
  maxBackoffMs: number;
}

export interface HttpClientOptions {
  headers: Record<string, string>;
  /** Query parameters added to every request (an API key sent `in: query`). */
  query: Record<string, string>;
  /** Query parameter names whose values are shown as `***` in messages. */
  secretParams: string[];
  retry: RetryPolicy;
  timeoutMs: number;
  requestsPerSecond?: number;
  clock: Clock;
  redactor: Redactor;
  /** Config path of the table, for error locations. */
  where: string;
  signal?: AbortSignal;
  /** Told about each retry (the message is already redacted). */
  onRetry?: (message: string) => void;
}

export interface JsonResponse {
  body: unknown;
  headers: Headers;
  /** The URL as it may be shown (secrets masked). */
  shown: string;
}

/** Statuses worth another try: rate limited, overloaded, or a gateway that lost its upstream. */
const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);
const SNIPPET = 300;

/** Issues GET requests for JSON with the source's auth, limits, retries and timeout. */
export class HttpClient {
  private readonly bucket: TokenBucket | undefined;

  constructor(private readonly opts: HttpClientOptions) {
    this.bucket = opts.requestsPerSecond
      ? new TokenBucket(opts.requestsPerSecond, opts.clock)
      : undefined;
  }

  /** The URL with the client's query parameters added (auth by query string). */
  withAuth(url: URL): URL {
    const out = new URL(url);
    for (const [k, v] of Object.entries(this.opts.query))
      if (!out.searchParams.has(k)) out.searchParams.set(k, v);
    return out;
  }

  /** A URL as messages show it: secret parameters and secret values masked. */
  show(url: URL | string): string {
    const u = new URL(url);
    for (const name of this.opts.secretParams)
      if (u.searchParams.has(name)) u.searchParams.set(name, 'REDACTED');
    return this.opts.redactor.redact(u.toString().replace(/REDACTED/g, '***'));
  }

  /** GETs a URL and parses its JSON body; throws a TributaryError naming the endpoint on failure. */
  async getJson(url: URL): Promise<JsonResponse> {
    const { retry, clock, signal } = this.opts;
    const target = this.withAuth(url);
    const shown = this.show(target);
    const endpoint = `GET ${shown}`;
    for (let attempt = 1; ; attempt++) {
      await this.bucket?.take(signal);
      let failure: string;
      let retryAfterMs: number | undefined;
      let response: Response | undefined;
      let text = '';
      try {
        const signals = [AbortSignal.timeout(this.opts.timeoutMs), ...(signal ? [signal] : [])];
        response = await fetch(target, {
          headers: { accept: 'application/json', ...this.opts.headers },
          signal: AbortSignal.any(signals),
        });
        text = await response.text();
      } catch (err) {
        if (signal?.aborted) throw this.error(`${endpoint} was cancelled`, {});
        response = undefined;
        failure = describeFetchError(err, this.opts.timeoutMs);
      }
      if (response) {
        if (response.ok)
          return { body: this.parse(endpoint, response, text), headers: response.headers, shown };
        failure = `answered ${response.status} ${response.statusText}`.trim();
        if (!RETRY_STATUSES.has(response.status) || attempt >= retry.attempts) {
          throw this.error(
            `${endpoint} ${failure}${attempt > 1 ? ` after ${attempt} attempts` : ''}: ${snippet(text)}`,
            {
              hint: hintFor(response.status),
            },
          );
        }
        retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now());
      } else if (attempt >= retry.attempts) {
        throw this.error(`${endpoint} failed after ${attempt} attempts: ${failure!}`, {
          hint: 'check that the API is reachable from this machine (base_url, network, proxy)',
        });
      }
      // Full jitter: a random wait up to the exponential cap, so many clients do not retry in step;
      // a Retry-After from the server wins, since it knows when it will take requests again.
      const cap = Math.min(retry.maxBackoffMs, retry.backoffMs * 2 ** (attempt - 1));
      const wait = retryAfterMs ?? Math.floor(clock.random() * cap);
      this.opts.onRetry?.(
        this.opts.redactor.redact(
          `${endpoint} ${failure!}; retrying in ${wait} ms (attempt ${attempt + 1} of ${retry.attempts})`,
        ),
      );
      await clock.sleep(wait, signal);
    }
  }

  private parse(endpoint: string, response: Response, text: string): unknown {
    const type = response.headers.get('content-type') ?? '';
    const head = text.trimStart().slice(0, 1);
    if (/html/i.test(type) || head === '<') {
      throw this.error(
        `${endpoint} answered HTML instead of JSON (status ${response.status}${type ? `, ${type}` : ''}): ${snippet(text)}`,
        {
          hint: 'check base_url and the path: this looks like a web page (a login page, a proxy or a wrong URL)',
        },
      );
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw this.error(
        `${endpoint} answered malformed JSON (status ${response.status}, ${text.length} characters: ${(err as Error).message}; the body may be truncated): ${snippet(text)}`,
        { hint: 'the API sent a body that is not JSON; nothing was landed, run again later' },
      );
    }
  }

  /** A TributaryError with every secret masked. */
  error(message: string, opts: { hint?: string }): TributaryError {
    const r = (s: string) => this.opts.redactor.redact(s);
    return new TributaryError(r(message), {
      location: { path: this.opts.where },
      ...(opts.hint ? { hint: r(opts.hint) } : {}),
    });
  }
}

/** The start of a body for a message, on one line. */
function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (!flat) return '(empty body)';
  return flat.length > SNIPPET ? `${flat.slice(0, SNIPPET)}…` : flat;
}

function hintFor(status: number): string | undefined {
  if (status === 401 || status === 403)
    return 'check the credentials under auth: (the env var or secret file they come from)';
  if (status === 404) return 'check base_url and the path of the table';
  if (RETRY_STATUSES.has(status))
    return 'the API kept failing; raise retries.attempts or run again later';
  return undefined;
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `${e?.message ?? String(err)}${cause ? ` (${cause})` : ''}`;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
