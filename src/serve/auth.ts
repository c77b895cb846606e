/**
 * API tokens and the audit log, kept in the state database. A token is `trb_<id>_<secret>`: the
 * id finds the row, and only a SHA-256 of the 256-bit random secret is stored (a secret that
 * random needs no slow hash; the comparison is constant-time). Roles are ordered: viewer reads,
 * operator also runs and replays, admin also manages tokens.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { TributaryError } from '../core/index.js';
import type { Engine } from '../engines/index.js';

export type Role = 'viewer' | 'operator' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];
const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/** Whether `role` may do what `needed` may. */
export const allows = (role: Role, needed: Role) => RANK[role] >= RANK[needed];

export interface TokenInfo {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface AuditEntry {
  at: string;
  tokenId: string | null;
  tokenName: string | null;
  role: string | null;
  method: string;
  path: string;
  summary: string;
  status: number;
}

const MIGRATIONS = [
  `CREATE TABLE IF NOT EXISTS api_tokens (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, secret_hash TEXT NOT NULL,
     created_at TEXT NOT NULL, last_used_at TEXT, revoked_at TEXT)`,
  `CREATE TABLE IF NOT EXISTS audit_log (
     logged_at TEXT NOT NULL, token_id TEXT, token_name TEXT, role TEXT, method TEXT NOT NULL,
     path TEXT NOT NULL, summary TEXT NOT NULL, status INTEGER NOT NULL)`,
];

const hash = (secret: string) => createHash('sha256').update(secret).digest();
const TOKEN = /^trb_([a-z0-9]{10})_([A-Za-z0-9_-]{43})$/;

const toInfo = (r: Record<string, unknown>): TokenInfo => ({
  id: String(r.id),
  name: String(r.name),
  role: r.role as Role,
  createdAt: String(r.created_at),
  lastUsedAt: r.last_used_at == null ? null : String(r.last_used_at),
  revokedAt: r.revoked_at == null ? null : String(r.revoked_at),
});

export class TokenStore {
  /** Tokens checked recently, so a busy API does not read the state database per request. */
  private readonly verified = new Map<string, { info: TokenInfo; until: number }>();
  private lastUseWrites = new Map<string, number>();

  private constructor(private readonly engine: Engine) {}

  static async open(engine: Engine): Promise<TokenStore> {
    for (const sql of MIGRATIONS) await engine.exec(sql);
    return new TokenStore(engine);
  }

  /** Creates a token; the returned secret is shown once and never stored. */
  async create(role: Role, name?: string): Promise<{ info: TokenInfo; token: string }> {
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
    await this.engine.query(
      `INSERT INTO api_tokens (id, name, role, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
      [id, label, role, hash(secret).toString('hex'), now],
    );
    return {
      info: { id, name: label, role, createdAt: now, lastUsedAt: null, revokedAt: null },
      token: `trb_${id}_${secret}`,
    };
  }

  async list(): Promise<TokenInfo[]> {
    const { rows } = await this.engine.query(
      `SELECT id, name, role, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY created_at`,
    );
    return rows.map(toInfo);
  }

  async revoke(id: string): Promise<TokenInfo> {
    const { rows } = await this.engine.query(
      `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL
       RETURNING id, name, role, created_at, last_used_at, revoked_at`,
      [new Date().toISOString(), id],
    );
    this.verified.clear();
    if (!rows.length) {
      throw new TributaryError(`no active token ${id}`, {
        code: 'USAGE',
        hint: '`tributary token list` shows tokens',
      });
    }
    return toInfo(rows[0]!);
  }

  /** The token's holder, or undefined for a malformed, unknown or revoked token. */
  async verify(token: string): Promise<TokenInfo | undefined> {
    const now = Date.now();
    const cached = this.verified.get(token);
    if (cached && cached.until > now) return cached.info;
    const m = TOKEN.exec(token);
    if (!m) return undefined;
    const { rows } = await this.engine.query(
      `SELECT id, name, role, secret_hash, created_at, last_used_at, revoked_at FROM api_tokens WHERE id = $1`,
      [m[1]],
    );
    const row = rows[0];
    if (!row || row.revoked_at != null) return undefined;
    const expected = Buffer.from(String(row.secret_hash), 'hex');
    const given = hash(m[2]!);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    const info = toInfo(row);
    this.verified.set(token, { info, until: now + 5_000 });
    // Last use is recorded at most once a minute per token.
    if ((this.lastUseWrites.get(info.id) ?? 0) < now - 60_000) {
      this.lastUseWrites.set(info.id, now);
      await this.engine.query(`UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, [
        new Date(now).toISOString(),
        info.id,
      ]);
    }
    return info;
  }

  async audit(entry: Omit<AuditEntry, 'at'>): Promise<void> {
    await this.engine.query(
      `INSERT INTO audit_log (logged_at, token_id, token_name, role, method, path, summary, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        new Date().toISOString(),
        entry.tokenId,
        entry.tokenName,
        entry.role,
        entry.method,
        entry.path,
        entry.summary.slice(0, 2000),
        entry.status,
      ],
    );
  }

  async auditLog(limit = 100): Promise<AuditEntry[]> {
    const { rows } = await this.engine.query(
      `SELECT * FROM audit_log ORDER BY logged_at DESC LIMIT ${Math.max(1, Math.floor(limit))}`,
    );
    return rows.map((r) => ({
      at: String(r.logged_at),
      tokenId: r.token_id == null ? null : String(r.token_id),
      tokenName: r.token_name == null ? null : String(r.token_name),
      role: r.role == null ? null : String(r.role),
      method: String(r.method),
      path: String(r.path),
      summary: String(r.summary),
      status: Number(r.status),
    }));
  }
}
