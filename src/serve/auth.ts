/**
 * API tokens and browser sessions, kept in the state database. A token is `trb_<id>_<secret>`:
 * the id finds the row, and only a SHA-256 of the 256-bit random secret is stored (a secret that
 * random needs no slow hash; the comparison is constant-time). Roles are ordered: viewer reads,
 * operator also runs and replays, admin also manages tokens. A token is a user's (made with
 * `tributary token create`) or the server's own (the admin token `serve` leaves in server.json
 * for this machine's CLI): a starting server revokes every earlier server token, so one that a
 * killed process could not revoke dies at the next start.
 *
 * A producer key (`tributary token create --role producer`) only sends events to the collector:
 * it is a SigV4 access key id (`TRBP…`) and secret for the Kinesis and Firehose SDKs, and the same
 * secret as a bearer token (`trb_<id>_<secret>`) for POST /api/events. SigV4 needs the secret
 * itself to recompute each request's HMAC, so a producer's secret is kept in the state database
 * as AWS keeps secret access keys (anyone who can read the state database can read it); its hash
 * is kept too. A producer token opens nothing in the API or the web UI: `check` refuses it.
 *
 * A session is what the web UI's cookie holds instead of the token: a random 256-bit id of which
 * only the hash is stored, bound to the token it was opened with. It ends at logout, after
 * SESSION_IDLE_MS without use, SESSION_MAX_MS after login, or when its token is revoked.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { TributaryError } from '../core/index.js';
import type { Engine } from '../engines/index.js';
import { migrate, type Migration } from '../state/index.js';
import { AuditLog } from './audit.js';

export type Role = 'viewer' | 'operator' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];
/** Every role a token may have: the API's, and producer (sends events, nothing else). */
export type TokenRole = Role | 'producer';
export const TOKEN_ROLES: readonly TokenRole[] = [...ROLES, 'producer'];
const RANK: Record<TokenRole, number> = { producer: 0, viewer: 1, operator: 2, admin: 3 };

/** Whether `role` may do what `needed` may (a producer may do nothing the API guards). */
export const allows = (role: TokenRole, needed: Role) => RANK[role] >= RANK[needed];

/** Whose a token is: a user's, or the running server's own (for the local CLI). */
export type TokenKind = 'user' | 'server';

export interface TokenInfo {
  id: string;
  name: string;
  role: Role;
  kind: TokenKind;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** A token as listed: a producer's also carries its access key id (never the secret). */
export interface TokenEntry extends Omit<TokenInfo, 'role'> {
  role: TokenRole;
  accessKeyId?: string;
}

/** A producer key as created: shown once. */
export interface ProducerKey {
  info: TokenEntry;
  /** The bearer token for POST /api/events. */
  token: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** A credential's check: its holder, or why it was refused and which token it named. */
export type CredentialCheck =
  { ok: true; info: TokenInfo } | { ok: false; reason: string; tokenId: string | null };

/** A session ends after this long without a request (12 hours). */
export const SESSION_IDLE_MS = 12 * 3600_000;
/** A session ends this long after login, used or not (7 days). */
export const SESSION_MAX_MS = 7 * 24 * 3600_000;

/** Versions 1 and 2 are what each open ran before versions were recorded (migrations.ts). */
export const TOKEN_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'api_tokens, api_sessions',
    statements: [
      `CREATE TABLE IF NOT EXISTS api_tokens (
         id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, secret_hash TEXT NOT NULL,
         created_at TEXT NOT NULL, last_used_at TEXT, revoked_at TEXT)`,
      // Added with server-token rotation (the data fix is version 2).
      `ALTER TABLE api_tokens ADD COLUMN IF NOT EXISTS kind TEXT DEFAULT 'user'`,
      // Added with producer keys: the SigV4 access key id and the secret it signs with.
      `ALTER TABLE api_tokens ADD COLUMN IF NOT EXISTS access_key_id TEXT`,
      `ALTER TABLE api_tokens ADD COLUMN IF NOT EXISTS secret_key TEXT`,
      `CREATE TABLE IF NOT EXISTS api_sessions (
         id_hash TEXT PRIMARY KEY, token_id TEXT NOT NULL, created_at TEXT NOT NULL,
         last_seen_at TEXT NOT NULL, revoked_at TEXT)`,
    ],
  },
  {
    version: 2,
    name: 'server tokens of before token kinds',
    statements: [
      // The server's tokens used to be told only by their name. (`~` with both anchors is a
      // whole-string match in DuckDB and PostgreSQL alike.)
      `UPDATE api_tokens SET kind = 'server' WHERE kind = 'user' AND name ~ '^local cli \\(pid [0-9]+\\)$'`,
    ],
  },
];

const hash = (secret: string) => createHash('sha256').update(secret).digest();
const TOKEN = /^trb_([a-z0-9]{10})_([A-Za-z0-9_-]{43})$/;
const TOKEN_ID = /^trb_([a-z0-9]{10})_/;
const SESSION = /^[A-Za-z0-9_-]{43}$/;
const TOKEN_COLUMNS = 'id, name, role, kind, created_at, last_used_at, revoked_at, access_key_id';
const ACCESS_KEY_ID = /^TRBP[A-Z0-9]{10}$/;

const toInfo = (r: Record<string, unknown>): TokenInfo => ({
  id: String(r.id),
  name: String(r.name),
  role: r.role as Role,
  kind: r.kind === 'server' ? 'server' : 'user',
  createdAt: String(r.created_at),
  lastUsedAt: r.last_used_at == null ? null : String(r.last_used_at),
  revokedAt: r.revoked_at == null ? null : String(r.revoked_at),
});

const toEntry = (r: Record<string, unknown>): TokenEntry => {
  const { role: _role, ...rest } = toInfo(r);
  return {
    ...rest,
    role: r.role as TokenRole,
    ...(r.access_key_id == null ? {} : { accessKeyId: String(r.access_key_id) }),
  };
};

/**
 * Checked credentials are remembered this long, so a busy API does not read the database per
 * request. Replicas sharing a PostgreSQL state also forget them when any of them revokes a
 * credential (watchRevocations); this is the bound when that notice cannot arrive.
 */
const CACHE_MS = 5_000;
/** The state database's notice channel for revocations, logouts and server-token rotations. */
const REVOCATIONS = 'tokens/revoked';
/** Last use of a token or session is written at most this often. */
const TOUCH_MS = 60_000;

export class TokenStore {
  private readonly verified = new Map<string, { info: TokenInfo; until: number }>();
  private readonly sessionsSeen = new Map<string, { info: TokenInfo; until: number }>();
  private readonly touched = new Map<string, number>();
  private readonly producerSecrets = new Map<
    string,
    { secret: string | undefined; until: number }
  >();
  private readonly verifiedProducers = new Map<string, number>();
  /** Listening for other replicas' revocations (watchRevocations). */
  private listening: { close(): Promise<void> } | undefined;
  private readonly forgotten = new Set<() => void>();

  private constructor(
    private readonly engine: Engine,
    /** The audit log, kept in the same database. */
    readonly audit: AuditLog,
  ) {}

  /** Opens the tokens, sessions and audit log of a state database, creating or updating tables. */
  static async open(engine: Engine): Promise<TokenStore> {
    await migrate(engine, 'tokens', TOKEN_MIGRATIONS);
    return new TokenStore(engine, await AuditLog.open(engine));
  }

  /**
   * Shared state (several `serve` replicas): forgets every cached credential whenever any
   * process revokes one, ends a session or rotates the server token (a notice through the state
   * database, sent in the revoking transaction), so a revoked token is refused everywhere from
   * the moment the notice arrives, not up to CACHE_MS later. While the listening connection is
   * down, the cache is dropped at each loss and CACHE_MS bounds the rest. Close to stop.
   */
  async watchRevocations(): Promise<void> {
    this.listening ??= await this.engine.listen(REVOCATIONS, () => this.forget());
  }

  /** Calls `fn` each time the cache is dropped (a revocation here or elsewhere); for tests. */
  onForget(fn: () => void): () => void {
    this.forgotten.add(fn);
    return () => this.forgotten.delete(fn);
  }

  /** Stops watching revocations (the tables stay open with the state's engine). */
  async close(): Promise<void> {
    await this.listening?.close();
    this.listening = undefined;
  }

  /** Creates a user's token; the returned secret is shown once and never stored. */
  create(role: Role, name?: string): Promise<{ info: TokenInfo; token: string }> {
    return this.insert(this.engine, role, name, 'user');
  }

  private async insert(
    engine: Engine,
    role: Role,
    name: string | undefined,
    kind: TokenKind,
  ): Promise<{ info: TokenInfo; token: string }> {
    if (!ROLES.includes(role)) {
      throw new TributaryError(`unknown role ${role}`, {
        code: 'USAGE',
        hint: `one of ${ROLES.join(', ')}`,
      });
    }
    const id = randomBytes(5).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const now = new Date().toISOString();
    const label = name?.trim() || `${role}-${id}`;
    await engine.query(
      `INSERT INTO api_tokens (id, name, role, kind, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [id, label, role, kind, hash(secret).toString('hex'), now],
    );
    return {
      info: { id, name: label, role, kind, createdAt: now, lastUsedAt: null, revokedAt: null },
      token: `trb_${id}_${secret}`,
    };
  }

  /**
   * Creates a producer key: an access key id and secret for SigV4 (the Kinesis and Firehose
   * SDKs) and the same secret as a bearer token for POST /api/events; shown once. The secret is
   * stored so the collector can verify signatures with it (see the file comment).
   */
  async createProducer(name?: string): Promise<ProducerKey> {
    const id = randomBytes(5).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const accessKeyId = `TRBP${id.toUpperCase()}`;
    const now = new Date().toISOString();
    const label = name?.trim() || `producer-${id}`;
    await this.engine.query(
      `INSERT INTO api_tokens (id, name, role, kind, secret_hash, created_at, access_key_id, secret_key)
       VALUES ($1, $2, 'producer', 'user', $3, $4, $5, $6)`,
      [id, label, hash(secret).toString('hex'), now, accessKeyId, secret],
    );
    const info: TokenEntry = {
      id,
      name: label,
      role: 'producer',
      kind: 'user',
      createdAt: now,
      lastUsedAt: null,
      revokedAt: null,
      accessKeyId,
    };
    return { info, token: `trb_${id}_${secret}`, accessKeyId, secretAccessKey: secret };
  }

  /** The secret of an active producer's access key id, for SigV4; undefined when there is none. */
  async producerSecret(accessKeyId: string): Promise<string | undefined> {
    const now = Date.now();
    const cached = this.producerSecrets.get(accessKeyId);
    if (cached && cached.until > now) return cached.secret;
    if (!ACCESS_KEY_ID.test(accessKeyId)) return undefined;
    const { rows } = await this.engine.query(
      `SELECT id, secret_key FROM api_tokens
       WHERE access_key_id = $1 AND role = 'producer' AND revoked_at IS NULL`,
      [accessKeyId],
    );
    const row = rows[0];
    const secret = row?.secret_key == null ? undefined : String(row.secret_key);
    if (this.producerSecrets.size > 10_000) this.producerSecrets.clear();
    this.producerSecrets.set(accessKeyId, { secret, until: now + CACHE_MS });
    if (row) await this.touch('api_tokens', 'last_used_at', 'id', String(row.id), now);
    return secret;
  }

  /** Checks a producer's bearer token (POST /api/events): true, or why it is refused. */
  async checkProducer(token: string): Promise<true | string> {
    const now = Date.now();
    const cached = this.verifiedProducers.get(token);
    if (cached !== undefined && cached > now) return true;
    const m = TOKEN.exec(token);
    if (!m) return 'malformed token';
    const { rows } = await this.engine.query(
      `SELECT role, secret_hash, revoked_at FROM api_tokens WHERE id = $1`,
      [m[1]!],
    );
    const row = rows[0];
    if (!row) return 'unknown token';
    const expected = Buffer.from(String(row.secret_hash), 'hex');
    const given = hash(m[2]!);
    if (expected.length !== given.length || !timingSafeEqual(expected, given))
      return 'wrong secret for this token id';
    if (row.revoked_at != null) return 'revoked token';
    if (row.role !== 'producer')
      return `a ${String(row.role)} token cannot send events; make a producer key with \`tributary token create --role producer\``;
    if (this.verifiedProducers.size > 10_000) this.verifiedProducers.clear();
    this.verifiedProducers.set(token, now + CACHE_MS);
    await this.touch('api_tokens', 'last_used_at', 'id', m[1]!, now);
    return true;
  }

  /** Every token, revoked ones included, oldest first (never their secrets). */
  async list(): Promise<TokenEntry[]> {
    const { rows } = await this.engine.query(
      `SELECT ${TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at`,
    );
    return rows.map(toEntry);
  }

  /** Revokes a token and ends every session opened with it. */
  async revoke(id: string): Promise<TokenEntry> {
    const now = new Date().toISOString();
    const rows = await this.engine.transaction(async (tx) => {
      const { rows } = await tx.query(
        `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL
         RETURNING ${TOKEN_COLUMNS}`,
        [now, id],
      );
      await tx.query(
        `UPDATE api_sessions SET revoked_at = $1 WHERE token_id = $2 AND revoked_at IS NULL`,
        [now, id],
      );
      await tx.notify(REVOCATIONS, id);
      return rows;
    });
    this.forget();
    if (!rows.length) {
      throw new TributaryError(`no active token ${id}`, {
        code: 'NOT_FOUND',
        hint: '`tributary token list` shows tokens',
      });
    }
    return toEntry(rows[0]!);
  }

  /**
   * Revokes every earlier server token (and its sessions) and creates a new admin one, in one
   * transaction: what `serve` does on every start, so a token a killed server left behind in
   * server.json stops working.
   */
  async rotateServerToken(name: string): Promise<{ info: TokenInfo; token: string }> {
    const now = new Date().toISOString();
    const created = await this.engine.transaction(async (tx) => {
      await tx.query(
        `UPDATE api_sessions SET revoked_at = $1 WHERE revoked_at IS NULL
           AND token_id IN (SELECT id FROM api_tokens WHERE kind = 'server')`,
        [now],
      );
      await tx.query(
        `UPDATE api_tokens SET revoked_at = $1 WHERE kind = 'server' AND revoked_at IS NULL`,
        [now],
      );
      await tx.notify(REVOCATIONS, 'server');
      return this.insert(tx, 'admin', name, 'server');
    });
    this.forget();
    return created;
  }

  /**
   * Checks a token. A refusal says why (for the audit log, not the caller) and carries the id
   * of a well-formed token: never its secret.
   */
  async check(token: string): Promise<CredentialCheck> {
    const now = Date.now();
    const cached = this.verified.get(token);
    if (cached && cached.until > now) return { ok: true, info: cached.info };
    const m = TOKEN.exec(token);
    if (!m) {
      const id = TOKEN_ID.exec(token)?.[1] ?? null;
      return { ok: false, reason: 'malformed token', tokenId: id };
    }
    const tokenId = m[1]!;
    const { rows } = await this.engine.query(
      `SELECT ${TOKEN_COLUMNS}, secret_hash FROM api_tokens WHERE id = $1`,
      [tokenId],
    );
    const row = rows[0];
    if (!row) return { ok: false, reason: 'unknown token', tokenId };
    const expected = Buffer.from(String(row.secret_hash), 'hex');
    const given = hash(m[2]!);
    if (expected.length !== given.length || !timingSafeEqual(expected, given))
      return { ok: false, reason: 'wrong secret for this token id', tokenId };
    if (row.revoked_at != null) return { ok: false, reason: 'revoked token', tokenId };
    if (row.role === 'producer')
      return { ok: false, reason: 'a producer key only sends events (the collector)', tokenId };
    const info = toInfo(row);
    this.verified.set(token, { info, until: now + CACHE_MS });
    await this.touch('api_tokens', 'last_used_at', 'id', info.id, now);
    return { ok: true, info };
  }

  /** Opens a session for a checked token; returns the id the cookie holds (shown once). */
  async createSession(info: TokenInfo): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    const now = new Date();
    // Sessions past their end are dropped here: logins are rare, and nothing else reads them.
    await this.engine.query(
      `DELETE FROM api_sessions WHERE revoked_at IS NOT NULL OR created_at < $1 OR last_seen_at < $2`,
      [
        new Date(now.getTime() - SESSION_MAX_MS).toISOString(),
        new Date(now.getTime() - SESSION_IDLE_MS).toISOString(),
      ],
    );
    await this.engine.query(
      `INSERT INTO api_sessions (id_hash, token_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)`,
      [hash(id).toString('hex'), info.id, now.toISOString()],
    );
    return id;
  }

  /** The holder of a session cookie, or why it is refused. */
  async checkSession(sessionId: string): Promise<CredentialCheck> {
    const now = Date.now();
    const cached = this.sessionsSeen.get(sessionId);
    if (cached && cached.until > now) return { ok: true, info: cached.info };
    if (!SESSION.test(sessionId)) return { ok: false, reason: 'malformed session', tokenId: null };
    const idHash = hash(sessionId).toString('hex');
    const { rows } = await this.engine.query(
      `SELECT s.created_at AS session_created, s.last_seen_at, s.revoked_at AS session_revoked,
              t.id, t.name, t.role, t.kind, t.created_at, t.last_used_at, t.revoked_at
       FROM api_sessions s JOIN api_tokens t ON t.id = s.token_id WHERE s.id_hash = $1`,
      [idHash],
    );
    const row = rows[0];
    if (!row) return { ok: false, reason: 'unknown session', tokenId: null };
    const tokenId = String(row.id);
    const refused = (reason: string): CredentialCheck => ({ ok: false, reason, tokenId });
    if (row.session_revoked != null) return refused('session ended by logout or revocation');
    if (row.revoked_at != null) return refused('revoked token behind the session');
    if (Date.parse(String(row.session_created)) + SESSION_MAX_MS <= now)
      return refused('session expired (older than the longest session)');
    if (Date.parse(String(row.last_seen_at)) + SESSION_IDLE_MS <= now)
      return refused('session expired (idle)');
    const info = toInfo(row);
    this.sessionsSeen.set(sessionId, { info, until: now + CACHE_MS });
    await this.touch('api_sessions', 'last_seen_at', 'id_hash', idHash, now);
    return { ok: true, info };
  }

  /** Ends a session (logout); a no-op for one that is unknown or already ended. */
  async endSession(sessionId: string): Promise<void> {
    this.sessionsSeen.delete(sessionId);
    await this.engine.transaction(async (tx) => {
      await tx.query(
        `UPDATE api_sessions SET revoked_at = $1 WHERE id_hash = $2 AND revoked_at IS NULL`,
        [new Date().toISOString(), hash(sessionId).toString('hex')],
      );
      await tx.notify(REVOCATIONS, 'session');
    });
  }

  /** Records use at most once a minute per credential. */
  private async touch(table: string, column: string, key: string, value: string, now: number) {
    const at = `${table}:${value}`;
    if ((this.touched.get(at) ?? 0) >= now - TOUCH_MS) return;
    this.touched.set(at, now);
    await this.engine.query(`UPDATE ${table} SET ${column} = $1 WHERE ${key} = $2`, [
      new Date(now).toISOString(),
      value,
    ]);
  }

  private forget(): void {
    this.verified.clear();
    this.sessionsSeen.clear();
    this.producerSecrets.clear();
    this.verifiedProducers.clear();
    for (const fn of this.forgotten) fn();
  }
}
