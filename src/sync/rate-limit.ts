/**
 * Pacing HTTP destinations to their documented rate limit, shared by the HubSpot, Salesforce and
 * webhook adapters.
 *
 * - A sliding window of N requests per window: a request may start only when fewer than N
 *   requests occupy the last window, so no burst ever exceeds the limit, whatever the window's
 *   alignment on the server. A request's slot is held from the moment it is sent until its answer
 *   has arrived, and counts from then for a whole window: the server sees a request arrive
 *   somewhere between the two, so counting from the answer is the only time that is never early
 *   under network jitter. It costs a latency per window (≈ 0.5% at 190 per second locally).
 * - 429 Too Many Requests: Retry-After (seconds or an HTTP date) pauses every request of the
 *   client, not only the one refused, then the refused request is sent again. Without the header
 *   the backoff policy decides.
 * - 5xx and network failures: the whole request is retried with backoff, a bounded number of
 *   times, when it is safe to send twice (`idempotent`); otherwise only failures that prove the
 *   request never reached the server (connection refused) are retried.
 * - Every wait of a noticeable length is reported through the WaitListener, so a long run shows
 *   why it is quiet.
 */
import { backoffDelay, isErrno, TributaryError, type BackoffPolicy } from '../core/index.js';
import type { WaitListener } from './destination.js';

/** A documented limit: at most `requests` requests in any `perMs` milliseconds. */
export interface RateLimit {
  requests: number;
  perMs: number;
}

/** Time, so tests can run the pacing without waiting for real. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortReason(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/** Most requests per second a limit allows (for capabilities and the benchmark). */
export function requestsPerSecond(limit: RateLimit): number {
  return (limit.requests * 1000) / limit.perMs;
}

interface Slot {
  /** When the request's answer arrived; Infinity while it is in flight. */
  doneAt: number;
}

/**
 * The sliding window. `acquire` waits for room and returns the function that marks the request
 * done; `pauseUntil` holds every caller back after a 429.
 */
export class SlidingWindowPacer {
  private slots: Slot[] = [];
  private pausedUntil = 0;
  /** Callers waiting for an in-flight request to finish, when all the window's slots are busy. */
  private releaseWaiters: (() => void)[] = [];
  /** Acquisitions go one at a time, in arrival order, so none is starved. */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    readonly limit: RateLimit,
    private readonly clock: Clock = systemClock,
    private readonly onWait: WaitListener = () => {},
    /** Waits shorter than this are routine pacing and not reported. */
    private readonly reportWaitsOverMs = 250,
  ) {
    if (!(limit.requests >= 1) || !(limit.perMs > 0))
      throw new TributaryError(
        `rate limit must allow at least 1 request per positive window (got ${limit.requests} per ${limit.perMs} ms)`,
        { code: 'CONFIG' },
      );
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    const mine = this.turn.then(() => this.waitForSlot(signal));
    this.turn = mine.catch(() => undefined);
    const slot = await mine;
    return () => {
      if (slot.doneAt !== Infinity) return;
      slot.doneAt = this.clock.now();
      const waiters = this.releaseWaiters;
      this.releaseWaiters = [];
      for (const wake of waiters) wake();
    };
  }

  /** After a 429: nobody sends before `until` (epoch ms). */
  pauseUntil(until: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, until);
  }

  private async waitForSlot(signal?: AbortSignal): Promise<Slot> {
    for (;;) {
      if (signal?.aborted) throw abortReason(signal);
      const now = this.clock.now();
      if (this.pausedUntil > now) {
        await this.wait(
          this.pausedUntil - now,
          'the destination asked to wait (Retry-After)',
          signal,
        );
        continue;
      }
      this.slots = this.slots.filter((s) => s.doneAt + this.limit.perMs > now);
      if (this.slots.length < this.limit.requests) {
        const slot: Slot = { doneAt: Infinity };
        this.slots.push(slot);
        return slot;
      }
      const oldest = Math.min(...this.slots.map((s) => s.doneAt));
      if (oldest === Infinity) await this.nextRelease(signal);
      else
        await this.wait(
          oldest + this.limit.perMs - now,
          `rate limit ${this.limit.requests} requests per ${this.limit.perMs} ms`,
          signal,
        );
    }
  }

  private async wait(ms: number, reason: string, signal?: AbortSignal): Promise<void> {
    if (ms >= this.reportWaitsOverMs) this.onWait(ms, reason);
    await this.clock.sleep(ms, signal);
  }

  private nextRelease(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(abortReason(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.releaseWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }
}

/**
 * Retry-After as milliseconds from `now`: delta-seconds (`"10"`, HubSpot sends whole seconds) or
 * an HTTP date. Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** An HTTP answer with its body read (the slot is held until the body has arrived). */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: string;
}

export interface PacedHttpOptions {
  /** Names the destination in errors and waits (`hubspot destination crm`). */
  name: string;
  limit: RateLimit;
  /** Retries of a whole request after a 5xx or network failure (default 3). */
  retries?: number;
  /** Retries after 429s for one request (default 20): a destination that never lets us in fails. */
  rateLimitRetries?: number;
  backoff?: BackoffPolicy;
  /** A Retry-After longer than this fails the request instead of waiting (default 15 minutes). */
  maxRetryAfterMs?: number;
  clock?: Clock;
  onWait?: WaitListener;
  reportWaitsOverMs?: number;
  /** One try's longest wait for its answer (default 30 s); a timeout counts as a network failure. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /**
   * A 429 that waiting will not cure (HubSpot's daily limit): the message to fail with at once,
   * instead of retrying; undefined for an ordinary 429.
   */
  exhausted?: (answer: HttpAnswer) => string | undefined;
}

export interface PacedRequest {
  method: string;
  /** A function is called for each try (a signature over a fresh timestamp). */
  headers?: Record<string, string> | (() => Record<string, string>);
  body?: string;
  /** Safe to send twice (upsert, update, read, archive, a job poll). */
  idempotent: boolean;
  signal?: AbortSignal;
}

const DEFAULT_BACKOFF: BackoffPolicy = { backoff: 500, max_backoff: 30_000, jitter: true };

/** fetch behind the pacer, with 429, 5xx and network retries. */
export class PacedHttpClient {
  readonly pacer: SlidingWindowPacer;
  private readonly clock: Clock;
  private readonly fetchImpl: typeof fetch;
  /** Where waits go; swapped by the destination's setWaitListener after it is opened. */
  private listener: WaitListener | undefined;

  constructor(private readonly options: PacedHttpOptions) {
    this.clock = options.clock ?? systemClock;
    this.fetchImpl = options.fetch ?? fetch;
    this.listener = options.onWait;
    this.pacer = new SlidingWindowPacer(
      options.limit,
      this.clock,
      (ms, why) => this.listener?.(ms, why),
      options.reportWaitsOverMs,
    );
  }

  /** Where rate-limit, Retry-After and retry waits are reported from now on. */
  setWaitListener(listener: WaitListener | undefined): void {
    this.listener = listener;
  }

  /** Reports a wait of the adapter's own (a job poll) to the same listener. */
  reportWait(ms: number, reason: string): void {
    this.listener?.(ms, reason);
  }

  async send(url: string, request: PacedRequest): Promise<HttpAnswer> {
    const retries = this.options.retries ?? 3;
    const rateLimitRetries = this.options.rateLimitRetries ?? 20;
    const backoff = this.options.backoff ?? DEFAULT_BACKOFF;
    let failures = 0;
    let throttled = 0;
    for (;;) {
      const outcome = await this.once(url, request);
      if ('answer' in outcome && outcome.answer.status === 429) {
        const exhausted = this.options.exhausted?.(outcome.answer);
        // No retry storm: every further request would be refused the same way.
        if (exhausted !== undefined)
          throw new TributaryError(`${this.options.name}: ${exhausted}`, {
            code: 'UNAVAILABLE',
            transient: false,
            hint: 'the records sent before it are recorded; run the sync again once the limit has reset',
          });
        throttled++;
        if (throttled > rateLimitRetries)
          throw this.failure(`still rate limited (429) after ${rateLimitRetries} waits`, url);
        const wait =
          parseRetryAfter(outcome.answer.headers.get('retry-after'), this.clock.now()) ??
          backoffDelay(backoff, throttled);
        if (wait > (this.options.maxRetryAfterMs ?? 15 * 60_000))
          throw this.failure(
            `rate limited (429) with Retry-After ${Math.round(wait / 1000)} s, longer than this run waits: ${excerpt(outcome.answer.body)}`,
            url,
          );
        this.listener?.(wait, `${this.options.name}: 429 Too Many Requests, Retry-After`);
        this.pacer.pauseUntil(this.clock.now() + wait);
        continue;
      }
      const retryable =
        'answer' in outcome
          ? outcome.answer.status >= 500 && request.idempotent
          : request.idempotent || neverReachedServer(outcome.error);
      if (!retryable || failures >= retries) {
        if ('answer' in outcome) return outcome.answer;
        throw this.failure(`request failed: ${describeCause(outcome.error)}`, url, outcome.error);
      }
      failures++;
      const wait = backoffDelay(backoff, failures);
      const why =
        'answer' in outcome ? `HTTP ${outcome.answer.status}` : describeCause(outcome.error);
      this.listener?.(wait, `${this.options.name}: ${why}, retry ${failures} of ${retries}`);
      await this.clock.sleep(wait, request.signal);
    }
  }

  private async once(
    url: string,
    request: PacedRequest,
  ): Promise<{ answer: HttpAnswer } | { error: unknown }> {
    const release = await this.pacer.acquire(request.signal);
    try {
      const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 30_000);
      const response = await this.fetchImpl(url, {
        method: request.method,
        headers: typeof request.headers === 'function' ? request.headers() : request.headers,
        body: request.body,
        signal: request.signal ? AbortSignal.any([request.signal, timeout]) : timeout,
      });
      const body = await response.text();
      return { answer: { status: response.status, headers: response.headers, body } };
    } catch (error) {
      if (request.signal?.aborted) throw abortReason(request.signal);
      return { error };
    } finally {
      release();
    }
  }

  private failure(message: string, url: string, cause?: unknown): TributaryError {
    return new TributaryError(`${this.options.name}: ${message} (${new URL(url).pathname})`, {
      code: 'UNAVAILABLE',
      transient: true,
      cause,
    });
  }
}

/** What every HTTP destination's options say about its client (tributary.yml and tests). */
export interface DestinationHttpOptions {
  /** The destination's name in tributary.yml. */
  name: string;
  retries?: number;
  timeoutMs?: number;
  clock?: Clock;
  fetch?: typeof fetch;
  onWait?: WaitListener;
}

/**
 * The paced client of an HTTP destination (`hubspot destination crm`), the same for every adapter:
 * its limit, retries, timeout and clock, and a wait listener the runner can swap later.
 */
export function destinationHttp(
  type: string,
  options: DestinationHttpOptions,
  limit: RateLimit,
  exhausted?: PacedHttpOptions['exhausted'],
): PacedHttpClient {
  return new PacedHttpClient({
    exhausted,
    name: `${type} destination ${options.name}`,
    limit,
    retries: options.retries,
    timeoutMs: options.timeoutMs,
    clock: options.clock,
    fetch: options.fetch,
    onWait: options.onWait,
  });
}

/** Connection refused means nothing was sent, so even a create may be sent again. */
function neverReachedServer(error: unknown): boolean {
  return (
    isErrno(error, 'ECONNREFUSED') || isErrno((error as { cause?: unknown })?.cause, 'ECONNREFUSED')
  );
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const base = error instanceof Error ? error.message : String(error);
  return cause?.code ? `${base} (${cause.code})` : base;
}

/** The start of a response body for an error message. */
export function excerpt(body: string, max = 300): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** Throws a clear error for an answer the adapter cannot use (auth refused, 404, 400…). */
export function failedAnswer(name: string, what: string, answer: HttpAnswer): TributaryError {
  const auth = answer.status === 401 || answer.status === 403;
  return new TributaryError(
    `${name}: ${what} failed with HTTP ${answer.status}: ${excerpt(answer.body)}`,
    {
      code: auth ? 'CONFIG' : answer.status === 404 ? 'NOT_FOUND' : 'INPUT',
      hint: auth
        ? 'check the destination token (its secret reference in tributary.yml)'
        : undefined,
    },
  );
}
