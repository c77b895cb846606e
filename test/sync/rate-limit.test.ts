/**
 * The pacer and the paced HTTP client with a fake clock: sleeping advances the clock instead of
 * waiting, so the tests check the schedule (no burst over the limit, Retry-After obeyed, bounded
 * retries) without timing anything.
 */
import { describe, expect, it } from 'vitest';
import {
  PacedHttpClient,
  SlidingWindowPacer,
  parseRetryAfter,
  type Clock,
} from '../../src/sync/rate-limit.js';

class FakeClock implements Clock {
  time = 1_700_000_000_000;
  sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.sleeps.push(ms);
    this.time += ms;
    return Promise.resolve();
  }
}

/** Most starts inside any window of `perMs` (the server's sliding count). */
function busiestWindow(starts: number[], perMs: number): number {
  let most = 0;
  for (let i = 0; i < starts.length; i++) {
    let n = 0;
    for (const t of starts) if (t >= starts[i]! && t < starts[i]! + perMs) n++;
    most = Math.max(most, n);
  }
  return most;
}

describe('SlidingWindowPacer', () => {
  it('never lets more than N requests into any window, and waits only as long as needed', async () => {
    const clock = new FakeClock();
    const pacer = new SlidingWindowPacer({ requests: 3, perMs: 1000 }, clock);
    const starts: number[] = [];
    for (let i = 0; i < 10; i++) {
      const release = await pacer.acquire();
      starts.push(clock.now());
      clock.time += 10; // the request takes 10 ms
      release();
    }
    expect(busiestWindow(starts, 1000)).toBe(3);
    // Three go at once, then each window reopens a full window after the answers arrived.
    expect(starts.slice(0, 3).map((t) => t - starts[0]!)).toEqual([0, 10, 20]);
    expect(starts[3]! - starts[0]!).toBe(1010);
    expect(starts.at(-1)! - starts[0]!).toBe(3030);
  });

  it('holds a slot while its request is in flight and hands it on when it is released', async () => {
    const clock = new FakeClock();
    const pacer = new SlidingWindowPacer({ requests: 1, perMs: 100 }, clock);
    const first = await pacer.acquire();
    let second = false;
    const next = pacer.acquire().then((release) => {
      second = true;
      return release;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(second).toBe(false);
    clock.time += 40;
    first();
    (await next)();
    expect(second).toBe(true);
    expect(clock.sleeps).toEqual([100]);
  });

  it('pauses every caller until a Retry-After has passed', async () => {
    const clock = new FakeClock();
    const waits: [number, string][] = [];
    const pacer = new SlidingWindowPacer({ requests: 100, perMs: 1000 }, clock, (ms, why) =>
      waits.push([ms, why]),
    );
    pacer.pauseUntil(clock.now() + 7000);
    const start = clock.now();
    (await pacer.acquire())();
    expect(clock.now() - start).toBe(7000);
    expect(waits[0]![1]).toMatch(/Retry-After/);
  });

  it('stops waiting when the signal aborts', async () => {
    const clock = new FakeClock();
    const pacer = new SlidingWindowPacer({ requests: 1, perMs: 1000 }, clock);
    await pacer.acquire(); // never released: the slot stays busy
    const controller = new AbortController();
    const waiting = pacer.acquire(controller.signal);
    controller.abort(new Error('stopped by the user'));
    await expect(waiting).rejects.toThrow('stopped by the user');
  });

  it('refuses a limit that allows nothing', () => {
    expect(() => new SlidingWindowPacer({ requests: 0, perMs: 1000 })).toThrow(/at least 1/);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('10', now)).toBe(10_000);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

/** A fetch that answers from a script, recording when each call came. */
function scriptedFetch(clock: FakeClock, answers: (Response | Error)[]) {
  const calls: number[] = [];
  const impl = ((): Promise<Response> => {
    calls.push(clock.now());
    const next = answers.shift();
    if (!next) throw new Error('no more scripted answers');
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  }) as unknown as typeof fetch;
  return { impl, calls };
}

describe('PacedHttpClient', () => {
  const limit = { requests: 10, perMs: 1000 };
  const backoff = { backoff: 100, max_backoff: 1000, jitter: false };

  it('waits out a 429 with Retry-After in seconds and sends the same request again', async () => {
    const clock = new FakeClock();
    const { impl, calls } = scriptedFetch(clock, [
      new Response('{"status":"error","policyName":"TEN_SECONDLY_ROLLING"}', {
        status: 429,
        headers: { 'retry-after': '3' },
      }),
      new Response('{"ok":true}', { status: 200 }),
    ]);
    const waits: string[] = [];
    const client = new PacedHttpClient({
      name: 'crm',
      limit,
      clock,
      fetch: impl,
      backoff,
      onWait: (_ms, why) => waits.push(why),
    });
    const answer = await client.send('http://x/y', { method: 'POST', idempotent: true });
    expect(answer.status).toBe(200);
    expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(3000);
    expect(waits.some((w) => w.includes('429'))).toBe(true);
  });

  it('retries 5xx a bounded number of times with backoff, then returns the last answer', async () => {
    const clock = new FakeClock();
    const { impl, calls } = scriptedFetch(
      clock,
      Array.from({ length: 4 }, () => new Response('down', { status: 503 })),
    );
    const client = new PacedHttpClient({
      name: 'crm',
      limit,
      clock,
      fetch: impl,
      backoff,
      retries: 3,
    });
    const answer = await client.send('http://x/y', { method: 'POST', idempotent: true });
    expect(answer.status).toBe(503);
    expect(calls).toHaveLength(4);
    expect(clock.sleeps.filter((s) => s >= 100)).toEqual([100, 200, 400]);
  });

  it('does not resend a non-idempotent request after a network failure, and names the destination', async () => {
    const clock = new FakeClock();
    const { impl, calls } = scriptedFetch(clock, [
      Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } }),
    ]);
    const client = new PacedHttpClient({
      name: 'hubspot destination crm',
      limit,
      clock,
      fetch: impl,
    });
    await expect(
      client.send('http://x/crm/v3/objects/contacts/batch/create', {
        method: 'POST',
        idempotent: false,
      }),
    ).rejects.toThrow(/hubspot destination crm: request failed: fetch failed \(ECONNRESET\)/);
    expect(calls).toHaveLength(1);
  });

  it('retries a connection refused even for a create (nothing reached the server)', async () => {
    const clock = new FakeClock();
    const { impl, calls } = scriptedFetch(clock, [
      Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }),
      new Response('{}', { status: 201 }),
    ]);
    const client = new PacedHttpClient({ name: 'crm', limit, clock, fetch: impl, backoff });
    expect((await client.send('http://x/y', { method: 'POST', idempotent: false })).status).toBe(
      201,
    );
    expect(calls).toHaveLength(2);
  });

  it('fails instead of waiting for a Retry-After longer than the run allows', async () => {
    const clock = new FakeClock();
    const { impl } = scriptedFetch(clock, [
      new Response('{"policyName":"DAILY"}', { status: 429, headers: { 'retry-after': '86400' } }),
    ]);
    const client = new PacedHttpClient({ name: 'crm', limit, clock, fetch: impl });
    await expect(client.send('http://x/y', { method: 'GET', idempotent: true })).rejects.toThrow(
      /Retry-After 86400 s/,
    );
  });
});
