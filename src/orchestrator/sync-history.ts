/**
 * Sync run history: one row per run of a sync (counts by operation, rejected records, failed
 * share), in the state database beside runs and dead letters, so `tributary syncs`, the API and
 * the UI show each sync's last run and history. Portable SQL, so a DuckDB file and a shared
 * PostgreSQL hold the same table. (The per-key diff state lives in the warehouse: sync/state.ts.)
 */
import type { Engine, Row } from '../engines/index.js';
import { migrate, type Migration } from '../state/index.js';

export type SyncRunStatus = 'succeeded' | 'failed';

export interface SyncRunRecord {
  sync: string;
  runId: string;
  startedAt: string;
  finishedAt: string;
  status: SyncRunStatus;
  dryRun: boolean;
  fullResync: boolean;
  inserted: number;
  updated: number;
  deleted: number;
  rejected: number;
  unchanged: number;
  /** rejected / records sent. */
  failedShare: number;
  message: string;
}

export const SYNC_HISTORY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'sync_runs',
    statements: [
      `CREATE TABLE IF NOT EXISTS sync_runs (
     sync TEXT NOT NULL, run_id TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
     status TEXT NOT NULL, dry_run BOOLEAN NOT NULL, full_resync BOOLEAN NOT NULL,
     inserted BIGINT NOT NULL, updated BIGINT NOT NULL, deleted BIGINT NOT NULL,
     rejected BIGINT NOT NULL, unchanged BIGINT NOT NULL, failed_share DOUBLE PRECISION NOT NULL,
     message TEXT NOT NULL, PRIMARY KEY (sync, run_id))`,
    ],
  },
];

function toRecord(r: Row): SyncRunRecord {
  return {
    sync: String(r.sync),
    runId: String(r.run_id),
    startedAt: String(r.started_at),
    finishedAt: String(r.finished_at),
    status: String(r.status) as SyncRunStatus,
    dryRun: Boolean(r.dry_run),
    fullResync: Boolean(r.full_resync),
    inserted: Number(r.inserted),
    updated: Number(r.updated),
    deleted: Number(r.deleted),
    rejected: Number(r.rejected),
    unchanged: Number(r.unchanged),
    failedShare: Number(r.failed_share),
    message: String(r.message),
  };
}

/** The sync_runs table over the state database's engine. */
export class SyncHistory {
  private constructor(private readonly engine: Engine) {}

  /** Opens the history on an engine, applying its missing migrations. */
  static async open(engine: Engine): Promise<SyncHistory> {
    await migrate(engine, 'sync_runs', SYNC_HISTORY_MIGRATIONS);
    return new SyncHistory(engine);
  }

  /** Records one run of a sync (a retried step's last attempt replaces its earlier one). */
  async record(run: SyncRunRecord): Promise<void> {
    await this.engine.transaction(async (tx) => {
      await tx.query('DELETE FROM sync_runs WHERE sync = $1 AND run_id = $2', [
        run.sync,
        run.runId,
      ]);
      await tx.query(
        `INSERT INTO sync_runs (sync, run_id, started_at, finished_at, status, dry_run, full_resync,
           inserted, updated, deleted, rejected, unchanged, failed_share, message)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [
          run.sync,
          run.runId,
          run.startedAt,
          run.finishedAt,
          run.status,
          run.dryRun,
          run.fullResync,
          run.inserted,
          run.updated,
          run.deleted,
          run.rejected,
          run.unchanged,
          run.failedShare,
          run.message,
        ],
      );
    });
  }

  /** A sync's runs, newest first. */
  async runs(sync: string, limit = 50): Promise<SyncRunRecord[]> {
    const { rows } = await this.engine.query(
      `SELECT * FROM sync_runs WHERE sync = $1 ORDER BY started_at DESC, run_id DESC LIMIT ${Math.max(1, Math.floor(limit))}`,
      [sync],
    );
    return rows.map(toRecord);
  }

  /** Each sync's latest run that sent (dry runs send nothing; they are in `runs`). */
  async latest(): Promise<Map<string, SyncRunRecord>> {
    const { rows } = await this.engine.query(
      'SELECT * FROM sync_runs WHERE NOT dry_run ORDER BY started_at ASC, run_id ASC',
    );
    const out = new Map<string, SyncRunRecord>();
    for (const r of rows) out.set(String(r.sync), toRecord(r));
    return out;
  }
}
