/**
 * Sessions, cross-site requests, security headers and the audit log, in-process (Fastify inject)
 * on a real project and state database: the cookie holds a server-side session that logout and
 * token revocation end; every state-changing route, taken from the app's own route table,
 * refuses a cookie request from another origin or with a body that is not JSON; every kind of
 * response carries the security headers; and a change is audited before its handler runs and
 * with its outcome after, refused reads and 401s included, with the token id and never a secret.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  openWorkspace,
  publishServingSnapshot,
  servingDir,
  type Workspace,
} from '../../src/orchestrator/index.js';
import {
  MUTATING_METHODS,
  QuerySandbox,
  SECURITY_HEADERS,
  SESSION_COOKIE,
  SESSION_IDLE_MS,
  SESSION_MAX_MS,
  TokenStore,
  buildApp,
  type AuditEntry,
} from '../../src/serve/index.js';
import { tempDir, writeFiles } from '../helpers.js';

const HOST = 'tributary.test:3000';
const OWN = `http://${HOST}`;
const EVIL = 'http://evil.example';

let ws: Workspace;
let app: FastifyInstance;
let sandbox: QuerySandbox;
let tokens: TokenStore;
let staticDir: string;
const token = { viewer: '', admin: '', adminId: '' };

beforeAll(async () => {
  const dir = tempDir('trib-security-');
  writeFiles(dir, { 'tributary.yml': 'name: security\n' });
  staticDir = tempDir('trib-security-web-');
  mkdirSync(join(staticDir, 'assets'));
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>t</title><div id=root>');
  writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  ws = await openWorkspace(dir, 'test');
  await publishServingSnapshot(ws);
  sandbox = new QuerySandbox({ dir: servingDir(ws) });
  tokens = await TokenStore.open(ws.state.engine);
  token.viewer = (await tokens.create('viewer', 'viewer-test')).token;
  const admin = await tokens.create('admin', 'admin-test');
  token.admin = admin.token;
  token.adminId = admin.info.id;
  app = await buildApp({ ws, tokens, sql: sandbox, version: 'test', staticDir });
  // A handler that reads the audit log and then throws: proves the entry exists before it runs.
  app.post('/api/test/throws', { config: { role: 'operator' } }, async () => {
    const seen = await tokens.audit.list(1);
    throw new Error(`boom; newest entry when the handler ran: ${JSON.stringify(seen[0])}`);
  });
  // A handler whose change takes the audit table away: its outcome then cannot be written.
  app.post('/api/test/breaks-audit', { config: { role: 'operator' } }, async () => {
    await ws.state.engine.exec('ALTER TABLE audit_log RENAME TO audit_log_away');
    return { done: true };
  });
  // A handler that waits until the test lets it go: for a client that leaves meanwhile.
  app.post('/api/test/slow', { config: { role: 'operator' } }, async () => {
    slow.entered();
    await slow.release;
    return { done: true };
  });
  await app.ready();
});

const slow = (() => {
  let entered!: () => void;
  let release!: () => void;
  return {
    reached: new Promise<void>((r) => (entered = r)),
    release: new Promise<void>((r) => (release = r)),
    entered: () => entered(),
    let: () => release(),
  };
})();

afterAll(async () => {
  await app?.close();
  await sandbox?.close();
  await ws?.close();
});

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

/** Logs in through the API as a browser on this origin would; returns the Cookie header value. */
async function login(t = token.admin): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/session',
    headers: { host: HOST, origin: OWN },
    payload: { token: t },
  });
  expect(res.statusCode, res.body).toBe(200);
  const setCookie = String(res.headers['set-cookie']);
  return setCookie.split(';')[0]!;
}

const me = (cookie: string) =>
  app.inject({ method: 'GET', url: '/api/me', headers: { host: HOST, cookie } });

async function auditEntries(): Promise<AuditEntry[]> {
  return tokens.audit.list(10_000);
}

describe('sessions', () => {
  it('the cookie holds a random session id, not the token, and only its hash is stored', async () => {
    const cookie = await login();
    const value = cookie.slice(SESSION_COOKIE.length + 1);
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(token.admin).not.toContain(value);
    const { rows } = await ws.state.engine.query('SELECT * FROM api_sessions');
    expect(JSON.stringify(rows)).not.toContain(value);
    expect((await me(cookie)).json()).toMatchObject({ name: 'admin-test', role: 'admin' });
  });

  it('sets the cookie HttpOnly, SameSite=Strict, Path=/ and not Secure over plain HTTP', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/session',
      headers: { host: HOST, origin: OWN },
      payload: { token: token.viewer },
    });
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/; HttpOnly; SameSite=Strict; Path=\//);
    expect(setCookie).not.toMatch(/Secure/);
  });

  it('logout ends the session on the server: the old cookie then gets 401', async () => {
    const cookie = await login();
    expect((await me(cookie)).statusCode).toBe(200);
    const out = await app.inject({
      method: 'DELETE',
      url: '/api/session',
      headers: { host: HOST, origin: OWN, cookie },
    });
    expect(out.statusCode).toBe(200);
    expect(String(out.headers['set-cookie'])).toMatch(/Max-Age=0/);
    const after = await me(cookie);
    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({ error: { message: /session has ended/ } });
  });

  it('refuses a cookie that holds no session it knows, malformed ones included, with 401', async () => {
    for (const value of ['%E0%A4%A', 'x'.repeat(43), 'short', token.admin]) {
      const res = await me(`${SESSION_COOKIE}=${value}`);
      expect(res.statusCode, value).toBe(401);
    }
  });

  it('revoking the token ends every session opened with it', async () => {
    const made = await tokens.create('viewer', 'short-lived');
    const cookie = await login(made.token);
    expect((await me(cookie)).statusCode).toBe(200);
    const revoked = await app.inject({
      method: 'DELETE',
      url: `/api/tokens/${made.info.id}`,
      headers: bearer(token.admin),
    });
    expect(revoked.statusCode).toBe(200);
    expect((await me(cookie)).statusCode).toBe(401);
    const { rows } = await ws.state.engine.query(
      'SELECT revoked_at FROM api_sessions WHERE token_id = $1',
      [made.info.id],
    );
    expect(rows.map((r) => r.revoked_at)).not.toContain(null);
  });

  it('a session ends after 12 hours idle and 7 days after login', async () => {
    const idle = await login();
    const old = await login();
    const ago = (ms: number) => new Date(Date.now() - ms - 1000).toISOString();
    const idHash = async (cookie: string) => {
      const { createHash } = await import('node:crypto');
      return createHash('sha256')
        .update(cookie.slice(SESSION_COOKIE.length + 1))
        .digest('hex');
    };
    await ws.state.engine.query('UPDATE api_sessions SET last_seen_at = $1 WHERE id_hash = $2', [
      ago(SESSION_IDLE_MS),
      await idHash(idle),
    ]);
    await ws.state.engine.query(
      'UPDATE api_sessions SET created_at = $1, last_seen_at = $2 WHERE id_hash = $3',
      [ago(SESSION_MAX_MS), new Date().toISOString(), await idHash(old)],
    );
    // A fresh store, so nothing it remembered from a moment ago answers instead of the database.
    const fresh = await TokenStore.open(ws.state.engine);
    const value = (cookie: string) => cookie.slice(SESSION_COOKIE.length + 1);
    expect(await fresh.checkSession(value(idle))).toMatchObject({
      ok: false,
      reason: 'session expired (idle)',
    });
    expect(await fresh.checkSession(value(old))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/older than the longest session/),
    });
  });
});

/** Every state-changing route the app registered, with its path parameters filled in. */
function stateChangingRoutes(): { method: InjectOptions['method']; url: string }[] {
  return app.routeTable
    .filter((r) => MUTATING_METHODS.has(r.method) && !r.url.startsWith('/api/test/'))
    .map((r) => ({
      method: r.method as InjectOptions['method'],
      url: r.url.replace(/:(\w+)/g, 'x_$1'),
    }));
}

describe('cross-site requests', () => {
  it('the app has state-changing routes to check, taken from its route table', () => {
    const routes = stateChangingRoutes().map((r) => `${r.method} ${r.url}`);
    // Not the list itself (that comes from the app), only that it is not empty or partial.
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /api/session',
        'DELETE /api/session',
        'POST /api/dlq/x_id/replay',
        'POST /api/tokens',
      ]),
    );
  });

  /**
   * Sends one request; returns its status and whether it got as far as its handler, which only
   * a request that passed every guard does, right after its audit entry is started.
   */
  async function attempt(options: InjectOptions): Promise<{ status: number; ran: boolean }> {
    const start = vi.spyOn(tokens.audit, 'start');
    try {
      const res = await app.inject(options);
      return { status: res.statusCode, ran: start.mock.calls.length > 0 };
    } finally {
      start.mockRestore();
    }
  }

  it('refuses a cookie request from another origin on every state-changing route', async () => {
    const cookie = await login();
    for (const r of stateChangingRoutes()) {
      const res = await app.inject({
        method: r.method,
        url: r.url,
        headers: { host: HOST, origin: EVIL, cookie },
        payload: {},
      });
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(403);
      expect(res.json()).toMatchObject({
        error: { message: `cross-site request refused: it comes from ${EVIL}, not ${OWN}` },
      });
    }
    expect((await me(cookie)).statusCode).toBe(200);
  });

  it('refuses a cookie request with no Origin, or one a browser marks cross-site', async () => {
    const cookie = await login();
    for (const r of stateChangingRoutes()) {
      for (const extra of [
        {},
        { 'sec-fetch-site': 'cross-site' },
        { 'sec-fetch-site': 'same-site' },
      ]) {
        const res = await app.inject({
          method: r.method,
          url: r.url,
          headers: { host: HOST, cookie, ...extra },
          payload: {},
        });
        expect(res.statusCode, `${r.method} ${r.url} ${JSON.stringify(extra)}`).toBe(403);
      }
    }
  });

  it('refuses a text/plain or form body on every state-changing route with 415', async () => {
    const cookie = await login();
    for (const r of stateChangingRoutes()) {
      for (const type of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
      ]) {
        const res = await app.inject({
          method: r.method,
          url: r.url,
          headers: { host: HOST, origin: OWN, cookie, 'content-type': type },
          payload: '{"token":"x","role":"viewer"}',
        });
        expect(res.statusCode, `${r.method} ${r.url} ${type}`).toBe(415);
      }
    }
    // Bearer clients too: a change's body is JSON or nothing.
    const res = await app.inject({
      method: 'POST',
      url: '/api/tokens',
      headers: { ...bearer(token.admin), 'content-type': 'text/plain' },
      payload: '{"role":"viewer"}',
    });
    expect(res.statusCode).toBe(415);
  });

  it('never runs the handler of a refused request', async () => {
    const cookie = await login();
    const tokensBefore = (await tokens.list()).length;
    for (const r of stateChangingRoutes()) {
      const evil = await attempt({
        method: r.method,
        url: r.url,
        headers: { host: HOST, origin: EVIL, cookie },
        payload: { role: 'viewer' },
      });
      expect(evil, `${r.method} ${r.url}`).toEqual({ status: 403, ran: false });
      const plain = await attempt({
        method: r.method,
        url: r.url,
        headers: { host: HOST, origin: OWN, cookie, 'content-type': 'text/plain' },
        payload: '{"role":"viewer"}',
      });
      expect(plain.ran, `${r.method} ${r.url} text/plain`).toBe(false);
    }
    expect((await tokens.list()).length).toBe(tokensBefore);
  });

  it('lets the same requests through from the UI own origin with JSON', async () => {
    for (const r of stateChangingRoutes()) {
      const cookie = await login(); // logout ends it, so one each
      const res = await app.inject({
        method: r.method,
        url: r.url,
        headers: { host: HOST, origin: OWN, cookie },
        payload: {},
      });
      expect([403, 415], `${r.method} ${r.url}: ${res.body}`).not.toContain(res.statusCode);
      const sameSite = await app.inject({
        method: r.method,
        url: r.url,
        headers: { host: HOST, 'sec-fetch-site': 'same-origin', cookie: await login() },
        payload: {},
      });
      expect([403, 415], `${r.method} ${r.url}: ${sameSite.body}`).not.toContain(
        sameSite.statusCode,
      );
    }
  });

  it('does not hold bearer-token requests (CLI, curl) to the origin rule', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/tokens',
      headers: { ...bearer(token.admin), host: HOST, origin: EVIL },
      payload: { role: 'viewer', name: 'from-a-script' },
    });
    expect(res.statusCode).toBe(201);
  });
});

/** The security headers every response carries, on one response. */
function expectHeadersOn(headers: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS))
    expect(headers[name], name).toBe(value);
}

describe('the SQL sandbox per role (docs/api.md, what each role may read)', () => {
  const ask = (headers: Record<string, string>, payload: object) =>
    app.inject({ method: 'POST', url: '/api/query', headers, payload });

  it('holds a viewer logged in with a cookie to the viewer rules, as with a bearer token', async () => {
    const cookie = await login(token.viewer);
    const asBrowser = { host: HOST, origin: OWN, cookie };
    for (const headers of [asBrowser, bearer(token.viewer)]) {
      const settings = await ask(headers, { sql: 'select * from duckdb_settings()' });
      expect(settings.statusCode).toBe(400);
      expect(settings.json()).toMatchObject({
        error: { message: expect.stringMatching(/duckdb_settings\(\).*only admin may/) },
      });
      expect(settings.body).not.toContain(ws.project.paths.lake);
      const files = await ask(headers, { sql: "select * from glob('/**')" });
      expect(files.json()).toMatchObject({
        error: { message: expect.stringMatching(/glob\(\) reads or writes files/) },
      });
      const slow = await ask(headers, { sql: 'select 1', timeoutMs: 300_000 });
      expect(slow.statusCode).toBe(400);
      expect(slow.json()).toMatchObject({
        error: { message: expect.stringMatching(/viewer role's cap of 30000 ms/) },
      });
    }
  });

  it('lets an admin see settings and ask 300 s', async () => {
    const res = await ask(bearer(token.admin), {
      sql: "select value from duckdb_settings() where name = 'allowed_directories'",
      timeoutMs: 300_000,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).toContain(ws.project.paths.lake);
  });
});

describe('security headers', () => {
  const expectHeaders = (headers: Record<string, unknown>, what: string) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS))
      expect(headers[name], `${name} on ${what}`).toBe(value);
  };

  it('are on HTML, JSON, static files, errors and refusals', async () => {
    const cases: [string, InjectOptions][] = [
      ['html', { method: 'GET', url: '/' }],
      ['spa route', { method: 'GET', url: '/dashboards' }],
      ['static', { method: 'GET', url: '/assets/app.js' }],
      ['json', { method: 'GET', url: '/api/health' }],
      ['openapi', { method: 'GET', url: '/api/openapi.json' }],
      ['401', { method: 'GET', url: '/api/me' }],
      ['404', { method: 'GET', url: '/api/nope' }],
      [
        '415',
        {
          method: 'POST',
          url: '/api/query',
          headers: { ...bearer(token.viewer), 'content-type': 'text/plain' },
          payload: 'x',
        },
      ],
      [
        '500',
        { method: 'POST', url: '/api/test/throws', headers: bearer(token.admin), payload: {} },
      ],
    ];
    for (const [what, options] of cases) {
      const res = await app.inject(options);
      expectHeaders(res.headers, `${what} (${res.statusCode})`);
    }
    const html = await app.inject({ method: 'GET', url: '/' });
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(html.headers['content-security-policy']).not.toMatch(/unsafe-eval/);
  });
});

describe('the audit log', () => {
  it('has the entry before the handler runs and its outcome after, for a handler that throws', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/test/throws',
      headers: bearer(token.admin),
      payload: { why: 'test' },
    });
    expect(res.statusCode).toBe(500);
    const seenByHandler = JSON.parse(
      /newest entry when the handler ran: (.*)$/.exec(
        res.json<{ error: { message: string } }>().error.message,
      )![1]!,
    ) as AuditEntry;
    expect(seenByHandler).toMatchObject({
      path: '/api/test/throws',
      outcome: 'started',
      status: null,
      finishedAt: null,
      tokenId: token.adminId,
      summary: '{"why":"test"}',
    });
    const after = (await auditEntries()).find((e) => e.id === seenByHandler.id)!;
    expect(after).toMatchObject({
      outcome: 'failed',
      status: 500,
      error: expect.stringMatching(/^boom/),
      credential: 'bearer',
    });
    expect(after.finishedAt).not.toBeNull();
  });

  it('records a refused read with who tried it, and does not record successful reads', async () => {
    const before = (await auditEntries()).length;
    expect(
      (await app.inject({ method: 'GET', url: '/api/catalog', headers: bearer(token.viewer) }))
        .statusCode,
    ).toBe(200);
    expect((await auditEntries()).length).toBe(before);
    const refused = await app.inject({
      method: 'GET',
      url: '/api/tokens',
      headers: bearer(token.viewer),
    });
    expect(refused.statusCode).toBe(403);
    expect((await auditEntries())[0]).toMatchObject({
      method: 'GET',
      path: '/api/tokens',
      tokenName: 'viewer-test',
      role: 'viewer',
      status: 403,
      outcome: 'refused',
      error: expect.stringMatching(/needs the admin role/),
    });
  });

  it('records which token a 401 came with, by id, and never its secret', async () => {
    const gone = await tokens.create('operator', 'gone');
    await tokens.revoke(gone.info.id);
    const wrongSecret = `trb_${token.adminId}_${'A'.repeat(43)}`;
    const unknown = `trb_zzzzzzzzzz_${'B'.repeat(43)}`;
    const cases: [string, string | null, string][] = [
      [gone.token, gone.info.id, 'revoked token'],
      [wrongSecret, token.adminId, 'wrong secret for this token id'],
      [unknown, 'zzzzzzzzzz', 'unknown token'],
      ['trb_abcdefghij_short', 'abcdefghij', 'malformed token'],
      ['not-a-token', null, 'malformed token'],
    ];
    for (const [t, id, reason] of cases) {
      const res = await app.inject({ method: 'GET', url: '/api/runs', headers: bearer(t) });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ error: { message: 'unknown or revoked token' } });
      expect((await auditEntries())[0], t).toMatchObject({
        method: 'GET',
        path: '/api/runs',
        status: 401,
        outcome: 'refused',
        tokenId: id,
        error: reason,
        credential: 'bearer',
      });
    }
    const login = await app.inject({
      method: 'POST',
      url: '/api/session',
      headers: { host: HOST, origin: OWN },
      payload: { token: gone.token },
    });
    expect(login.statusCode).toBe(401);
    expect((await auditEntries())[0]).toMatchObject({
      path: '/api/session',
      tokenId: gone.info.id,
      status: 401,
      error: 'revoked token',
      summary: '{"token":"***"}',
    });
    const all = JSON.stringify(await auditEntries());
    for (const secret of [gone.token, wrongSecret, unknown].map((t) => t.slice(15)))
      expect(all).not.toContain(secret);
  });

  it('records a login with the token it opened the session for, and a request made with the cookie', async () => {
    const cookie = await login(token.viewer);
    expect((await auditEntries())[0]).toMatchObject({
      path: '/api/session',
      method: 'POST',
      tokenName: 'viewer-test',
      status: 200,
      outcome: 'succeeded',
    });
    await app.inject({
      method: 'POST',
      url: '/api/query',
      headers: { host: HOST, origin: OWN, cookie },
      payload: { sql: 'select 42 as answer' },
    });
    expect((await auditEntries())[0]).toMatchObject({
      path: '/api/query',
      tokenName: 'viewer-test',
      credential: 'session',
      status: 200,
      outcome: 'succeeded',
      summary: '{"sql":"select 42 as answer"}',
    });
  });

  it('marks the entry aborted when the client leaves, then records how the handler ended', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/test/slow',
      headers: { ...bearer(token.admin), 'content-type': 'application/json' },
    });
    const gone = new Promise((r) => req.on('error', r));
    req.end('{}');
    await slow.reached;
    const id = (await auditEntries())[0]!.id;
    expect((await auditEntries())[0]).toMatchObject({ path: '/api/test/slow', outcome: 'started' });
    req.destroy();
    await gone;
    await expect
      .poll(async () => (await auditEntries()).find((e) => e.id === id)?.outcome)
      .toBe('aborted');
    slow.let();
    // The handler still finished; what it did is recorded when its response ends.
    await expect
      .poll(async () => (await auditEntries()).find((e) => e.id === id))
      .toMatchObject({
        outcome: 'succeeded',
        status: 200,
        error: 'the client disconnected before the response',
      });
  });

  it('refuses a change it cannot audit first, and says so on stderr and in /api/health', async () => {
    const failuresBefore = tokens.audit.failures;
    const tokensBefore = (await tokens.list()).length;
    let written = '';
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written += String(chunk);
      return true;
    });
    await ws.state.engine.exec('ALTER TABLE audit_log RENAME TO audit_log_away');
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/api/tokens',
        headers: bearer(token.admin),
        payload: { role: 'viewer', name: 'unaudited' },
      });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({
        error: { message: /audit log cannot be written, so this change was not made/ },
      });
    } finally {
      await ws.state.engine.exec('ALTER TABLE audit_log_away RENAME TO audit_log');
      stderr.mockRestore();
    }
    expect(written).toMatch(
      /audit log: could not record POST \/api\/tokens \(before it ran\): .*audit_log/,
    );
    expect((await tokens.list()).length).toBe(tokensBefore);
    expect(tokens.audit.failures).toBeGreaterThan(failuresBefore);
    const health = (await app.inject({ method: 'GET', url: '/api/health' })).json<{
      auditFailures: number;
    }>();
    expect(health.auditFailures).toBe(tokens.audit.failures);
  });

  it('answers 500 when a change ran but its outcome cannot be written, and says so on stderr', async () => {
    const failuresBefore = tokens.audit.failures;
    let written = '';
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written += String(chunk);
      return true;
    });
    let res;
    try {
      res = await app.inject({
        method: 'POST',
        url: '/api/test/breaks-audit',
        headers: bearer(token.admin),
        payload: {},
      });
    } finally {
      await ws.state.engine.exec('ALTER TABLE audit_log_away RENAME TO audit_log');
      stderr.mockRestore();
    }
    expect(res.statusCode).toBe(500);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.json()).toMatchObject({
      error: {
        code: 'INTERNAL',
        message:
          'the audit log could not record how this POST ended (200): it was carried out, but the log does not say so',
      },
    });
    expectHeadersOn(res.headers);
    expect(written).toMatch(/audit log: could not record the outcome of entry \d+: .*audit_log/);
    expect(tokens.audit.failures).toBe(failuresBefore + 1);
    // The entry written before it ran is still there, started: the log never claims an outcome.
    expect((await auditEntries()).find((e) => e.path === '/api/test/breaks-audit')).toMatchObject({
      outcome: 'started',
      status: null,
    });
  });
});
