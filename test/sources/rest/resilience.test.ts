/**
 * Resilience: retries with exponential backoff and full jitter that honour Retry-After, a
 * per-request timeout, a token-bucket rate limit, and clear errors for answers that are not
 * JSON. A run that fails lands nothing and leaves the cursor where it was. Time is a fake clock
 * wherever waiting is involved, so nothing here depends on how fast the machine is.
 */
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/core/index.js';
import { parseRetryAfter } from '../../../src/sources/index.js';
import { FakeClock, ids, lake, reply, restTable, startApi } from './harness.js';

const table = (url: string, extra: Record<string, unknown> = {}, tableExtra = {}) =>
  restTable({ base_url: url, tables: { items: { path: '/items', ...tableExtra } }, ...extra });

/** An API that fails the first `n` requests with `fail`, then serves three records. */
function flaky(n: number, fail: Parameters<typeof startApi>[0]): Parameters<typeof startApi>[0] {
  return (url, req, res, i) => (i <= n ? fail(url, req, res, i) : ids(1, 4));
}

describe('REST retries and limits', () => {
  it('waits the seconds Retry-After gives on a 429, then lands the page', async () => {
    const api = await startApi(
      flaky(1, (_u, _r, res) => reply(res, 429, '{}', { 'retry-after': '7' })),
    );
    const clock = new FakeClock();
    const l = lake();
    await l.land(table(api.url), { clock });
    expect(clock.sleeps).toEqual([7000]);
    expect(await l.records()).toEqual(ids(1, 4));
  });

  it('waits until the HTTP date Retry-After gives on a 503', async () => {
    const at = new Date(Date.now() + 60_000).toUTCString();
    const api = await startApi(
      flaky(1, (_u, _r, res) => reply(res, 503, '', { 'retry-after': at })),
    );
    const clock = new FakeClock();
    await lake().land(table(api.url), { clock });
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThan(55_000);
    expect(clock.sleeps[0]).toBeLessThanOrEqual(60_000);
  });

  it('reads Retry-After as delta seconds or an HTTP date, and ignores anything else', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('retries 500, 502 and 504, then lands the page', async () => {
    const codes = [500, 502, 504];
    const api = await startApi(flaky(3, (_u, _r, res, i) => reply(res, codes[i - 1]!, 'oops')));
    const l = lake();
    await l.land(table(api.url), { clock: new FakeClock() });
    expect(api.requests).toHaveLength(4);
    expect(await l.records()).toEqual(ids(1, 4));
    expect(l.logs[0]).toMatch(
      /answered 500 Internal Server Error; retrying in \d+ ms \(attempt 2 of 5\)/,
    );
  });

  it('retries a connection the server drops', async () => {
    const api = await startApi(flaky(1, (_u, req) => void req.socket.destroy()));
    const l = lake();
    await l.land(table(api.url), { clock: new FakeClock() });
    expect(await l.records()).toEqual(ids(1, 4));
  });

  it('backs off exponentially with full jitter, capped at max_backoff_ms', async () => {
    const api = await startApi(flaky(5, (_u, _r, res) => reply(res, 500, '')));
    const clock = new FakeClock(0.5);
    await lake().land(
      table(api.url, { retries: { attempts: 6, backoff_ms: 100, max_backoff_ms: 500 } }),
      { clock },
    );
    // random() = 0.5 of the caps 100, 200, 400, 500 (capped), 500.
    expect(clock.sleeps).toEqual([50, 100, 200, 250, 250]);
  });

  it('gives up after the configured attempts, naming endpoint, status and body, landing nothing', async () => {
    const api = await startApi((_u, _r, res) =>
      reply(res, 503, '{"error":"maintenance until 5pm"}'),
    );
    const l = lake();
    const err = (await l
      .land(table(api.url, { retries: { attempts: 3 } }), { clock: new FakeClock() })
      .catch((e: unknown) => e)) as TributaryError;
    expect(err).toBeInstanceOf(TributaryError);
    expect(err.message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/items answered 503 Service Unavailable after 3 attempts: \{"error":"maintenance until 5pm"\}$/,
    );
    expect(err.location?.path).toBe('sources.api.tables.items');
    expect(api.requests).toHaveLength(3);
    expect(await l.manifest()).toBeUndefined();
  });

  it('does not retry a client error such as 400', async () => {
    const api = await startApi((_u, _r, res) => reply(res, 400, 'bad param'));
    await expect(lake().land(table(api.url), { clock: new FakeClock() })).rejects.toThrow(
      /answered 400 Bad Request: bad param/,
    );
    expect(api.requests).toHaveLength(1);
  });

  it('abandons a request that takes longer than timeout_ms', async () => {
    const api = await startApi(() => new Promise(() => undefined));
    await expect(
      lake().land(table(api.url, { timeout_ms: 100, retries: { attempts: 2 } }), {
        clock: new FakeClock(),
      }),
    ).rejects.toThrow(/failed after 2 attempts: no answer within 100 ms/);
    expect(api.requests).toHaveLength(2);
  });

  it('spaces requests by the rate limit (a token bucket on the injected clock)', async () => {
    const clock = new FakeClock();
    const api = await startApi((url) => {
      const page = Number(url.searchParams.get('page'));
      return page <= 4 ? [{ id: page }] : [];
    }, clock);
    await lake().land(
      table(api.url, { rate_limit: { requests_per_second: 4 } }, { paginate: { type: 'page' } }),
      { clock },
    );
    expect(api.requests.map((r) => r.at)).toEqual([0, 250, 500, 750, 1000]);
  });

  it('does not wait for the rate limit when requests are already far enough apart', async () => {
    const clock = new FakeClock();
    const api = await startApi((url) => {
      clock.time += 1000; // each answer takes a (fake) second
      const page = Number(url.searchParams.get('page'));
      return page <= 2 ? [{ id: page }] : [];
    }, clock);
    await lake().land(
      table(api.url, { rate_limit: { requests_per_second: 2 } }, { paginate: { type: 'page' } }),
      { clock },
    );
    expect(clock.sleeps).toEqual([]);
  });
});

describe('REST answers that are not JSON', () => {
  it('fails on an HTML page, naming the endpoint and status and quoting the page', async () => {
    const api = await startApi((_u, _r, res) =>
      reply(res, 200, '<!DOCTYPE html><html><title>Sign in</title></html>', {
        'content-type': 'text/html; charset=utf-8',
      }),
    );
    const l = lake();
    const err = (await l.land(table(api.url)).catch((e: unknown) => e)) as TributaryError;
    expect(err.message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/items answered HTML instead of JSON \(status 200, text\/html; charset=utf-8\): <!DOCTYPE html><html><title>Sign in/,
    );
    expect(err.hint).toContain('base_url');
    expect(await l.manifest()).toBeUndefined();
  });

  it('fails on malformed JSON, quoting the body', async () => {
    const api = await startApi((_u, _r, res) => reply(res, 200, "{'id': 1}"));
    await expect(lake().land(table(api.url))).rejects.toThrow(
      /GET http:\/\/127\.0\.0\.1:\d+\/items answered malformed JSON \(status 200, 9 characters: .*\): \{'id': 1\}/,
    );
  });

  it('fails on truncated JSON on a later page, landing nothing of the earlier pages', async () => {
    const api = await startApi((url, _r, res) => {
      const page = Number(url.searchParams.get('page'));
      return page === 3 ? reply(res, 200, '[{"id": 21}, {"id"') : ids(page * 10 - 9, page * 10 + 1);
    });
    const l = lake();
    const err = (await l
      .land(table(api.url, {}, { paginate: { type: 'page' } }))
      .catch((e: unknown) => e)) as TributaryError;
    expect(err.message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/items\?page=3 answered malformed JSON .*the body may be truncated\): \[\{"id": 21\}, \{"id"$/,
    );
    expect(api.requests).toHaveLength(3);
    expect(await l.manifest()).toBeUndefined();
  });
});
