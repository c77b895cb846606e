/**
 * The audit log of the HTTP API, in the state database. A request that changes something gets
 * its entry before its handler runs (outcome `started`) and its status and outcome after, so a
 * request that takes the process down still leaves its entry; the next `serve` start marks such
 * entries `interrupted`. Refused requests (401, 403) are recorded whatever their method, with the
 * id of the token they came with when it was well-formed: never its secret.
 */
import type { Engine } from '../engines/index.js';
import { migrate, type Migration } from '../state/index.js';

/** How a request ended, as far as the audit log knows. */
export type AuditOutcome =
  'started' | 'succeeded' | 'refused' | 'failed' | 'aborted' | 'interrupted';

export interface AuditEntry {
  id: string;
  /** When the request was recorded: before its handler ran, for a change. */
  at: string;
  finishedAt: string | null;
  tokenId: string | null;
  tokenName: string | null;
  role: string | null;
  /** How the request authenticated: `bearer` (Authorization header) or `session` (cookie). */
  credential: string | null;
  method: string;
  path: string;
  summary: string;
  /** The HTTP status; null while started, and when no response was sent. */
  status: number | null;
  outcome: AuditOutcome;
  /** Why it failed or was refused (an error's code and message), when it did. */
  error: string | null;
}

/** What is known of a request when it is first recorded. */
export type AuditStart = Pick<
  AuditEntry,
  'tokenId' | 'tokenName' | 'role' | 'credential' | 'method' | 'path' | 'summary'
>;

/** How a request ended. */
export interface AuditEnd {
  status: number | null;
  outcome: AuditOutcome;
  error: string | null;
}

/** The outcome a response status means. */
export function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return 'succeeded';
  return status === 401 || status === 403 ? 'refused' : 'failed';
}

/**
 * Versions 1 and 2 are what each open ran before versions were recorded (migrations.ts), with
 * the fixes an audit log of the first release needs: `status` nullable (a started entry has none
 * yet), entries numbered and given their outcome.
 */
export const AUDIT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'audit_log',
    statements: [
      `CREATE SEQUENCE IF NOT EXISTS audit_log_ids`,
      `CREATE TABLE IF NOT EXISTS audit_log (
         logged_at TEXT NOT NULL, token_id TEXT, token_name TEXT, role TEXT, method TEXT NOT NULL,
         path TEXT NOT NULL, summary TEXT NOT NULL, status INTEGER)`,
      // Columns added when entries began to be written before their request ran.
      `ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS id BIGINT`,
      `ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS finished_at TEXT`,
      `ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS credential TEXT`,
      `ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS outcome TEXT`,
      `ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS error TEXT`,
    ],
    run: async (tx) => {
      const { rows } = await tx.query(
        `SELECT is_nullable FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = 'audit_log' AND column_name = 'status'`,
      );
      if (rows[0]?.is_nullable === 'NO')
        await tx.exec(`ALTER TABLE audit_log ALTER COLUMN status DROP NOT NULL`);
    },
  },
  {
    version: 2,
    name: 'ids and outcomes of entries from before them',
    statements: [
      `UPDATE audit_log SET id = nextval('audit_log_ids') WHERE id IS NULL`,
      `UPDATE audit_log SET outcome = CASE WHEN status < 400 THEN 'succeeded'
         WHEN status IN (401, 403) THEN 'refused' ELSE 'failed' END WHERE outcome IS NULL`,
    ],
  },
];

const text = (v: unknown) => (v == null ? null : String(v));

export class AuditLog {
  /** Entries that could not be written since the process started. */
  failures = 0;

  private constructor(
    private readonly engine: Engine,
    private readonly report: (message: string) => void,
  ) {}

  /** Opens the audit log of a state database, creating or updating its table. */
  static async open(
    engine: Engine,
    report = (message: string) => process.stderr.write(`${new Date().toISOString()} ${message}\n`),
  ): Promise<AuditLog> {
    await migrate(engine, 'audit', AUDIT_MIGRATIONS);
    return new AuditLog(engine, report);
  }

  /** Records a request before it runs; returns the entry's id. Throws when it cannot be written. */
  async start(entry: AuditStart): Promise<string> {
    try {
      return await this.insert(entry, { status: null, outcome: 'started', error: null });
    } catch (err) {
      throw this.failed(err, `${entry.method} ${entry.path} (before it ran)`);
    }
  }

  /**
   * Records how a started request ended, and who made it when that became known while it ran
   * (a login). A failure is reported and counted, not thrown: it returns false, and the caller
   * decides what the client is told.
   */
  async finish(id: string, end: AuditEnd, who?: AuditStart): Promise<boolean> {
    try {
      await this.engine.query(
        `UPDATE audit_log SET status = $1, outcome = $2, error = $3, finished_at = $4,
           token_id = coalesce($5, token_id), token_name = coalesce($6, token_name),
           role = coalesce($7, role)
         WHERE id = $8`,
        [
          end.status,
          end.outcome,
          end.error?.slice(0, 2000) ?? null,
          new Date().toISOString(),
          who?.tokenId ?? null,
          who?.tokenName ?? null,
          who?.role ?? null,
          id,
        ],
      );
      return true;
    } catch (err) {
      this.failed(err, `the outcome of entry ${id}`);
      return false;
    }
  }

  /** Records a request that was not started (refused before its handler); never throws. */
  async record(entry: AuditStart, end: AuditEnd): Promise<void> {
    try {
      await this.insert(entry, end);
    } catch (err) {
      this.failed(err, `${entry.method} ${entry.path}`);
    }
  }

  /** Marks entries a stopped process left `started` as `interrupted`; returns how many. */
  async closeInterrupted(): Promise<number> {
    const { rows } = await this.engine.query(
      `UPDATE audit_log SET outcome = 'interrupted', error = $1 WHERE outcome = 'started' RETURNING id`,
      ['the server process ended before this request finished'],
    );
    return rows.length;
  }

  /** The newest entries first. */
  async list(limit = 100): Promise<AuditEntry[]> {
    const { rows } = await this.engine.query(
      `SELECT * FROM audit_log ORDER BY id DESC LIMIT ${Math.max(1, Math.floor(limit))}`,
    );
    return rows.map((r) => ({
      id: String(r.id),
      at: String(r.logged_at),
      finishedAt: text(r.finished_at),
      tokenId: text(r.token_id),
      tokenName: text(r.token_name),
      role: text(r.role),
      credential: text(r.credential),
      method: String(r.method),
      path: String(r.path),
      summary: String(r.summary),
      status: r.status == null ? null : Number(r.status),
      outcome: String(r.outcome) as AuditOutcome,
      error: text(r.error),
    }));
  }

  private async insert(entry: AuditStart, end: AuditEnd): Promise<string> {
    const now = new Date().toISOString();
    const { rows } = await this.engine.query(
      `INSERT INTO audit_log (id, logged_at, token_id, token_name, role, credential, method, path,
         summary, status, outcome, error, finished_at)
       VALUES (nextval('audit_log_ids'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       RETURNING id`,
      [
        now,
        entry.tokenId,
        entry.tokenName,
        entry.role,
        entry.credential,
        entry.method,
        entry.path.slice(0, 2000),
        entry.summary.slice(0, 2000),
        end.status,
        end.outcome,
        end.error?.slice(0, 2000) ?? null,
        end.outcome === 'started' ? null : now,
      ],
    );
    return String(rows[0]!.id);
  }

  private failed(err: unknown, what: string): Error {
    this.failures++;
    const message = err instanceof Error ? err.message : String(err);
    this.report(`audit log: could not record ${what}: ${message} (${this.failures} so far)`);
    return err instanceof Error ? err : new Error(message);
  }
}
