/**
 * What each role may read through the SQL sandbox (issue 12): the zones of the lake, the
 * snapshot (masked or not), the functions and relations its own SQL may name, whether server
 * folders show, and how long a query may run. The rules become a DuckDB sandbox's open options
 * (plain JSON): every role gets an instance of its own, enforced by DuckDB (allowed_directories,
 * the masked copy) and by checks on each statement's parse tree (engines/duckdb/read-policy.ts).
 *
 *   viewer   the warehouse and the processed zone through their relations, PII masked; no file
 *            functions, no quarantine, no server paths; timeoutMs up to 30 s
 *   operator also raw and quarantine, and the lake's files (lake-relative paths); PII visible;
 *            no server paths; timeoutMs up to 120 s
 *   admin    everything the sandbox allows at all; timeoutMs up to 300 s
 */
import { join } from 'node:path';
import { TributaryError } from '../core/index.js';
import type { SandboxOptions, SandboxPolicy } from '../engines/index.js';
import type { ServingSnapshot } from '../orchestrator/index.js';
import type { Role } from './auth.js';

export interface RoleReadRules {
  /** Queries on the masked snapshot (PII masked). */
  masked: boolean;
  /** Lake zones its instance may read files in (views included); undefined: the whole lake. */
  zones?: string[];
  /** Its own SQL may call the file functions (lake files only). */
  readsFiles: boolean;
  /** Server folders show in results, errors and settings. */
  seesPaths: boolean;
  /** The longest timeoutMs it may ask. */
  maxTimeoutMs: number;
}

export const READ_RULES: Record<Role, RoleReadRules> = {
  viewer: {
    masked: true,
    zones: ['processed'],
    readsFiles: false,
    seesPaths: false,
    maxTimeoutMs: 30_000,
  },
  operator: { masked: false, readsFiles: true, seesPaths: false, maxTimeoutMs: 120_000 },
  admin: { masked: false, readsFiles: true, seesPaths: true, maxTimeoutMs: 300_000 },
};

/** Table functions that read files: the first argument is a path or a list of paths. */
export const FILE_FUNCTIONS = [
  'glob',
  'read_csv',
  'read_csv_auto',
  'sniff_csv',
  'read_parquet',
  'parquet_scan',
  'parquet_metadata',
  'parquet_schema',
  'parquet_file_metadata',
  'parquet_kv_metadata',
  'parquet_full_metadata',
  'parquet_bloom_probe',
  'read_json',
  'read_json_auto',
  'read_json_objects',
  'read_json_objects_auto',
  'read_ndjson',
  'read_ndjson_auto',
  'read_ndjson_objects',
  'read_text',
  'read_blob',
  'read_duckdb',
];

/** Functions that show the server's folders, settings or attached files. */
const PATH_FUNCTIONS = [
  'duckdb_settings',
  'duckdb_databases',
  'duckdb_views',
  'duckdb_extensions',
  'duckdb_temporary_files',
  'duckdb_external_file_cache',
  'duckdb_secrets',
  'which_secret',
  'duckdb_logs',
  'duckdb_logs_parsed',
  'duckdb_log_contexts',
  'duckdb_profiling_settings',
  'pragma_database_list',
  'pragma_metadata_info',
  'pragma_storage_info',
  'pragma_user_agent',
  'pragma_platform',
  'current_setting',
  'pg_get_viewdef',
];

/** Functions that run SQL given as text or as a parse tree: they would escape these checks. */
const SQL_TEXT_FUNCTIONS = ['query', 'query_table', 'json_execute_serialized_sql'];

/** Table functions that change the server's state or take raw memory pointers. */
const STATE_FUNCTIONS = [
  'enable_logging',
  'disable_logging',
  'write_log',
  'truncate_duckdb_logs',
  'enable_profiling',
  'disable_profiling',
  'enable_peg_parser',
  'disable_peg_parser',
  'check_peg_parser',
  'checkpoint',
  'force_checkpoint',
  'arrow_scan',
  'arrow_scan_dumb',
];

/** DuckDB's catalog views that show view definitions (absolute lake paths) or settings. */
const PATH_VIEWS = [
  'duckdb_views',
  'duckdb_databases',
  'duckdb_logs',
  'pragma_database_list',
  'sqlite_master',
  'sqlite_schema',
  'sqlite_temp_master',
  'sqlite_temp_schema',
  'information_schema.views',
  'pg_catalog.pg_views',
  'pg_views',
  'pg_catalog.pg_settings',
  'pg_settings',
];

/** Table functions a viewer may call: generators and the catalog without definitions. */
export const VIEWER_TABLE_FUNCTIONS = [
  'range',
  'generate_series',
  'unnest',
  'repeat',
  'repeat_row',
  'json_each',
  'json_tree',
  'duckdb_columns',
  'duckdb_tables',
  'duckdb_schemas',
  'duckdb_types',
  'duckdb_functions',
  'duckdb_keywords',
  'duckdb_constraints',
  'duckdb_indexes',
  'duckdb_sequences',
  'duckdb_dependencies',
  'pragma_table_info',
  'pragma_version',
  'pg_timezone_names',
  'icu_calendar_names',
];

/** Roles whose rules allow `pick`, in order: "operator and admin". */
function whoMay(pick: (r: RoleReadRules) => boolean): string {
  const roles = (Object.keys(READ_RULES) as Role[]).filter((r) => pick(READ_RULES[r]));
  return roles.length === 1 ? `only ${roles[0]} may` : `${roles.join(' and ')} may`;
}

/** The statement checks of a role (engines/duckdb/read-policy.ts), for a snapshot's lake. */
export function sandboxPolicy(role: Role, lake: string, serving?: string): SandboxPolicy {
  const rules = READ_RULES[role];
  const refusedFunctions: Record<string, string> = {};
  const refusedRelations: Record<string, string> = {};
  const filesWho = whoMay((r) => r.readsFiles);
  const pathsWho = whoMay((r) => r.seesPaths);
  if (!rules.readsFiles)
    for (const f of FILE_FUNCTIONS)
      refusedFunctions[f] =
        `reads or writes files, which the ${role} role may not do here (${filesWho} read the lake's files)`;
  if (!rules.seesPaths) {
    for (const f of PATH_FUNCTIONS)
      refusedFunctions[f] = `shows the server's settings or folders (${pathsWho})`;
    for (const f of SQL_TEXT_FUNCTIONS)
      refusedFunctions[f] = `runs SQL given as text, which these checks cannot see (${pathsWho})`;
    for (const f of STATE_FUNCTIONS)
      refusedFunctions[f] = `changes the server's state or reads its memory (${pathsWho})`;
    for (const v of PATH_VIEWS)
      refusedRelations[v] =
        `shows view definitions, files or settings with server folders (${pathsWho})`;
  }
  for (const zone of ['raw', 'quarantine'])
    if (rules.zones && !rules.zones.includes(zone))
      refusedRelations[`${zone}.*`] =
        `is in the ${zone} zone, which the ${role} role may not read (${whoMay((r) => !r.zones || r.zones.includes(zone))})`;
  const lakeSlash = lake.endsWith('/') ? lake : `${lake}/`;
  return {
    role,
    refusedFunctions,
    refusedRelations,
    ...(rules.readsFiles
      ? { filesRelativeTo: lake, fileFunctions: FILE_FUNCTIONS }
      : {
          tableFunctions: VIEWER_TABLE_FUNCTIONS,
          otherTableFunctions: `is not open to the ${role} role (${filesWho} call any table function the sandbox allows)`,
          filesByName: `reads a file by its name, which the ${role} role may not do here (${filesWho} read the lake's files)`,
        }),
    ...(rules.seesPaths
      ? {}
      : {
          pathAliases: [
            [lakeSlash, ''],
            [lake, '.'],
            ...(serving ? ([[`${serving}/`, '']] as [string, string][]) : []),
          ],
        }),
    maxTimeoutMs: rules.maxTimeoutMs,
  };
}

/** The open options of the sandbox a role queries a snapshot through. */
export function sandboxOptionsFor(
  role: Role,
  snapshot: ServingSnapshot,
  base: Pick<SandboxOptions, 'memoryLimit' | 'threads' | 'tempDirectory'>,
): SandboxOptions {
  const rules = READ_RULES[role];
  // A snapshot published before roles had rules has no masked twin and no lake field.
  const published = snapshot as Partial<ServingSnapshot>;
  if (!published.masked || !published.lake)
    throw new TributaryError(
      `the published warehouse snapshot predates the read rules of roles, so the ${role} role cannot query it yet`,
      {
        code: 'USAGE',
        hint: 'run the pipeline (`tributary run`) or restart `tributary serve` to publish it again',
      },
    );
  const lake = snapshot.lake;
  const serving = snapshot.file.slice(0, snapshot.file.lastIndexOf('/'));
  return {
    path: rules.masked ? snapshot.masked.file : snapshot.file,
    allowedDirectories: rules.zones ? rules.zones.map((z) => join(lake, z)) : [lake],
    ...base,
    policy: sandboxPolicy(role, lake, serving),
  };
}

/** The cap on timeoutMs of a role, and its default (the runner's default, at most the cap). */
export function timeoutFor(role: Role, requested: number | undefined, fallback: number): number {
  return requested ?? Math.min(fallback, READ_RULES[role].maxTimeoutMs);
}
