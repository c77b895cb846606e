/**
 * dbt's internal macros (the `dbt` namespace): the global project's (naming, generic tests,
 * cross-database utils) then the active adapter's own implementations, as dbt loads only the
 * adapter in use. They are Jinja parsed once per adapter, so a project or package overrides any
 * of them by name or through adapter.dispatch exactly as in dbt.
 */
import { JinjaEnvironment, type MacroDefinition } from '../../jinja/index.js';
import { BUILTIN_MACROS, BUILTIN_MACROS_FILE } from '../builtins.js';
import { DUCKDB_MACROS, DUCKDB_MACROS_FILE } from './duckdb.js';
import { POSTGRES_MACROS, POSTGRES_MACROS_FILE } from './postgres.js';
import { UTILS_MACROS, UTILS_MACROS_FILE } from './utils.js';

interface MacroSource {
  file: string;
  text: string;
}

const GLOBAL_PROJECT: readonly MacroSource[] = [
  { file: BUILTIN_MACROS_FILE, text: BUILTIN_MACROS },
  { file: UTILS_MACROS_FILE, text: UTILS_MACROS },
];

/** Each adapter's macros by adapter type (dbt's `dbt_postgres`, `dbt_duckdb` packages). */
const ADAPTERS: Readonly<Record<string, MacroSource>> = {
  postgres: { file: POSTGRES_MACROS_FILE, text: POSTGRES_MACROS },
  duckdb: { file: DUCKDB_MACROS_FILE, text: DUCKDB_MACROS },
};

/**
 * The package a file of internal macros belongs to in dbt's manifest (`dbt` for the global
 * project, `dbt_postgres` / `dbt_duckdb` for an adapter's) and its text, for the manifest's
 * macro_sql; undefined for a file that is not one of them.
 */
export function internalMacroSource(file: string): { package: string; text: string } | undefined {
  const global = GLOBAL_PROJECT.find((g) => g.file === file);
  if (global) return { package: 'dbt', text: global.text };
  const adapter = Object.entries(ADAPTERS).find(([, a]) => a.file === file);
  return adapter ? { package: `dbt_${adapter[0]}`, text: adapter[1].text } : undefined;
}

const env = new JinjaEnvironment();
const parsed = new Map<string, ReadonlyMap<string, MacroDefinition>>();

/**
 * The internal macros for a target whose adapter dispatch prefixes are `adapterTypes` (e.g.
 * `['duckdb']`): the global project's, then each adapter's, a later one replacing an earlier one
 * of the same name. Parsed on first use and shared by every project.
 */
export function internalMacros(
  adapterTypes: readonly string[],
): ReadonlyMap<string, MacroDefinition> {
  const key = adapterTypes.join(',');
  let macros = parsed.get(key);
  if (!macros) {
    const all = new Map<string, MacroDefinition>();
    const sources = [
      ...GLOBAL_PROJECT,
      ...adapterTypes.flatMap((t) => (ADAPTERS[t] ? [ADAPTERS[t]] : [])),
    ];
    for (const { file, text } of sources)
      for (const [name, def] of env.parse(text, file).macros) all.set(name, def);
    parsed.set(key, (macros = all));
  }
  return macros;
}
