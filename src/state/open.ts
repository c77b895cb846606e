/**
 * Opens the state database: a DuckDB file (the default: one process, nothing to run) or a
 * PostgreSQL schema several machines can share. Every state store (run history, dead letters,
 * tokens and audit, sync history) opens on the engine this returns and migrates its own tables.
 */
import { openDuckDB, openPostgres, type Engine } from '../engines/index.js';

/** Where state lives, resolved (paths absolute, secrets read). */
export type StateLocation =
  { store: 'duckdb'; path: string } | { store: 'postgres'; url: string; schema: string };

/** Sessions one process keeps open to PostgreSQL state: the stores share one, forks take more. */
const STATE_POOL_SIZE = 4;

/** Opens the state database, creating the PostgreSQL schema when it is missing. */
export async function openStateEngine(location: StateLocation): Promise<Engine> {
  if (location.store === 'duckdb') return openDuckDB({ path: location.path });
  const engine = await openPostgres({
    url: location.url,
    schema: location.schema,
    poolSize: STATE_POOL_SIZE,
  });
  try {
    await engine.ensureSchema(location.schema);
  } catch (err) {
    await engine.close().catch(() => undefined);
    throw err;
  }
  return engine;
}

/** Where state lives, for messages: the file, or the server and schema (never the password). */
export function describeStateLocation(location: StateLocation): string {
  if (location.store === 'duckdb') return location.path;
  try {
    const url = new URL(location.url);
    return `postgres://${url.host}${url.pathname} (schema ${location.schema})`;
  } catch {
    return `postgres (schema ${location.schema})`;
  }
}
