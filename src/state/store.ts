/**
 * The metadata store: run history, catalog entries, schema versions and asset versions. It is
 * written in portable SQL over the Engine seam, so the default DuckDB file and a shared
 * PostgreSQL database hold the same tables.
 */
import type { Engine } from '../engines/index.js';
import { migrate, type Migration } from './migrations.js';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';
export type StepStatus =
  'running' | 'succeeded' | 'failed' | 'skipped' | 'up_to_date' | 'cancelled';
export type PartitionStatus = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'skipped';

export interface RunRecord {
  runId: string;
  command: string;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  /** Asset keys the run set out to run, in order. */
  plan: string[] | null;
  /** The run this one resumes, if any. */
  resumedFrom: string | null;
  /** What started it: `cli`, `schedule:<name>`, `trigger:<name>`, `backfill`, `replay`. */
  trigger: string | null;
  /**
   * When serve had published what the run built for dashboards and queries (null until then, or
   * when no serve ran it: `tributary run` alone publishes nothing; serve publishes at start).
   */
  publishedAt: string | null;
}

export interface PartitionRecord {
  asset: string;
  partition: string;
  status: PartitionStatus;
  runId: string;
  updatedAt: string;
  message: string | null;
}

export interface StepRecord {
  runId: string;
  asset: string;
  kind: string;
  status: StepStatus;
  startedAt: string;
  finishedAt: string | null;
  rowsIn: number | null;
  rowsOut: number | null;
  rowsRejected: number | null;
  message: string | null;
  attempts: number | null;
}

/** A step's state as the runner writes it (see upsertSteps). */
export interface StepWrite {
  runId: string;
  asset: string;
  kind: string;
  status: StepStatus;
  startedAt: string;
  finishedAt?: string | null;
  rowsIn?: number;
  rowsOut?: number;
  rowsRejected?: number;
  message?: string;
  attempts?: number;
}

export interface StepLogLine {
  asset: string;
  seq: number;
  at: string;
  line: string;
}

export interface CatalogColumn {
  name: string;
  type: string;
}

export interface CatalogEntry {
  zone: string;
  name: string;
  location: string;
  format: string;
  columns: CatalogColumn[];
  /** Rows stored; null for relations that store none of their own (views). */
  rowCount: number | null;
  partitions: string[];
  schemaVersion: number;
  updatedAt: string;
}

export interface SchemaVersion {
  zone: string;
  name: string;
  version: number;
  columns: CatalogColumn[];
  recordedAt: string;
}

/**
 * The run history's migrations (migrations.ts). Version 1 is every statement the store ran on
 * each open before versions were recorded, so a state file of that time upgrades by running it.
 */
export const STATE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, steps, logs, catalog, versions, partitions, schedule ticks, freshness',
    statements: [
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
    ],
  },
  {
    // A run finishes (its status recorded, by whichever process ran its last step) before serve
    // publishes it for queries: the API says both, so a client knows when dashboards show it.
    version: 2,
    name: 'runs.published_at',
    statements: [`ALTER TABLE runs ADD COLUMN IF NOT EXISTS published_at TEXT`],
  },
];

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function toStep(r: Record<string, unknown>): StepRecord {
  return {
    runId: String(r.run_id),
    asset: String(r.asset),
    kind: String(r.kind),
    status: r.status as StepStatus,
    startedAt: String(r.started_at),
    finishedAt: str(r.finished_at),
    rowsIn: num(r.rows_in),
    rowsOut: num(r.rows_out),
    rowsRejected: num(r.rows_rejected),
    message: str(r.message),
    attempts: num(r.attempts),
  };
}

function toRun(r: Record<string, unknown>): RunRecord {
  return {
    runId: String(r.run_id),
    command: String(r.command),
    status: r.status as RunStatus,
    startedAt: String(r.started_at),
    finishedAt: str(r.finished_at),
    plan: r.plan ? (JSON.parse(String(r.plan)) as string[]) : null,
    resumedFrom: str(r.resumed_from),
    trigger: str(r.trigger),
    publishedAt: str(r.published_at),
  };
}

export class StateStore {
  private constructor(
    /** The state database, for modules that keep their own tables there (the dead-letter store). */
    readonly engine: Engine,
  ) {}

  /** Opens the store on an engine, applying its missing migrations. */
  static async open(engine: Engine): Promise<StateStore> {
    await migrate(engine, 'state', STATE_MIGRATIONS);
    return new StateStore(engine);
  }

  /** Runs several writes as one transaction: one commit (one fsync) instead of one per statement. */
  async atomically<T>(fn: (state: StateStore) => Promise<T>): Promise<T> {
    return this.engine.transaction((tx) => fn(new StateStore(tx)));
  }

  async close(): Promise<void> {
    await this.engine.close();
  }

  async startRun(
    runId: string,
    command: string,
    extra: { plan?: string[]; resumedFrom?: string; trigger?: string } = {},
  ): Promise<void> {
    await this.engine.query(
      `INSERT INTO runs (run_id, command, status, started_at, plan, resumed_from, trigger)
       VALUES ($1, $2, 'running', $3, $4, $5, $6)`,
      [
        runId,
        command,
        new Date().toISOString(),
        extra.plan ? JSON.stringify(extra.plan) : null,
        extra.resumedFrom ?? null,
        extra.trigger ?? null,
      ],
    );
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const { rows } = await this.engine.query(`SELECT * FROM runs WHERE run_id = $1`, [runId]);
    return rows.length ? toRun(rows[0]!) : undefined;
  }

  /** Runs still marked running (by this process, or by one that died). */
  async runningRuns(): Promise<RunRecord[]> {
    const { rows } = await this.engine.query(
      `SELECT * FROM runs WHERE status = 'running' ORDER BY started_at`,
    );
    return rows.map(toRun);
  }

  async stepLogs(runId: string, asset?: string): Promise<StepLogLine[]> {
    const { rows } = await this.engine.query(
      `SELECT asset, seq, logged_at, line FROM step_logs WHERE run_id = $1 ${asset ? 'AND asset = $2' : ''}
        ORDER BY logged_at, asset, seq`,
      asset ? [runId, asset] : [runId],
    );
    return rows.map((r) => ({
      asset: String(r.asset),
      seq: Number(r.seq),
      at: String(r.logged_at),
      line: String(r.line),
    }));
  }

  async setPartition(
    asset: string,
    partition: string,
    status: PartitionStatus,
    runId: string,
    message?: string,
  ): Promise<void> {
    await this.engine.query(
      `INSERT INTO partitions (asset, partition_key, status, run_id, updated_at, message)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (asset, partition_key) DO UPDATE SET status = excluded.status,
         run_id = excluded.run_id, updated_at = excluded.updated_at, message = excluded.message`,
      [asset, partition, status, runId, new Date().toISOString(), message ?? null],
    );
  }

  async listPartitions(asset: string): Promise<PartitionRecord[]> {
    const { rows } = await this.engine.query(
      `SELECT * FROM partitions WHERE asset = $1 ORDER BY partition_key`,
      [asset],
    );
    return rows.map((r) => ({
      asset: String(r.asset),
      partition: String(r.partition_key),
      status: r.status as PartitionStatus,
      runId: String(r.run_id),
      updatedAt: String(r.updated_at),
      message: str(r.message),
    }));
  }

  /** The latest tick a schedule has handled (ISO time), if it ever ran. */
  async lastTick(schedule: string): Promise<string | undefined> {
    const { rows } = await this.engine.query(
      `SELECT last_tick FROM schedule_ticks WHERE schedule = $1`,
      [schedule],
    );
    return rows.length ? String(rows[0]!.last_tick) : undefined;
  }

  /**
   * A schedule's last tick, set to `tick` first when it has none: the first scheduler to start a
   * schedule (of however many starting at once) decides where it begins.
   */
  async beginTicks(schedule: string, tick: string): Promise<string> {
    await this.engine.query(
      `INSERT INTO schedule_ticks (schedule, last_tick, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (schedule) DO NOTHING`,
      [schedule, tick, new Date().toISOString()],
    );
    return (await this.lastTick(schedule)) ?? tick;
  }

  /**
   * Claims a tick of a begun schedule (beginTicks): moves its last tick forward to `tick` when it
   * is earlier, in one conditional write. True when this call moved it, so the caller runs the
   * tick; false when this tick or a later one was already handled, by this process or another
   * sharing the state, which is how two schedulers that both think they lead run a tick once.
   * (ISO-8601 times in UTC, as toISOString writes them, sort as text.)
   */
  async claimTick(schedule: string, tick: string): Promise<boolean> {
    const { rows } = await this.engine.query(
      `UPDATE schedule_ticks SET last_tick = $1, updated_at = $2
       WHERE schedule = $3 AND last_tick < $1 RETURNING schedule`,
      [tick, new Date().toISOString(), schedule],
    );
    return rows.length > 0;
  }

  async setLastTick(schedule: string, tick: string): Promise<void> {
    await this.engine.query(
      `INSERT INTO schedule_ticks (schedule, last_tick, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (schedule) DO UPDATE SET last_tick = excluded.last_tick, updated_at = excluded.updated_at`,
      [schedule, tick, new Date().toISOString()],
    );
  }

  /** When each asset last changed (its latest asset version), for freshness. */
  async assetUpdatedAt(): Promise<Map<string, string>> {
    const { rows } = await this.engine.query(`SELECT asset, updated_at FROM asset_versions`);
    return new Map(rows.map((r) => [String(r.asset), String(r.updated_at)]));
  }

  /** Records a freshness breach; false when this breach was already recorded (alert once). */
  async recordBreach(asset: string, lastUpdated: string | null): Promise<boolean> {
    const { rows } = await this.engine.query(
      `SELECT last_updated FROM freshness_breaches WHERE asset = $1`,
      [asset],
    );
    if (rows.length && str(rows[0]!.last_updated) === lastUpdated) return false;
    await this.engine.query(
      `INSERT INTO freshness_breaches (asset, breached_at, last_updated) VALUES ($1, $2, $3)
       ON CONFLICT (asset) DO UPDATE SET breached_at = excluded.breached_at, last_updated = excluded.last_updated`,
      [asset, new Date().toISOString(), lastUpdated],
    );
    return true;
  }

  async clearBreach(asset: string): Promise<void> {
    await this.engine.query(`DELETE FROM freshness_breaches WHERE asset = $1`, [asset]);
  }

  async finishRun(runId: string, status: RunStatus): Promise<void> {
    await this.engine.query(`UPDATE runs SET status = $1, finished_at = $2 WHERE run_id = $3`, [
      status,
      new Date().toISOString(),
      runId,
    ]);
  }

  /** Records that serve published (at `at`) what the run built, for dashboards and queries. */
  async markPublished(runId: string, at: string): Promise<void> {
    await this.engine.query(`UPDATE runs SET published_at = $1 WHERE run_id = $2`, [at, runId]);
  }

  /**
   * Marks a run finished unless it already is: true when this call did. Several workers may
   * each see a queued run's last task done; only one of them finishes it (and sends its alerts).
   */
  async finishRunIfRunning(runId: string, status: RunStatus): Promise<boolean> {
    const { rows } = await this.engine.query(
      `UPDATE runs SET status = $1, finished_at = $2 WHERE run_id = $3 AND status = 'running'
       RETURNING run_id`,
      [status, new Date().toISOString(), runId],
    );
    return rows.length > 0;
  }

  /**
   * Runs left `running` by a process that died: marked failed (their running steps too) so
   * history stays truthful. Returns their ids, so a server can resume them.
   */
  async markAbandonedRuns(): Promise<string[]> {
    const { rows } = await this.engine.query(`SELECT run_id FROM runs WHERE status = 'running'`);
    const now = new Date().toISOString();
    for (const r of rows) {
      await this.engine.query(
        `UPDATE steps SET status = 'failed', finished_at = $1, message = 'the process stopped before this step finished' WHERE run_id = $2 AND status = 'running'`,
        [now, r.run_id],
      );
      await this.engine.query(
        `UPDATE runs SET status = 'failed', finished_at = $1 WHERE run_id = $2`,
        [now, r.run_id],
      );
    }
    return rows.map((r) => String(r.run_id));
  }

  /**
   * Writes many steps' current state in one statement per few hundred (inserted, or updated
   * when the step is already there): the runner batches its step records through this, since
   * one statement per step costs milliseconds of commit each.
   */
  async upsertSteps(steps: readonly StepWrite[]): Promise<void> {
    for (let i = 0; i < steps.length; i += 500) {
      const chunk = steps.slice(i, i + 500);
      const values: unknown[] = [];
      const tuples = chunk.map((st) => {
        values.push(
          st.runId,
          st.asset,
          st.kind,
          st.status,
          st.startedAt,
          st.finishedAt ?? null,
          st.rowsIn ?? null,
          st.rowsOut ?? null,
          st.rowsRejected ?? null,
          st.message ?? null,
          st.attempts ?? null,
        );
        const b = values.length - 11;
        return `(${Array.from({ length: 11 }, (_, k) => `$${b + k + 1}`).join(', ')})`;
      });
      await this.engine.query(
        `INSERT INTO steps (run_id, asset, kind, status, started_at, finished_at, rows_in, rows_out,
                            rows_rejected, message, attempts)
         VALUES ${tuples.join(', ')}
         ON CONFLICT (run_id, asset) DO UPDATE SET status = excluded.status,
           started_at = excluded.started_at, finished_at = excluded.finished_at,
           rows_in = excluded.rows_in, rows_out = excluded.rows_out,
           rows_rejected = excluded.rows_rejected, message = excluded.message,
           attempts = excluded.attempts`,
        values,
      );
    }
  }

  /** Inserts log lines with their sequence numbers already set (one statement per few hundred). */
  async insertStepLogs(lines: readonly (StepLogLine & { runId: string })[]): Promise<void> {
    for (let i = 0; i < lines.length; i += 1000) {
      const chunk = lines.slice(i, i + 1000);
      const values: unknown[] = [];
      const tuples = chunk.map((l) => {
        values.push(l.runId, l.asset, l.seq, l.at, l.line);
        const b = values.length - 5;
        return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5})`;
      });
      await this.engine.query(
        `INSERT INTO step_logs (run_id, asset, seq, logged_at, line) VALUES ${tuples.join(', ')}
         ON CONFLICT (run_id, asset, seq) DO NOTHING`,
        values,
      );
    }
  }

  async listRuns(limit = 20): Promise<RunRecord[]> {
    const { rows } = await this.engine.query(
      `SELECT * FROM runs ORDER BY started_at DESC, run_id DESC LIMIT ${Math.max(1, Math.floor(limit))}`,
    );
    return rows.map(toRun);
  }

  async listSteps(runId: string): Promise<StepRecord[]> {
    const { rows } = await this.engine.query(
      `SELECT * FROM steps WHERE run_id = $1 ORDER BY started_at, asset`,
      [runId],
    );
    return rows.map(toStep);
  }

  /** The latest finished step of each asset of a kind (e.g. every test's latest result). */
  async latestSteps(kind: string): Promise<StepRecord[]> {
    const { rows } = await this.engine.query(
      `SELECT s.* FROM steps s
         JOIN (SELECT asset, max(finished_at) AS f FROM steps
                WHERE kind = $1 AND finished_at IS NOT NULL GROUP BY asset) l
           ON s.asset = l.asset AND s.finished_at = l.f
        WHERE s.kind = $1
        ORDER BY s.asset`,
      [kind],
    );
    return rows.map(toStep);
  }

  /**
   * Records a table's current shape. A column list unlike the latest version's becomes a new
   * schema version; the entry's row count and partitions are replaced.
   */
  async upsertCatalogEntry(
    entry: Omit<CatalogEntry, 'schemaVersion' | 'updatedAt'>,
  ): Promise<CatalogEntry> {
    const fingerprint = JSON.stringify(entry.columns.map((c) => [c.name, c.type]));
    const now = new Date().toISOString();
    const latest = await this.engine.query(
      `SELECT version, fingerprint FROM schema_versions WHERE zone = $1 AND name = $2 ORDER BY version DESC LIMIT 1`,
      [entry.zone, entry.name],
    );
    let version = latest.rows.length ? Number(latest.rows[0]!.version) : 0;
    if (!latest.rows.length || latest.rows[0]!.fingerprint !== fingerprint) {
      version += 1;
      await this.engine.query(
        `INSERT INTO schema_versions (zone, name, version, columns, fingerprint, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)`,
        [entry.zone, entry.name, version, JSON.stringify(entry.columns), fingerprint, now],
      );
    }
    await this.engine.query(
      `INSERT INTO catalog_tables (zone, name, location, format, columns, row_count, partitions, schema_version, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (zone, name) DO UPDATE SET location = excluded.location, format = excluded.format,
         columns = excluded.columns, row_count = excluded.row_count, partitions = excluded.partitions,
         schema_version = excluded.schema_version, updated_at = excluded.updated_at`,
      [
        entry.zone,
        entry.name,
        entry.location,
        entry.format,
        JSON.stringify(entry.columns),
        entry.rowCount,
        JSON.stringify(entry.partitions),
        version,
        now,
      ],
    );
    return { ...entry, schemaVersion: version, updatedAt: now };
  }

  async listCatalog(): Promise<CatalogEntry[]> {
    const { rows } = await this.engine.query(`SELECT * FROM catalog_tables ORDER BY zone, name`);
    return rows.map((r) => ({
      zone: String(r.zone),
      name: String(r.name),
      location: String(r.location),
      format: String(r.format),
      columns: JSON.parse(String(r.columns)) as CatalogColumn[],
      rowCount: r.row_count === null ? null : Number(r.row_count),
      partitions: JSON.parse(String(r.partitions)) as string[],
      schemaVersion: Number(r.schema_version),
      updatedAt: String(r.updated_at),
    }));
  }

  async schemaVersions(zone: string, name: string): Promise<SchemaVersion[]> {
    const { rows } = await this.engine.query(
      `SELECT * FROM schema_versions WHERE zone = $1 AND name = $2 ORDER BY version`,
      [zone, name],
    );
    return rows.map((r) => ({
      zone: String(r.zone),
      name: String(r.name),
      version: Number(r.version),
      columns: JSON.parse(String(r.columns)) as CatalogColumn[],
      recordedAt: String(r.recorded_at),
    }));
  }

  /** The fingerprint of the inputs an asset was last built from; unchanged inputs mean no rebuild. */
  async getAssetVersion(asset: string): Promise<string | undefined> {
    const { rows } = await this.engine.query(
      `SELECT fingerprint FROM asset_versions WHERE asset = $1`,
      [asset],
    );
    return rows.length ? String(rows[0]!.fingerprint) : undefined;
  }

  async setAssetVersion(asset: string, fingerprint: string): Promise<void> {
    await this.engine.query(
      `INSERT INTO asset_versions (asset, fingerprint, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (asset) DO UPDATE SET fingerprint = excluded.fingerprint, updated_at = excluded.updated_at`,
      [asset, fingerprint, new Date().toISOString()],
    );
  }
}
