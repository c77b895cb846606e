/**
 * `tributary state copy --to <url>`: moves a project's state from its DuckDB file to a PostgreSQL
 * schema, before tributary.yml is switched to `state: {store: postgres}` (README, "Moving to
 * PostgreSQL"). It holds the project lock while it copies, so nothing runs meanwhile; the copy is
 * one transaction of the target; a target that already holds state is refused, never merged into
 * or overwritten (a schema another project or an earlier copy uses is not this command's to empty).
 */
import type { Command } from 'commander';
import { TributaryError } from '../../core/index.js';
import { openPostgres, type Engine } from '../../engines/index.js';
import { DEAD_LETTER_MIGRATIONS, DeadLetterStore } from '../../notify/index.js';
import {
  SYNC_HISTORY_MIGRATIONS,
  acquireProjectLock,
  stateLocation,
} from '../../orchestrator/index.js';
import { loadProject } from '../../project/index.js';
import { AUDIT_MIGRATIONS, TOKEN_MIGRATIONS } from '../../serve/index.js';
import {
  LEADER_MIGRATIONS,
  SERVING_POINTER_MIGRATIONS,
  STATE_MIGRATIONS,
  StateStore,
  WORK_QUEUE_MIGRATIONS,
  copyState,
  describeStateLocation,
  openStateEngine,
  type StateCopyResult,
  type StateStoreMigrations,
} from '../../state/index.js';
import { print, type CliContext } from '../context.js';

/**
 * Every store kept in the state database, by the name its `migrate` call records. A store added
 * without being listed here fails test/cli/state-copy.test.ts (it reads every `migrate` call in
 * src/), and a table no listed store creates makes the copy refuse rather than leave it behind.
 */
export const STATE_STORES: readonly StateStoreMigrations[] = [
  { store: 'state', migrations: STATE_MIGRATIONS },
  { store: 'work_queue', migrations: WORK_QUEUE_MIGRATIONS },
  { store: 'leaders', migrations: LEADER_MIGRATIONS },
  { store: 'serving_pointer', migrations: SERVING_POINTER_MIGRATIONS },
  { store: 'dead_letters', migrations: DEAD_LETTER_MIGRATIONS },
  { store: 'tokens', migrations: TOKEN_MIGRATIONS },
  { store: 'audit', migrations: AUDIT_MIGRATIONS },
  { store: 'sync_runs', migrations: SYNC_HISTORY_MIGRATIONS },
];

const DEFAULT_SCHEMA = 'tributary_state';

export interface StateCopyCommandOptions {
  /** A postgres:// URL, or `env:NAME` to read it from an environment variable (kept out of history). */
  to: string;
  schema: string;
  /** Told as each table is copied (the command's stderr progress). */
  onTable?: (event: { table: string; index: number; total: number; rows: number }) => void;
}

/** The target URL: given, or read from the environment variable `env:NAME` names. */
export function targetUrl(to: string): string {
  const env = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(to);
  if (env) {
    const value = process.env[env[1]!];
    if (!value)
      throw new TributaryError(`environment variable ${env[1]} is not set`, {
        code: 'USAGE',
        hint: `export ${env[1]}=postgres://… before running, or pass the URL itself`,
      });
    return value;
  }
  if (!/^postgres(ql)?:\/\//.test(to))
    throw new TributaryError(`--to must be a postgres:// URL or env:NAME (got "${to}")`, {
      code: 'USAGE',
      hint: 'e.g. --to env:STATE_URL with STATE_URL=postgres://user@host:5432/db',
    });
  return to;
}

/**
 * What a process that died left in the file is settled first, as opening the project would:
 * runs left running are marked failed, replays left in flight go back to pending. (On shared
 * state nobody would: another live process's run looks the same there.)
 */
async function settleSource(engine: Engine): Promise<void> {
  await (await StateStore.open(engine)).markAbandonedRuns();
  await (await DeadLetterStore.open(engine)).recoverStuck();
}

/** Copies the project's DuckDB state into a PostgreSQL schema, under the project lock. */
export async function copyProjectState(
  projectDir: string,
  opts: StateCopyCommandOptions,
): Promise<StateCopyResult & { from: string; to: string }> {
  const project = await loadProject(projectDir);
  const location = stateLocation(project);
  if (location.store !== 'duckdb')
    throw new TributaryError(
      `this project's state is already on PostgreSQL (${describeStateLocation(location)})`,
      {
        code: 'USAGE',
        hint: 'state copy moves the default DuckDB state file; run it before switching tributary.yml to `state: {store: postgres}`',
      },
    );
  const url = targetUrl(opts.to);
  const to = { store: 'postgres' as const, url, schema: opts.schema };
  const release = await acquireProjectLock(project.paths.work, 'state copy');
  try {
    const source = await openStateEngine(location);
    try {
      await settleSource(source);
      const target = await openStateEngine(to);
      try {
        const result = await copyState(
          { engine: source, schema: 'main', describe: describeStateLocation(location) },
          { engine: target, schema: opts.schema, describe: describeStateLocation(to) },
          STATE_STORES,
          {
            onTable: (e) => {
              if (e.rows !== undefined) opts.onTable?.({ ...e, rows: e.rows });
            },
          },
        );
        return { ...result, from: location.path, to: describeStateLocation(to) };
      } finally {
        await target.close();
      }
    } finally {
      await source.close();
    }
  } finally {
    await release();
  }
}

/** Checks the target is reachable as a PostgreSQL server before the lock is taken (fail fast). */
async function reachable(url: string): Promise<void> {
  const engine = await openPostgres({ url });
  try {
    await engine.query('SELECT 1');
  } finally {
    await engine.close();
  }
}

export function registerState(program: Command, cli: CliContext): void {
  const state = program
    .command('state')
    .description("the project's state database (run history, tokens, audit, dead letters…)");
  state
    .command('copy')
    .description(
      "copy the project's DuckDB state into a PostgreSQL schema (one transaction; refused when the target holds state or the project is running), before switching tributary.yml to `state: {store: postgres}`",
    )
    .requiredOption('--to <url>', 'the PostgreSQL database: postgres://… or env:NAME')
    .option('--schema <name>', 'schema of the state tables there', DEFAULT_SCHEMA)
    .option('--json', 'print a summary as JSON')
    .action(async (opts: { to: string; schema: string; json?: boolean }) => {
      await reachable(targetUrl(opts.to));
      const progress = cli.progress();
      const result = await copyProjectState(cli.project(), {
        to: opts.to,
        schema: opts.schema,
        onTable: (e) => {
          progress.update({ label: `copied ${e.table}`, done: e.index + 1, total: e.total });
          progress.log(`${e.table}: ${e.rows} row(s)`);
        },
      });
      progress.clear();
      if (opts.json) return print(JSON.stringify(result, null, 2));
      const rows = result.tables.reduce((n, t) => n + t.rows, 0);
      print(
        `copied ${result.tables.length} state table(s), ${rows} row(s), from ${result.from} to ${result.to}; now set tributary.yml's state to {store: postgres, url: …, schema: ${opts.schema}}`,
      );
    });
}
