/**
 * Shared helpers for the dbt compatibility suites: every suite runs once per engine (DuckDB and
 * PostgreSQL, as kysely loops over its dialects), on a fresh copy of a fixture project under
 * test/fixtures/dbt/, with its own DuckDB file or PostgreSQL schema chosen through env_var() in the
 * fixture's profiles.yml, and dropped afterwards.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';
import {
  openDbtProject,
  runVerb,
  type OpenedDbtProject,
  type OpenOptions,
  type RunOptions,
  type RunSummary,
} from '../../src/models/index.js';
import { openPostgres } from '../../src/engines/index.js';
import { tempDir } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';

export type EngineName = 'duckdb' | 'postgres';

export const FIXTURES = fileURLToPath(new URL('../fixtures/dbt/', import.meta.url));

const postgresUp = await serviceAvailable('postgres', postgresTestUrl);

/** The engines every dbt suite runs on; PostgreSQL only when it answers (CI insists it does). */
export const ENGINES: { name: EngineName; available: boolean }[] = [
  { name: 'duckdb', available: true },
  { name: 'postgres', available: postgresUp },
];

/** Declares the same suite once per engine: `describe('<title> on <engine>')`. */
export function describeEachEngine(title: string, fn: (engine: EngineName) => void): void {
  for (const e of ENGINES) describe.skipIf(!e.available)(`${title} on ${e.name}`, () => fn(e.name));
}

let counter = 0;

/** The environment the fixtures' profiles.yml reads (TRIB_DBT_*), for one project copy. */
export function profileEnv(
  engine: EngineName,
  dir: string,
  schema: string,
): Record<string, string> {
  const url = new URL(postgresTestUrl);
  return {
    TRIB_DBT_TARGET: engine,
    TRIB_DBT_SCHEMA: schema,
    TRIB_DBT_DUCKDB_PATH: join(dir, 'warehouse.duckdb'),
    TRIB_DBT_PG_HOST: url.hostname || '127.0.0.1',
    TRIB_DBT_PG_PORT: url.port || '5432',
    TRIB_DBT_PG_USER: decodeURIComponent(url.username) || 'postgres',
    TRIB_DBT_PG_PASSWORD: decodeURIComponent(url.password),
    TRIB_DBT_PG_DBNAME: url.pathname.replace(/^\//, '') || 'postgres',
  };
}

/** A fixture copied to a temp folder, wired to its own database, with shortcuts to run verbs. */
export class DbtFixture {
  readonly dir: string;
  readonly schema: string;
  readonly env: Record<string, string>;
  private readonly saved = new Map<string, string | undefined>();

  constructor(
    readonly fixture: string,
    readonly engine: EngineName,
  ) {
    this.dir = join(tempDir('trib-dbt-'), fixture);
    cpSync(join(FIXTURES, fixture), this.dir, { recursive: true });
    this.schema = `dbt_${Date.now().toString(36)}_${process.pid}_${counter++}`;
    this.env = profileEnv(engine, this.dir, this.schema);
    for (const [k, v] of Object.entries(this.env)) {
      this.saved.set(k, process.env[k]);
      process.env[k] = v;
    }
  }

  /** Opens the project (parse included) with the fixture's profiles.yml and the engine's target. */
  open(opts: OpenOptions = {}): Promise<OpenedDbtProject> {
    return openDbtProject(this.dir, { profilesDir: this.dir, target: this.engine, ...opts });
  }

  /** Opens, runs `fn`, closes. */
  async with<T>(fn: (p: OpenedDbtProject) => Promise<T>, opts: OpenOptions = {}): Promise<T> {
    const p = await this.open(opts);
    try {
      return await fn(p);
    } finally {
      await p.close();
    }
  }

  /** Runs one dbt verb as `tributary <verb>` would. */
  run(
    verb: RunOptions['verb'],
    opts: Omit<RunOptions, 'verb'> = {},
    open: OpenOptions = {},
  ): Promise<RunSummary> {
    return this.with((p) => runVerb(p.parsed, p.engine, { verb, ...opts }), open);
  }

  /** Rows of a query, with numbers as numbers (engines hand BIGINT/DECIMAL back as strings). */
  async rows(sql: string): Promise<Record<string, unknown>[]> {
    return this.with(async (p) => (await p.engine.query(sql)).rows.map(plain));
  }

  /** Runs statements against the warehouse (to set up or change source data). */
  async exec(...sql: string[]): Promise<void> {
    await this.with(async (p) => {
      for (const s of sql) await p.engine.exec(s);
    });
  }

  /** The catalog relations print as their first part: the DuckDB file's stem, or the dbname. */
  get database(): string {
    return this.engine === 'duckdb' ? 'warehouse' : this.env.TRIB_DBT_PG_DBNAME!;
  }

  /** A table or view in the fixture's schema (or `<schema>_<suffix>`), quoted. */
  rel(name: string, suffix?: string): string {
    return `"${suffix ? `${this.schema}_${suffix}` : this.schema}"."${name}"`;
  }

  read(path: string): string {
    return readFileSync(join(this.dir, path), 'utf8');
  }

  /** Writes a file of the project copy, creating its folder (git keeps no empty fixture folders). */
  write(path: string, text: string): void {
    mkdirSync(dirname(join(this.dir, path)), { recursive: true });
    writeFileSync(join(this.dir, path), text);
  }

  /** Drops every schema the run created (PostgreSQL) and the temp folder; restores the env. */
  async cleanup(): Promise<void> {
    try {
      // Straight to the server: the project itself may not open (tests of broken projects).
      if (this.engine === 'postgres') {
        const pg = await openPostgres({ url: postgresTestUrl });
        try {
          const { rows } = await pg.query(
            `SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '${this.schema}%'`,
          );
          for (const r of rows) await pg.exec(`DROP SCHEMA "${String(r.schema_name)}" CASCADE`);
        } finally {
          await pg.close();
        }
      }
    } finally {
      for (const [k, v] of this.saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      rmSync(join(this.dir, '..'), { recursive: true, force: true });
    }
  }
}

/** A value as a test compares it: numeric strings become numbers, dates become ISO-ish strings. */
function plainValue(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return v;
}

function plain(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plainValue(v)]));
}

/** status by node name, for compact assertions. */
export function statuses(summary: RunSummary): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of summary.results) out[r.unique_id.split('.').slice(2, 3).join('')] = r.status;
  return out;
}

/** The result of the node named `name` (model, seed, snapshot or test). */
export function resultOf(summary: RunSummary, name: string) {
  const r = summary.results.find((x) => x.unique_id.split('.')[2] === name);
  if (!r)
    throw new Error(
      `no result for ${name}; results: ${summary.results.map((x) => x.unique_id).join(', ')}`,
    );
  return r;
}

/** The unique ids a summary ran, by name, sorted. */
export function namesRun(summary: RunSummary): string[] {
  return summary.results.map((r) => r.unique_id.split('.')[2]!).sort();
}
