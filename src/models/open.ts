/**
 * Opening a dbt project for work: dbt_project.yml, the profile's target, the engine that target
 * names (duckdb or postgres, as dbt-duckdb and dbt-postgres read their profiles), then parsing.
 */
import { relative, resolve } from 'node:path';
import { TributaryError } from '../core/index.js';
import {
  openDuckDB,
  openInMemoryDuckDBLazily,
  openPostgres,
  type Engine,
} from '../engines/index.js';
import {
  defaultDbtProject,
  isDbtProject,
  loadDbtProject,
  loadTarget,
  type DbtProject,
  type ProfileOptions,
  type TargetConfig,
} from './dbt-project.js';
import { parseProject, type ParsedProject } from './parse.js';
import { printRelationsWithoutCatalog } from './context-adapter.js';
import { resolveWarnError, type WarnErrorFlags } from './warn-error.js';

/** How each profile `type:` opens its engine; the only place profile types are named. */
const ADAPTERS: Record<
  string,
  {
    defaultSchema: string;
    open(target: TargetConfig): Promise<Engine>;
    /** The catalog the engine `open` returns will be in, when known without asking it. */
    knownCatalog?(target: TargetConfig): string | undefined;
  }
> = {
  duckdb: {
    defaultSchema: 'main',
    // dbt-duckdb resolves `path` against the current folder, not the project folder.
    open: (t) => {
      const path = String(t.path ?? ':memory:');
      const settings: Record<string, string> = {};
      for (const [k, v] of Object.entries(
        (t.settings as Record<string, unknown> | undefined) ?? {},
      ))
        settings[k] = String(v);
      // Opened when a statement first needs it: `compile` usually never does.
      if (lazyInMemory(t)) return Promise.resolve(openInMemoryDuckDBLazily());
      return openDuckDB({
        path: path === ':memory:' ? path : resolve(process.cwd(), path),
        settings,
      });
    },
    knownCatalog: (t) => (lazyInMemory(t) ? 'memory' : undefined),
  },
  postgres: {
    defaultSchema: 'public',
    open: (t) =>
      openPostgres({
        host: String(t.host ?? '127.0.0.1'),
        port: Number(t.port ?? 5432),
        user: String(t.user ?? 'postgres'),
        ...(t.password !== undefined && t.password !== null
          ? { password: String(t.password) }
          : {}),
        database: String(t.dbname ?? t.database ?? 'postgres'),
        schema: t.schema,
      }),
  },
};

/** An in-memory DuckDB target without settings (which only opening the database would check). */
function lazyInMemory(t: TargetConfig): boolean {
  const settings = t.settings as Record<string, unknown> | undefined;
  return String(t.path ?? ':memory:') === ':memory:' && Object.keys(settings ?? {}).length === 0;
}

/** The catalog an engine's connection builds in: `current_database()` on DuckDB and PostgreSQL. */
async function catalogName(engine: Engine): Promise<string> {
  const { rows } = await engine.query('SELECT current_database() AS catalog');
  return String(rows[0]?.catalog ?? '');
}

/** Opens the engine a target describes. */
async function openTargetEngine(target: TargetConfig): Promise<Engine> {
  const adapter = ADAPTERS[target.type];
  if (!adapter)
    throw new TributaryError(`profile type ${target.type} is not supported`, {
      code: 'CONFIG',
      hint: `supported types: ${Object.keys(ADAPTERS).join(', ')}`,
    });
  if (!target.schema) target.schema = adapter.defaultSchema;
  const engine = await adapter.open(target);
  try {
    // target.database is the catalog the engine opened (dbt-duckdb: the file's stem, `memory` in
    // memory; dbt-postgres: dbname), never a path: relations print it as their first part.
    target.database = adapter.knownCatalog?.(target) ?? (await catalogName(engine));
  } catch (err) {
    await engine.close();
    throw err;
  }
  return engine;
}

export interface OpenedDbtProject {
  project: DbtProject;
  target: TargetConfig;
  engine: Engine;
  parsed: ParsedProject;
  close(): Promise<void>;
}

export interface OpenOptions extends ProfileOptions {
  log?: (message: string) => void;
  /** `--warn-error` / `--warn-error-options` as given (the environment and flags: fill in). */
  warnError?: WarnErrorFlags;
}

/** Loads, connects and parses a dbt project folder; close it in a `finally`. */
export async function openDbtProject(
  dir: string,
  opts: OpenOptions = {},
): Promise<OpenedDbtProject> {
  const project = await loadDbtProject(resolve(dir), opts.vars ?? {});
  const warnError = resolveWarnError(opts.warnError ?? {}, project.flags);
  const target = await loadTarget(project, opts);
  const engine = await openTargetEngine(target);
  try {
    const parsed = await parseProject(project, {
      dialect: engine.dialect,
      target,
      dispatchPrefixes: [engine.kind],
      warnError,
      ...(opts.log ? { log: opts.log } : {}),
    });
    return { project, target, engine, parsed, close: () => engine.close() };
  } catch (err) {
    await engine.close();
    throw err;
  }
}

export interface PipelineModelsOptions {
  /** The dbt project folder (tributary.yml's models.project). */
  dir: string;
  /** Name to use when the folder has no dbt_project.yml. */
  fallbackName: string;
  /** The warehouse the pipeline builds in; it is the target, whatever profiles.yml says. */
  engine: Engine;
  schema: string;
  threads: number;
  /** Report query folders (absolute); they compile like dbt analyses. */
  reportDirs: string[];
}

/** Parses the models of a Tributary pipeline: its dbt project, targeted at the pipeline's warehouse. */
export async function parsePipelineModels(opts: PipelineModelsOptions): Promise<ParsedProject> {
  const project = (await isDbtProject(opts.dir))
    ? await loadDbtProject(opts.dir)
    : defaultDbtProject(opts.dir, opts.fallbackName);
  project.analysisPaths = [
    ...project.analysisPaths,
    ...opts.reportDirs.map((d) => relative(opts.dir, d) || '.'),
  ];
  const target: TargetConfig = {
    type: opts.engine.kind,
    name: 'tributary',
    schema: opts.schema,
    threads: opts.threads,
  };
  target.database = await catalogName(opts.engine);
  printRelationsWithoutCatalog(target);
  return parseProject(project, {
    dialect: opts.engine.dialect,
    target,
    dispatchPrefixes: [opts.engine.kind],
  });
}
