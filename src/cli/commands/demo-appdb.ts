/**
 * The demo's app database: when a PostgreSQL server is reachable, the generated customers,
 * orders and order lines are loaded into it and the demo project reads those three tables through
 * the postgres connector (as the seeds read RDS); otherwise they come from the landing files, and
 * the demo says so. The choice is written into the project's tributary.yml, comments kept.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { ProgressReporter } from '../../core/index.js';
import { CONFIG_FILE } from '../../project/index.js';
import {
  APP_TABLES,
  appDatabaseReachable,
  loadAppDatabase,
} from '../../../templates/ecommerce/generator/appdb.js';

export const DEFAULT_APP_DB_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const DEFAULT_APP_SCHEMA = 'tributary_demo_app';
const APP_SOURCE = 'app_db';

export interface AppDbChoice {
  /** Where the app tables come from this run. */
  mode: 'postgres' | 'files';
  /** The server (without password) when postgres, or why not. */
  detail: string;
  rows?: Record<string, number>;
}

/**
 * Empties the demo's working folder when a table switches connector (the same rows arriving
 * through another connector would be new batches of keys already loaded), keeping only the
 * generator's report, which still describes the landing files.
 */
export async function startLakeAfresh(
  dir: string,
  why: string,
  progress: ProgressReporter,
): Promise<void> {
  const work = join(dir, '.tributary');
  if (!existsSync(join(work, 'lake'))) return;
  progress.log(`${why}: starting the lake and warehouse afresh`);
  for (const entry of await readdir(work))
    if (entry !== 'generated.json') await rm(join(work, entry), { recursive: true, force: true });
}

/** Redacts the password of a postgres:// URL for messages. */
function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured URL';
  }
}

/**
 * Loads the app tables into PostgreSQL when reachable and points tributary.yml at them, or at the
 * landing files when not. A switch between the two starts the lake afresh: the same rows arriving
 * through another connector would otherwise be new batches whose keys were loaded already.
 */
export async function chooseAppDatabase(
  dir: string,
  url: string,
  progress: ProgressReporter,
  schema: string = DEFAULT_APP_SCHEMA,
): Promise<AppDbChoice> {
  const reachable = await appDatabaseReachable(url);
  const configPath = join(dir, CONFIG_FILE);
  const doc = parseDocument(await readFile(configPath, 'utf8'));
  const using = doc.hasIn(['sources', APP_SOURCE]) ? 'postgres' : 'files';
  const mode = reachable ? 'postgres' : 'files';
  let rows: Record<string, number> | undefined;
  if (reachable) {
    const u = new URL(url);
    rows = await loadAppDatabase({ url, schema, landingDir: join(dir, 'landing') });
    if (using !== 'postgres') {
      for (const t of APP_TABLES) doc.deleteIn(['sources', 'shop', 'tables', t]);
      doc.setIn(['sources', APP_SOURCE], {
        type: 'postgres',
        host: u.hostname,
        port: Number(u.port || 5432),
        user: decodeURIComponent(u.username || 'postgres'),
        ...(u.password ? { password: { env: 'TRIBUTARY_DEMO_APP_DB_PASSWORD' } } : {}),
        database: u.pathname.replace(/^\//, '') || 'postgres',
        schema,
        tables: Object.fromEntries(APP_TABLES.map((t) => [t, { mode: 'full' }])),
      });
      if (u.password) process.env.TRIBUTARY_DEMO_APP_DB_PASSWORD = decodeURIComponent(u.password);
    }
  } else if (using === 'postgres') {
    doc.deleteIn(['sources', APP_SOURCE]);
    const files = {
      customers: { files: 'customers*.json', format: 'json' },
      orders: { files: 'orders*.csv' },
      order_lines: { files: 'order_lines*.csv' },
    };
    for (const t of APP_TABLES) doc.setIn(['sources', 'shop', 'tables', t], files[t]);
  }
  if (using !== mode) {
    await writeFile(configPath, doc.toString());
    await startLakeAfresh(dir, `app tables now come from ${mode}`, progress);
  }
  return reachable
    ? { mode, detail: `${displayUrl(url)} schema ${schema}`, ...(rows ? { rows } : {}) }
    : {
        mode,
        detail: `PostgreSQL at ${displayUrl(url)} is not reachable: customers, orders and order lines come from the landing files (set TRIBUTARY_DEMO_APP_DB_URL to use another server)`,
      };
}
