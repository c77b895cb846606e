/**
 * Which publish of the warehouse queries read (the serving snapshot's record), kept in state when
 * several processes serve one project (shared mode): a run finished in one replica publishes
 * here, and every replica's dashboards and SQL endpoint see it within a second (each compares its
 * cached version with this row at most that often), on this machine or another. A project one
 * process owns keeps the record in its serving folder only (orchestrator/serving.ts).
 */
import type { Engine } from '../engines/index.js';
import { migrate, type Migration } from './migrations.js';

export const SERVING_POINTER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'serving_pointer',
    statements: [
      `CREATE TABLE IF NOT EXISTS serving_pointer (
     name TEXT PRIMARY KEY, version TEXT NOT NULL, published_at TEXT NOT NULL, snapshot TEXT NOT NULL)`,
    ],
  },
];

/** The one row's key: the project's warehouse (a state schema holds one project). */
const WAREHOUSE = 'warehouse';

export interface ServingPointer {
  version: string;
  publishedAt: string;
  /** The snapshot record, as JSON. */
  snapshot: string;
}

export class ServingPointerStore {
  private constructor(private readonly engine: Engine) {}

  static async open(engine: Engine): Promise<ServingPointerStore> {
    await migrate(engine, 'serving_pointer', SERVING_POINTER_MIGRATIONS);
    return new ServingPointerStore(engine);
  }

  /**
   * The current pointer; 'unchanged' when its version is `known` (the snapshot's JSON is then not
   * sent: one primary-key lookup returning a short string, cheap enough for every request).
   */
  async read(known?: string): Promise<ServingPointer | 'unchanged' | undefined> {
    const { rows } = await this.engine.query(
      `SELECT version, published_at,
         CASE WHEN version = $2 THEN NULL ELSE snapshot END AS snapshot
       FROM serving_pointer WHERE name = $1`,
      [WAREHOUSE, known ?? ''],
    );
    const r = rows[0];
    if (!r) return undefined;
    if (r.snapshot === null || r.snapshot === undefined) return 'unchanged';
    return {
      version: String(r.version),
      publishedAt: String(r.published_at),
      snapshot: String(r.snapshot),
    };
  }

  /**
   * Records a publish, unless a later one is already recorded: two replicas publishing at once
   * leave the one that read the warehouse last (ISO-8601 UTC times sort as text). True when
   * written.
   */
  async write(pointer: ServingPointer): Promise<boolean> {
    const { rows } = await this.engine.query(
      `INSERT INTO serving_pointer (name, version, published_at, snapshot) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET version = excluded.version,
         published_at = excluded.published_at, snapshot = excluded.snapshot
       WHERE serving_pointer.published_at <= excluded.published_at
       RETURNING version`,
      [WAREHOUSE, pointer.version, pointer.publishedAt, pointer.snapshot],
    );
    return rows.length > 0;
  }
}
