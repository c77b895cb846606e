/**
 * A state database written before server tokens, sessions and audit outcomes existed opens as
 * it is: the admin tokens earlier servers left (named `local cli (pid N)`) become server tokens,
 * which the next start revokes; old audit entries get ids and outcomes, and new ones follow.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDuckDB, type Engine } from '../../src/engines/index.js';
import { TokenStore } from '../../src/serve/index.js';
import { tempDir } from '../helpers.js';

let engine: Engine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

/** The tables as the first release made them, with a leftover server token and one entry. */
async function oldStateFile(): Promise<Engine> {
  const db = await openDuckDB({ path: join(tempDir('trib-auth-old-'), 'state.duckdb') });
  await db.exec(`CREATE TABLE api_tokens (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, secret_hash TEXT NOT NULL,
     created_at TEXT NOT NULL, last_used_at TEXT, revoked_at TEXT)`);
  await db.exec(`CREATE TABLE audit_log (
     logged_at TEXT NOT NULL, token_id TEXT, token_name TEXT, role TEXT, method TEXT NOT NULL,
     path TEXT NOT NULL, summary TEXT NOT NULL, status INTEGER NOT NULL)`);
  await db.exec(`INSERT INTO api_tokens VALUES
     ('aaaaaaaaaa', 'local cli (pid 4242)', 'admin', 'x', '2026-01-01T00:00:00Z', NULL, NULL),
     ('bbbbbbbbbb', 'alice', 'viewer', 'y', '2026-01-01T00:00:01Z', NULL, NULL),
     ('cccccccccc', 'local cli (pid 4242) copy', 'admin', 'z', '2026-01-01T00:00:02Z', NULL, NULL)`);
  await db.exec(`INSERT INTO audit_log VALUES
     ('2026-01-01T00:00:00Z', 'bbbbbbbbbb', 'alice', 'viewer', 'POST', '/api/query', '{}', 200),
     ('2026-01-01T00:00:01Z', 'bbbbbbbbbb', 'alice', 'viewer', 'POST', '/api/runs', '{}', 403)`);
  return db;
}

describe('a state database from before sessions and server tokens', () => {
  it('marks tokens named like an earlier server as server tokens, which the next start revokes', async () => {
    engine = await oldStateFile();
    const tokens = await TokenStore.open(engine);
    const kinds = Object.fromEntries((await tokens.list()).map((t) => [t.name, t.kind]));
    expect(kinds).toEqual({
      'local cli (pid 4242)': 'server',
      alice: 'user',
      'local cli (pid 4242) copy': 'user',
    });
    const created = await tokens.rotateServerToken('local cli (pid 1)');
    const byName = Object.fromEntries((await tokens.list()).map((t) => [t.name, t]));
    expect(byName['local cli (pid 4242)']!.revokedAt).not.toBeNull();
    expect(byName.alice!.revokedAt).toBeNull();
    expect(byName['local cli (pid 1)']).toMatchObject({ kind: 'server', revokedAt: null });
    expect((await tokens.check(created.token)).ok).toBe(true);
  });

  it('gives old audit entries ids and outcomes, and writes new ones after them', async () => {
    engine = await oldStateFile();
    const tokens = await TokenStore.open(engine);
    const id = await tokens.audit.start({
      tokenId: null,
      tokenName: null,
      role: null,
      credential: null,
      method: 'POST',
      path: '/api/session',
      summary: '',
    });
    const entries = await tokens.audit.list();
    expect(entries.map((e) => [e.path, e.status, e.outcome])).toEqual([
      ['/api/session', null, 'started'],
      ['/api/runs', 403, 'refused'],
      ['/api/query', 200, 'succeeded'],
    ]);
    expect(entries[0]!.id).toBe(id);
    // Opening again changes nothing.
    await TokenStore.open(engine);
    expect(await tokens.audit.list()).toEqual(entries);
  });
});
