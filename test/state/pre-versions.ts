/**
 * What every state store ran on each open before migrations were versioned (commit 2b17f45,
 * copied verbatim): the old code path, so a test can make a state file exactly as that release
 * left it and open it with today's stores.
 */
import type { Engine } from '../../src/engines/index.js';

const OLD_STATE = [
  `CREATE TABLE IF NOT EXISTS runs (
     run_id TEXT PRIMARY KEY, command TEXT NOT NULL, status TEXT NOT NULL,
     started_at TEXT NOT NULL, finished_at TEXT)`,
  `CREATE TABLE IF NOT EXISTS steps (
     run_id TEXT NOT NULL, asset TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,
     started_at TEXT NOT NULL, finished_at TEXT, rows_in BIGINT, rows_out BIGINT,
     rows_rejected BIGINT, message TEXT, PRIMARY KEY (run_id, asset))`,
  `CREATE TABLE IF NOT EXISTS catalog_tables (
     zone TEXT NOT NULL, name TEXT NOT NULL, location TEXT NOT NULL, format TEXT NOT NULL,
     columns TEXT NOT NULL, row_count BIGINT, partitions TEXT NOT NULL,
     schema_version INTEGER NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (zone, name))`,
  `CREATE TABLE IF NOT EXISTS schema_versions (
     zone TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL, columns TEXT NOT NULL,
     fingerprint TEXT NOT NULL, recorded_at TEXT NOT NULL, PRIMARY KEY (zone, name, version))`,
  `CREATE TABLE IF NOT EXISTS asset_versions (
     asset TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, updated_at TEXT NOT NULL)`,
  // Orchestration (added after the first release: columns come by ALTER so old state files open).
  `ALTER TABLE runs ADD COLUMN IF NOT EXISTS plan TEXT`,
  `ALTER TABLE runs ADD COLUMN IF NOT EXISTS resumed_from TEXT`,
  `ALTER TABLE runs ADD COLUMN IF NOT EXISTS trigger TEXT`,
  `ALTER TABLE steps ADD COLUMN IF NOT EXISTS attempts INTEGER`,
  `CREATE TABLE IF NOT EXISTS step_logs (
     run_id TEXT NOT NULL, asset TEXT NOT NULL, seq INTEGER NOT NULL, logged_at TEXT NOT NULL,
     line TEXT NOT NULL, PRIMARY KEY (run_id, asset, seq))`,
  `CREATE TABLE IF NOT EXISTS partitions (
     asset TEXT NOT NULL, partition_key TEXT NOT NULL, status TEXT NOT NULL, run_id TEXT NOT NULL,
     updated_at TEXT NOT NULL, message TEXT, PRIMARY KEY (asset, partition_key))`,
  `CREATE TABLE IF NOT EXISTS schedule_ticks (
     schedule TEXT PRIMARY KEY, last_tick TEXT NOT NULL, updated_at TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS freshness_breaches (
     asset TEXT PRIMARY KEY, breached_at TEXT NOT NULL, last_updated TEXT)`,
];

const OLD_DEAD_LETTERS = [
  `CREATE TABLE IF NOT EXISTS dead_letters (
     id TEXT PRIMARY KEY, kind TEXT NOT NULL, source TEXT NOT NULL, payload TEXT NOT NULL,
     error TEXT NOT NULL, attempts INTEGER NOT NULL, first_seen TEXT NOT NULL,
     last_seen TEXT NOT NULL, status TEXT NOT NULL, replayed_at TEXT, dedupe_key TEXT)`,
];

const OLD_TOKENS = [
  `CREATE TABLE IF NOT EXISTS api_tokens (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, secret_hash TEXT NOT NULL,
     created_at TEXT NOT NULL, last_used_at TEXT, revoked_at TEXT)`,
  // Added with server-token rotation; the server's tokens used to be told only by their name.
  `ALTER TABLE api_tokens ADD COLUMN IF NOT EXISTS kind TEXT DEFAULT 'user'`,
  `UPDATE api_tokens SET kind = 'server' WHERE kind = 'user' AND regexp_full_match(name, 'local cli \\(pid [0-9]+\\)')`,
  // Added with producer keys: the SigV4 access key id and the secret it signs with.
  `ALTER TABLE api_tokens ADD COLUMN IF NOT EXISTS access_key_id TEXT`,
  `ALTER TABLE api_tokens ADD COLUMN IF NOT EXISTS secret_key TEXT`,
  `CREATE TABLE IF NOT EXISTS api_sessions (
     id_hash TEXT PRIMARY KEY, token_id TEXT NOT NULL, created_at TEXT NOT NULL,
     last_seen_at TEXT NOT NULL, revoked_at TEXT)`,
];

const OLD_AUDIT = [
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
];

const OLD_SYNC_RUNS = [
  `CREATE TABLE IF NOT EXISTS sync_runs (
     sync TEXT NOT NULL, run_id TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
     status TEXT NOT NULL, dry_run BOOLEAN NOT NULL, full_resync BOOLEAN NOT NULL,
     inserted BIGINT NOT NULL, updated BIGINT NOT NULL, deleted BIGINT NOT NULL,
     rejected BIGINT NOT NULL, unchanged BIGINT NOT NULL, failed_share DOUBLE PRECISION NOT NULL,
     message TEXT NOT NULL, PRIMARY KEY (sync, run_id))`,
];

/** The audit log's open of that time: nullable status, then ids and outcomes for old entries. */
async function oldAuditOpen(engine: Engine): Promise<void> {
  for (const sql of OLD_AUDIT) await engine.exec(sql);
  const { rows } = await engine.query(
    `SELECT is_nullable FROM information_schema.columns
     WHERE table_name = 'audit_log' AND column_name = 'status'`,
  );
  if (rows[0]?.is_nullable === 'NO')
    await engine.exec(`ALTER TABLE audit_log ALTER COLUMN status DROP NOT NULL`);
  const { rows: old } = await engine.query(
    `SELECT count(*) AS n FROM audit_log WHERE id IS NULL OR outcome IS NULL`,
  );
  if (Number(old[0]?.n ?? 0) > 0) {
    await engine.exec(`UPDATE audit_log SET id = nextval('audit_log_ids') WHERE id IS NULL`);
    await engine.exec(`UPDATE audit_log SET outcome = CASE WHEN status < 400 THEN 'succeeded'
       WHEN status IN (401, 403) THEN 'refused' ELSE 'failed' END WHERE outcome IS NULL`);
  }
}

/** Opens every store the way the release before versions did (a workspace, then `serve`). */
export async function openAsBeforeVersions(engine: Engine): Promise<void> {
  for (const sql of [...OLD_STATE, ...OLD_DEAD_LETTERS, ...OLD_TOKENS]) await engine.exec(sql);
  await oldAuditOpen(engine);
  for (const sql of OLD_SYNC_RUNS) await engine.exec(sql);
}
