/**
 * Versioned migrations of the state database. Every store kept there (run history, dead letters,
 * tokens, the audit log, sync history) numbers its own migrations; `schema_migrations` records
 * which of each store's versions are applied, with a checksum of their SQL. Opening a store
 * applies what is missing, in order, each version in a transaction that first takes the
 * database's migration lock (an advisory lock on PostgreSQL), so two processes starting on a
 * fresh shared schema at once apply each version once and neither fails.
 *
 * A state file from before versions were recorded holds tables made by the same statements as
 * each store's version 1 (every one `IF NOT EXISTS`, or a fix that finds nothing to fix), so
 * version 1 runs over it harmlessly and is recorded: the file upgrades like any other.
 */
import { createHash } from 'node:crypto';
import { TributaryError } from '../core/index.js';
import type { Engine } from '../engines/index.js';

export interface Migration {
  /** 1, 2, 3…: applied in this order, each once. */
  version: number;
  /** What it does, for `schema_migrations` and messages. */
  name: string;
  /** Portable SQL (DuckDB and PostgreSQL), one statement each, run in order. */
  statements: readonly string[];
  /**
   * Work SQL alone cannot say (a fix that depends on what an old file holds), run after the
   * statements in the same transaction. It must be safe to run on a database it already fixed.
   */
  run?: (tx: Engine) => Promise<void>;
}

export interface AppliedMigration {
  store: string;
  version: number;
  name: string;
  appliedAt: string;
  checksum: string;
}

const VERSIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  store TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL,
  checksum TEXT NOT NULL, PRIMARY KEY (store, version))`;

/** The lock every store's migrations take, so one process at a time changes the schema. */
const LOCK_KEY = 'tributary.state.schema_migrations';

/** SHA-256 of a migration's statements (whitespace runs folded, so reformatting is no change). */
export function migrationChecksum(migration: Migration): string {
  const text = migration.statements.map((s) => s.replace(/\s+/g, ' ').trim()).join(';\n');
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

function checkList(store: string, migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`${store} migrations must be numbered 1, 2, 3… (found ${m.version} at ${i})`);
  });
}

/**
 * Applies a store's missing migrations in order, each in its own transaction under the migration
 * lock (DuckDB cannot change a table's columns and its rows in one transaction, so a data fix
 * follows the DDL it needs as the next version); returns the versions it applied (none when the
 * schema was current). Refuses a database whose recorded versions this code does not know
 * (written by a newer Tributary) or whose checksums differ from this code's.
 */
export async function migrate(
  engine: Engine,
  store: string,
  migrations: readonly Migration[],
): Promise<number[]> {
  checkList(store, migrations);
  const done: number[] = [];
  for (;;) {
    const version = await engine.transaction((tx) => applyNext(tx, store, migrations));
    if (version === undefined) return done;
    done.push(version);
  }
}

/** Under the lock: checks what is recorded and applies the first missing migration, if any. */
async function applyNext(
  tx: Engine,
  store: string,
  migrations: readonly Migration[],
): Promise<number | undefined> {
  await tx.lockInTransaction(LOCK_KEY);
  await tx.exec(VERSIONS_TABLE);
  const { rows } = await tx.query(
    `SELECT version, name, checksum FROM schema_migrations WHERE store = $1 ORDER BY version`,
    [store],
  );
  const applied = new Set<number>();
  for (const row of rows) {
    const version = Number(row.version);
    const known = migrations[version - 1];
    if (!known)
      throw new TributaryError(
        `the state database's ${store} tables are at version ${Number(rows[rows.length - 1]!.version)}, newer than this Tributary knows (${migrations.length})`,
        {
          code: 'STATE',
          hint: 'upgrade Tributary on this machine: every process sharing a state must run the same version or newer',
        },
      );
    if (String(row.checksum) !== migrationChecksum(known))
      throw new TributaryError(
        `the state database's ${store} migration ${version} (${String(row.name)}) differs from this Tributary's`,
        { code: 'STATE', hint: 'an applied migration must never change: add a new one instead' },
      );
    applied.add(version);
  }
  const next = migrations.find((m) => !applied.has(m.version));
  if (!next) return undefined;
  for (const sql of next.statements) await tx.exec(sql);
  if (next.run) await next.run(tx);
  await tx.query(
    `INSERT INTO schema_migrations (store, version, name, applied_at, checksum)
     VALUES ($1, $2, $3, $4, $5)`,
    [store, next.version, next.name, new Date().toISOString(), migrationChecksum(next)],
  );
  return next.version;
}

/** Every applied migration of every store, in order. */
export async function appliedMigrations(engine: Engine): Promise<AppliedMigration[]> {
  const tables = await engine.describe(undefined, 'schema_migrations');
  if (!tables) return [];
  const { rows } = await engine.query(
    `SELECT store, version, name, applied_at, checksum FROM schema_migrations ORDER BY store, version`,
  );
  return rows.map((r) => ({
    store: String(r.store),
    version: Number(r.version),
    name: String(r.name),
    appliedAt: String(r.applied_at),
    checksum: String(r.checksum),
  }));
}
