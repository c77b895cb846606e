/**
 * Authentication: each style sends its secret the way the API expects, secrets come from env vars
 * or files at run time, and no message Tributary prints ever contains one.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TributaryError } from '../../../src/core/index.js';
import { tempDir } from '../../helpers.js';
import { FakeClock, lake, reply, restTable, startApi } from './harness.js';

const TOKEN = 'tok_s3cr3t+/=value';
afterEach(() => {
  delete process.env.TRIB_TEST_TOKEN;
});

const source = (url: string, auth: unknown, extra: Record<string, unknown> = {}) =>
  restTable({ base_url: url, auth, tables: { items: { path: '/items' } }, ...extra });

describe('REST authentication', () => {
  it('sends a bearer token read from an environment variable', async () => {
    process.env.TRIB_TEST_TOKEN = TOKEN;
    const api = await startApi(() => [{ id: 1 }]);
    await lake().land(source(api.url, { type: 'bearer', token: { env: 'TRIB_TEST_TOKEN' } }));
    expect(api.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('sends basic credentials read from secret files, without their trailing newline', async () => {
    const dir = tempDir('trib-secrets-');
    writeFileSync(join(dir, 'user'), 'ann\n');
    writeFileSync(join(dir, 'pass'), `${TOKEN}\n`);
    const api = await startApi(() => [{ id: 1 }]);
    await lake().land({
      ...source(api.url, { type: 'basic', username: { file: 'user' }, password: { file: 'pass' } }),
      dir,
    });
    const expected = Buffer.from(`ann:${TOKEN}`).toString('base64');
    expect(api.requests[0]!.headers.authorization).toBe(`Basic ${expected}`);
  });

  it('sends an API key in the header it names', async () => {
    process.env.TRIB_TEST_TOKEN = TOKEN;
    const api = await startApi(() => [{ id: 1 }]);
    await lake().land(
      source(api.url, { type: 'api_key', name: 'X-Api-Key', key: { env: 'TRIB_TEST_TOKEN' } }),
    );
    expect(api.requests[0]!.headers['x-api-key']).toBe(TOKEN);
  });

  it('sends an API key in the query string, on every page', async () => {
    process.env.TRIB_TEST_TOKEN = TOKEN;
    const api = await startApi((url) => (url.searchParams.get('page') === '1' ? [{ id: 1 }] : []));
    await lake().land(
      restTable({
        base_url: api.url,
        auth: { type: 'api_key', name: 'apikey', in: 'query', key: { env: 'TRIB_TEST_TOKEN' } },
        tables: { items: { path: '/items', paginate: { type: 'page' } } },
      }),
    );
    expect(api.requests.map((r) => r.url.searchParams.get('apikey'))).toEqual([TOKEN, TOKEN]);
  });

  it('fails with a config error naming the variable when a secret env var is not set', async () => {
    const api = await startApi(() => []);
    const err = (await lake()
      .land(source(api.url, { type: 'bearer', token: { env: 'TRIB_TEST_TOKEN' } }))
      .catch((e: unknown) => e)) as TributaryError;
    expect(err.code).toBe('CONFIG');
    expect(err.message).toBe('environment variable TRIB_TEST_TOKEN is not set');
    expect(err.location?.path).toBe('sources.api.auth.token');
    expect(api.requests).toHaveLength(0);
  });

  it("never puts the token in a failing request's error, even when the API echoes it", async () => {
    process.env.TRIB_TEST_TOKEN = TOKEN;
    const api = await startApi((_url, req, res) =>
      reply(
        res,
        401,
        JSON.stringify({ error: `bad key ${req.headers['x-key']}`, ...{ q: TOKEN } }),
      ),
    );
    const err = (await lake()
      .land(source(api.url, { type: 'api_key', name: 'x-key', key: { env: 'TRIB_TEST_TOKEN' } }))
      .catch((e: unknown) => e)) as TributaryError;
    expect(err.message).toContain('answered 401 Unauthorized');
    expect(err.message).toContain('bad key ***');
    expect(err.format()).not.toContain(TOKEN);
    expect(err.format()).not.toContain(encodeURIComponent(TOKEN));
  });

  it('shows an API key sent in the query string as *** in errors and retry logs', async () => {
    process.env.TRIB_TEST_TOKEN = TOKEN;
    const api = await startApi((_url, _req, res) => reply(res, 503, 'down'));
    const l = lake();
    const err = (await l
      .land(
        source(
          api.url,
          { type: 'api_key', name: 'apikey', in: 'query', key: { env: 'TRIB_TEST_TOKEN' } },
          { retries: { attempts: 3 } },
        ),
        { clock: new FakeClock() },
      )
      .catch((e: unknown) => e)) as TributaryError;
    expect(err.message).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/items\?apikey=\*\*\* answered 503/);
    expect(l.logs).toHaveLength(2);
    for (const text of [err.format(), ...l.logs]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(encodeURIComponent(TOKEN));
    }
  });
});
