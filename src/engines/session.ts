/** Session plumbing shared by engine adapters: one statement at a time, profiling, schema memo. */
import type { Row, TableInfo } from './types.js';

/** Serialises async work: a database session takes one statement at a time. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  /** Runs `fn` after everything queued before it, whether that succeeded or failed. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** With TRIBUTARY_PROFILE=1 every statement's time goes to stderr: where a run spends its time. */
const PROFILE = process.env.TRIBUTARY_PROFILE === '1';

/** Passes `result` through, writing the statement's time to stderr when profiling. */
export function profiled<T>(sql: string, started: number, result: T): T {
  if (PROFILE) {
    const ms = (performance.now() - started).toFixed(1);
    process.stderr.write(
      `[profile] ${ms.padStart(8)} ms  ${sql.replace(/\s+/g, ' ').slice(0, 140)}\n`,
    );
  }
  return result;
}

/**
 * Creates a schema at most once per database: the first caller's promise is shared by every
 * session, and forgotten if it fails so a later call can try again.
 */
export function ensureSchemaOnce(
  known: Map<string, Promise<void>>,
  schema: string,
  create: () => Promise<void>,
): Promise<void> {
  let created = known.get(schema);
  if (!created) {
    created = create();
    known.set(schema, created);
    created.catch(() => known.delete(schema));
  }
  return created;
}

/** information_schema.tables rows (schema, name, table_type) as TableInfo. */
export function toTableInfos(rows: readonly Row[]): TableInfo[] {
  return rows.map((r) => ({
    schema: String(r.schema),
    name: String(r.name),
    type: r.type === 'VIEW' ? 'view' : 'table',
  }));
}
