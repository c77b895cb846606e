/**
 * Two API replicas over one shared PostgreSQL state (two workspaces, two token stores, two apps,
 * as two `serve` processes have): a token revoked through one is refused by the other on its
 * next request once the revocation's notice has arrived, although the other had just checked it
 * and holds it in its 5-second credential cache. The test waits for the notice itself (the
 * store's onForget), never for a time.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWorkspace, servingDir, type Workspace } from '../../src/orchestrator/index.js';
import { QuerySandbox, TokenStore, buildApp } from '../../src/serve/index.js';
import { tempDir, writeFiles } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { freshPostgresDatabase } from '../sync/support.js';

const available = await serviceAvailable('postgres', postgresTestUrl);
const URL_ENV = 'TRIBUTARY_TEST_REVOKE_URL';

/** `promise`, or a failure naming `what` when it has not settled in `ms` (no notice came). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

interface Replica {
  ws: Workspace;
  tokens: TokenStore;
  app: FastifyInstance;
}

describe.skipIf(!available)('revoking a token across serve replicas', () => {
  let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let dir: string;
  const replicas: Replica[] = [];

  async function replica(): Promise<Replica> {
    const ws = await openWorkspace(dir, 'serve');
    const tokens = await TokenStore.open(ws.state.engine);
    await tokens.watchRevocations();
    const sql = new QuerySandbox({ dir: servingDir(ws) });
    const app = await buildApp({ ws, tokens, sql, version: 'test' });
    const r = { ws, tokens, app };
    replicas.push(r);
    return r;
  }

  beforeAll(async () => {
    db = await freshPostgresDatabase('revoke');
    process.env[URL_ENV] = db.url;
    dir = tempDir('trib-revoke-');
    writeFiles(dir, {
      'tributary.yml': `name: revoking
state: { store: postgres, url: { env: ${URL_ENV} }, schema: state }
warehouse: { engine: postgres, url: { env: ${URL_ENV} } }
`,
      'models/a.sql': 'select 1 as n',
    });
  });

  afterAll(async () => {
    for (const r of replicas) {
      await r.app.close();
      await r.tokens.close();
      await r.ws.close();
    }
    delete process.env[URL_ENV];
    await db?.drop();
  });

  const runs = (r: Replica, token: string) =>
    r.app.inject({
      method: 'GET',
      url: '/api/runs',
      headers: { authorization: `Bearer ${token}` },
    });

  it('refuses a token on the other replica as soon as the revocation notice arrives', async () => {
    const a = await replica();
    const b = await replica();
    const admin = (await a.tokens.create('admin', 'ops')).token;
    const viewer = await a.tokens.create('viewer', 'dashboards');
    // b checks the token and caches it (for up to 5 s without a notice).
    expect((await runs(b, viewer.token)).statusCode).toBe(200);
    expect((await runs(b, viewer.token)).statusCode).toBe(200);

    const heard = new Promise<void>((resolve) => {
      const stop = b.tokens.onForget(() => {
        stop();
        resolve();
      });
    });
    const revoked = await a.app.inject({
      method: 'DELETE',
      url: `/api/tokens/${viewer.info.id}`,
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(revoked.statusCode).toBe(200);
    const started = performance.now();
    await within(heard, 4000, 'the revocation notice on the other replica');
    const noticeMs = performance.now() - started;
    const refused = await runs(b, viewer.token);
    expect(refused.statusCode, refused.body).toBe(401);
    // Delivered at the revoking transaction's commit: far inside the cache's 5 s.
    expect(noticeMs).toBeLessThan(2500);
    // The admin token, cached on b too, still works: only what is revoked is refused.
    expect((await runs(b, admin)).statusCode).toBe(200);
  });

  it('listens again after its connection is dropped, and drops the cache when it is', async () => {
    const [a, b] = replicas.length >= 2 ? replicas : [await replica(), await replica()];
    const admin = (await a!.tokens.create('admin', 'ops-2')).token;
    const viewer = await a!.tokens.create('viewer', 'second');
    expect((await runs(b!, viewer.token)).statusCode).toBe(200);
    // The server ends b's listening session (as a restart or a network cut would).
    let drops = 0;
    const lost = new Promise<void>((resolve) => {
      const stop = b!.tokens.onForget(() => {
        drops++;
        stop();
        resolve();
      });
    });
    const killed = await a!.ws.state.engine.query(
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
       WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
    );
    expect(killed.rows.length).toBeGreaterThan(0);
    await within(lost, 4000, 'the lost listening connection');
    expect(drops).toBe(1);
    // Listening again (within a second or so): a revocation on a is heard on b.
    const deadline = Date.now() + 10_000;
    let listening = 0;
    while (listening < 2 && Date.now() < deadline) {
      const { rows } = await a!.ws.state.engine.query(
        `SELECT count(*) AS n FROM pg_stat_activity
         WHERE datname = current_database() AND query LIKE 'LISTEN%'`,
      );
      listening = Number(rows[0]!.n);
      if (listening < 2) await new Promise((r) => setTimeout(r, 50));
    }
    expect(listening).toBe(2);
    expect((await runs(b!, viewer.token)).statusCode).toBe(200);
    const heard = new Promise<void>((resolve) => {
      const stop = b!.tokens.onForget(() => {
        stop();
        resolve();
      });
    });
    await a!.app.inject({
      method: 'DELETE',
      url: `/api/tokens/${viewer.info.id}`,
      headers: { authorization: `Bearer ${admin}` },
    });
    await within(heard, 4000, 'the revocation notice after listening again');
    expect((await runs(b!, viewer.token)).statusCode).toBe(401);
  });
});
