/**
 * Node configuration as dbt resolves it: defaults, then dbt_project.yml's tree (`+key` and known
 * keys at each folder level, deeper wins), then properties yml `config:`, then config() in the
 * file. tags and hooks accumulate, meta and column_types merge, everything else is replaced.
 */
import type { NodeConfig, ResourceType } from './types.js';

/** Keys dbt recognises as config even without a leading `+`. */
const KNOWN_KEYS = new Set([
  'enabled',
  'materialized',
  'schema',
  'alias',
  'database',
  'tags',
  'meta',
  'unique_key',
  'incremental_strategy',
  'on_schema_change',
  'full_refresh',
  'column_types',
  'pre-hook',
  'post-hook',
  'pre_hook',
  'post_hook',
  'persist_docs',
  'docs',
  'grants',
  'contract',
  'quote_columns',
  'severity',
  'where',
  'store_failures',
  'store_failures_as',
  'fail_calc',
  'warn_if',
  'error_if',
  'limit',
  'strategy',
  'updated_at',
  'check_cols',
  'target_schema',
  'target_database',
  'invalidate_hard_deletes',
  'delimiter',
  'quoting',
  'sql_header',
  'group',
  'access',
  'snapshot_meta_column_names',
  'hard_deletes',
  'batch_size',
  'event_time',
  'lookback',
  'incremental_predicates',
  'merge_update_columns',
  'merge_exclude_columns',
  'dbt_valid_to_current',
]);
const APPEND = new Set(['tags', 'pre_hook', 'post_hook']);
const UPDATE = new Set(['meta', 'column_types', 'docs', 'quoting', 'grants']);

/** dbt's defaults per resource type. */
export function defaultConfig(type: ResourceType): NodeConfig {
  const base: NodeConfig = {
    enabled: true,
    materialized: 'view',
    tags: [],
    meta: {},
    pre_hook: [],
    post_hook: [],
  };
  switch (type) {
    case 'seed':
      return { ...base, materialized: 'seed', column_types: {} };
    case 'snapshot':
      return { ...base, materialized: 'snapshot', invalidate_hard_deletes: false };
    case 'test':
      return {
        ...base,
        materialized: 'test',
        // dbt's TestConfig: failing rows are stored in <target schema>_dbt_test__audit.
        schema: 'dbt_test__audit',
        severity: 'ERROR',
        fail_calc: 'count(*)',
        warn_if: '!= 0',
        error_if: '!= 0',
        store_failures: null,
        store_failures_as: null,
        where: null,
        limit: null,
      };
    default:
      return { ...base, on_schema_change: 'ignore' };
  }
}

/** `pre-hook`/`+pre-hook` → `pre_hook`, the spelling used inside the manifest. */
function normaliseKey(key: string): string {
  const k = key.startsWith('+') ? key.slice(1) : key;
  return k === 'pre-hook' ? 'pre_hook' : k === 'post-hook' ? 'post_hook' : k;
}

const asArray = (v: unknown): unknown[] =>
  v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];

/** Applies `updates` onto `config` in place with dbt's merge behaviour per key. */
export function mergeConfig(config: NodeConfig, updates: Record<string, unknown>): NodeConfig {
  for (const [rawKey, value] of Object.entries(updates)) {
    const key = normaliseKey(rawKey);
    if (APPEND.has(key)) {
      const add = asArray(value).map((v) =>
        typeof v === 'object' && v && 'sql' in v ? String((v as { sql: unknown }).sql) : String(v),
      );
      const current = (config[key] as string[] | undefined) ?? [];
      config[key] = key === 'tags' ? [...new Set([...current, ...add])] : [...current, ...add];
    } else if (UPDATE.has(key) && value && typeof value === 'object' && !Array.isArray(value)) {
      config[key] = { ...((config[key] as object | undefined) ?? {}), ...value };
    } else {
      config[key] = value;
    }
  }
  return config;
}

/**
 * The configs that dbt_project.yml's tree gives a node with this fqn
 * (`[project, folder…, name]`), outermost first.
 */
export function treeConfigs(
  tree: Record<string, unknown>,
  fqn: string[],
): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let level: Record<string, unknown> | undefined = tree;
  for (let depth = 0; level; depth++) {
    const next = fqn[depth];
    const own: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(level)) {
      if (k.startsWith('+')) own[k] = v;
      else if (
        KNOWN_KEYS.has(k) &&
        !(next === k && v && typeof v === 'object' && !Array.isArray(v))
      )
        own[k] = v;
    }
    out.push(own);
    if (next === undefined) break;
    const child: unknown = level[next];
    level =
      child && typeof child === 'object' && !Array.isArray(child)
        ? (child as Record<string, unknown>)
        : undefined;
  }
  return out;
}

/**
 * A test's config once every level applied, checked and settled as dbt does: severity is warn
 * or error (any case), and store_failures_as, when set, decides store_failures (ephemeral stores
 * nothing, table or view store; an unknown value fails when the test runs, as in dbt).
 */
export function finalizeTestConfig(
  config: NodeConfig,
  fail: (message: string, hint?: string) => Error,
): void {
  const severity = config.severity;
  if (typeof severity !== 'string' || !/^(warn|error)$/i.test(severity))
    throw fail(
      `test severity must be warn or error, got ${JSON.stringify(severity)}`,
      'set severity: warn or severity: error',
    );
  const as = config.store_failures_as;
  if (as !== undefined && as !== null) config.store_failures = as !== 'ephemeral';
}

/**
 * A config as dbt's UnrenderedConfigGenerator builds it: each level's keys (`+` dropped, config()
 * spellings `pre_hook`/`post_hook` as `pre-hook`/`post-hook`) simply replacing earlier ones.
 */
export function unrenderedConfig(...levels: Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const level of levels)
    for (const [k, v] of Object.entries(level)) {
      const key = k.startsWith('+') ? k.slice(1).trim() : k;
      out[key === 'pre_hook' ? 'pre-hook' : key === 'post_hook' ? 'post-hook' : key] = v;
    }
  return out;
}
