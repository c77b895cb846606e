/**
 * Which publish of the warehouse queries read (the serving snapshot's record), kept in state when
 * several processes serve one project (shared mode): a run finished in one replica publishes
 * here, and every replica's dashboards and SQL endpoint see it within a second (each compares its
 * cached version with this row at most that often), on this machine or another. A project one
 * process owns keeps the record in its serving folder only (orchestrator/serving.ts).
 *
 * Beside it, the passwords of the warehouse's read-only roles: a replica publishing on another
 * machine uses the password the others use instead of renewing it under them.
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
  {
    version: 2,
    name: 'warehouse_reader',
    statements: [
      // The read-only roles' passwords, one per role, so every replica logs in with the same one
      // (never granted to those roles: they read the warehouse's published schemas only).
      `CREATE TABLE IF NOT EXISTS warehouse_reader (role TEXT PRIMARY KEY, password TEXT NOT NULL)`,
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

  /**
   * The password of the read-only `role`: the one recorded, or `candidate` when none was (then
   * recorded). Of replicas asking at once, all get the one that was recorded first.
   */
  async agreeReaderPassword(role: string, candidate: string): Promise<string> {
    await this.engine.query(
      `INSERT INTO warehouse_reader (role, password) VALUES ($1, $2) ON CONFLICT (role) DO NOTHING`,
      [role, candidate],
    );
    const password = await this.readerPassword(role);
    if (password === undefined) throw new Error(`the password of ${role} was not recorded`);
    return password;
  }

  /** The recorded password of the read-only `role`, if any. */
  async readerPassword(role: string): Promise<string | undefined> {
    const { rows } = await this.engine.query(
      `SELECT password FROM warehouse_reader WHERE role = $1`,
      [role],
    );
    return rows[0] ? String(rows[0].password) : undefined;
  }
}
