/**
 * The read-only role queries on a PostgreSQL warehouse run as (dashboards, the SQL endpoint,
 * `tributary query`): a login role that may read the schemas the pipeline publishes and nothing
 * else (not Tributary's bookkeeping, not the sync state, not other schemas), whose sessions are
 * read-only and time-limited by default. Queries connect as this role, so the server enforces it;
 * no statement a query sends can leave it.
 */
import { randomBytes } from 'node:crypto';
import { TributaryError } from '../../core/errors.js';
import { quoteIdentifier, quoteString } from '../sql.js';
import type { Engine } from '../types.js';
import { lockSchemas, whenRelationsFree } from './relation-locks.js';

export interface ReadRoleOptions {
  role: string;
  /** Its password, when known (kept by the caller); a new one is set and returned otherwise. */
  password?: string;
  /**
   * Set `password` even when the role exists (the password agreed in shared state: a role a
   * replica once gave a password of its own gets the agreed one).
   */
  setPassword?: boolean;
  /** The schemas it may read: usage, SELECT on every table and view, and on future ones. */
  schemas: readonly string[];
  /** statement_timeout of its sessions (queries set a shorter one of their own). */
  maxTimeoutMs: number;
}

/**
 * Creates the role if missing (or gives it a new password when the caller has none), grants it
 * the schemas that exist among `schemas`, and returns its password. Fails with what to do when
 * the warehouse user may not create roles or grant.
 */
export async function ensureReadRole(engine: Engine, options: ReadRoleOptions): Promise<string> {
  const q = quoteIdentifier;
  const role = q(options.role);
  try {
    // One publisher at a time changes the role: two replicas altering it at once would make
    // one fail ("tuple concurrently updated"), and a role created twice would fail the second.
    const password = await engine.transaction(async (tx) => {
      await tx.lockInTransaction('tributary.read_roles');
      const exists =
        (await tx.query('SELECT 1 AS x FROM pg_roles WHERE rolname = $1', [options.role])).rows
          .length > 0;
      let chosen = options.password;
      if (!exists || !chosen || options.setPassword) {
        chosen ??= randomBytes(18).toString('base64url');
        await tx.exec(
          `${exists ? 'ALTER' : 'CREATE'} ROLE ${role} LOGIN PASSWORD ${quoteString(chosen)} NOSUPERUSER NOCREATEDB NOCREATEROLE`,
        );
      }
      await tx.exec(
        `ALTER ROLE ${role} SET default_transaction_read_only = on;
         ALTER ROLE ${role} SET statement_timeout = ${Math.floor(options.maxTimeoutMs)}`,
      );
      return chosen;
    });
    // Under the relations' locks: a GRANT meeting a run's step mid-swap would fail one of them.
    await whenRelationsFree(engine, async (tx) => {
      const { rows } = await tx.query(
        'SELECT nspname AS name FROM pg_namespace WHERE nspname = ANY($1::text[])',
        [[...options.schemas]],
      );
      await lockSchemas(
        tx,
        rows.map((r) => String(r.name)),
      );
      for (const { name } of rows) {
        const schema = q(String(name));
        await tx.exec(
          `GRANT USAGE ON SCHEMA ${schema} TO ${role};
           GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${role};
           ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT SELECT ON TABLES TO ${role}`,
        );
      }
    });
    return password;
  } catch (err) {
    if (err instanceof TributaryError) throw err;
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new TributaryError(
      `cannot set up the read-only role ${options.role} on the PostgreSQL warehouse: ${message}`,
      {
        code: 'CONFIG',
        location: { path: 'tributary.yml: warehouse.read_role' },
        hint: `the warehouse user needs CREATEROLE (or an administrator runs: CREATE ROLE ${options.role} LOGIN PASSWORD '…') and the right to grant on the model schemas; then give that role's URL as warehouse.read_url`,
        cause: err,
      },
    );
  }
}
