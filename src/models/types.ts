/**
 * The shapes of a parsed dbt project: nodes, sources, macros and docs, keyed by unique id as in
 * dbt's manifest.json (docs/artifacts.md describes the serialized form), and `newNode`. Compiling a project
 * yields one `Manifest`; running it is a separate step that reads only this.
 */

export type ResourceType = 'model' | 'seed' | 'snapshot' | 'test' | 'analysis';

/** Resolved configuration of a node: project tree, then properties yml, then config() in the file. */
export interface NodeConfig {
  enabled: boolean;
  materialized: string;
  schema?: string | null;
  alias?: string | null;
  database?: string | null;
  tags: string[];
  meta: Record<string, unknown>;
  unique_key?: string | string[] | null;
  incremental_strategy?: string | null;
  on_schema_change?: string | null;
  full_refresh?: boolean | null;
  column_types?: Record<string, string>;
  pre_hook: string[];
  post_hook: string[];
  // tests
  severity?: string;
  where?: string | null;
  store_failures?: boolean | null;
  fail_calc?: string;
  warn_if?: string;
  error_if?: string;
  limit?: number | null;
  // snapshots
  strategy?: string | null;
  updated_at?: string | null;
  check_cols?: string | string[] | null;
  invalidate_hard_deletes?: boolean;
  target_schema?: string | null;
  target_database?: string | null;
  [key: string]: unknown;
}

export interface ColumnDoc {
  name: string;
  description: string;
  data_type?: string | null;
  meta: Record<string, unknown>;
  tags: string[];
}

export interface RefCall {
  name: string;
  package?: string | null;
  version?: string | number | null;
}

export interface Node {
  unique_id: string;
  resource_type: ResourceType;
  package_name: string;
  name: string;
  /** Path relative to its resource folder (e.g. `staging/stg_orders.sql`). */
  path: string;
  /** Path relative to the project folder. */
  original_file_path: string;
  fqn: string[];
  raw_code: string;
  language: 'sql';
  /** sha256 of the file; generic tests have none (dbt's FileHash.empty()). */
  checksum: { name: 'sha256' | 'none'; checksum: string };
  config: NodeConfig;
  tags: string[];
  description: string;
  columns: Record<string, ColumnDoc>;
  meta: Record<string, unknown>;
  refs: RefCall[];
  sources: [string, string][];
  depends_on: { macros: string[]; nodes: string[] };
  database: string | null;
  schema: string;
  alias: string;
  relation_name: string | null;
  /** `<package>://<properties file>` of the yml entry that described the node, as dbt writes it. */
  patch_path?: string | null;
  /** Generic tests: which test and with which arguments. */
  test_metadata?: { name: string; kwargs: Record<string, unknown>; namespace: string | null };
  column_name?: string | null;
  attached_node?: string | null;
  /**
   * Where its config came from, as written, for the manifest's `unrendered_config` (dbt's
   * build_config_dict(rendered=False)): its project's dbt_project.yml levels, its properties
   * entry's `config:`, its config() calls, and for a package's node the root project's levels.
   */
  config_sources?: {
    project: Record<string, unknown>;
    patch: Record<string, unknown>;
    calls: Record<string, unknown>;
    root: Record<string, unknown>;
  };
  /**
   * How its relation's parts are quoted: the adapter's default under the root dbt_project.yml's
   * `quoting:` (dbt's create_from_node); not in dbt's manifest.
   */
  quote_policy?: Readonly<Record<'database' | 'schema' | 'identifier', boolean>>;
  /** Seeds: the CSV file's absolute path (not in dbt's manifest, kept out of the serialized form). */
  seed_file?: string;
  /** Line where the node's SQL starts in its file (snapshot blocks start mid-file). */
  line?: number;
}

export interface FreshnessRule {
  count: number;
  period: 'minute' | 'hour' | 'day';
}

export interface SourceNode {
  unique_id: string;
  resource_type: 'source';
  package_name: string;
  source_name: string;
  name: string;
  identifier: string;
  schema: string;
  database: string | null;
  relation_name: string;
  /** The source's `quoting:` merged with its table's (null: the adapter's default). */
  quoting: Record<'database' | 'schema' | 'identifier', boolean | null>;
  loader: string;
  description: string;
  source_description: string;
  columns: Record<string, ColumnDoc>;
  loaded_at_field: string | null;
  freshness: {
    warn_after: FreshnessRule | null;
    error_after: FreshnessRule | null;
    filter: string | null;
  } | null;
  original_file_path: string;
  fqn: string[];
  tags: string[];
  meta: Record<string, unknown>;
  config: { enabled: boolean };
}

export interface MacroNode {
  unique_id: string;
  name: string;
  package_name: string;
  /** Path relative to the package's folder (for dbt's built-ins: where Tributary keeps them). */
  original_file_path: string;
  line: number;
  /** The macro's whole block, `{% macro … %}…{% endmacro %}`, as dbt's manifest keeps it. */
  macro_sql: string;
  /** Documented in a properties file's `macros:` entry; dbt lists none otherwise. */
  arguments: { name: string; type: string | null; description: string }[];
  description: string;
}

export interface DocNode {
  unique_id: string;
  name: string;
  package_name: string;
  original_file_path: string;
  block_contents: string;
}

export interface Manifest {
  projectName: string;
  nodes: Map<string, Node>;
  sources: Map<string, SourceNode>;
  macros: Map<string, MacroNode>;
  docs: Map<string, DocNode>;
  /** unique_id → the nodes and sources it reads. */
  parentMap: Map<string, string[]>;
  /** unique_id → the nodes that read it. */
  childMap: Map<string, string[]>;
  /** Nodes disabled by config, by unique_id (shown by ls, never run). */
  disabled: Map<string, Node>;
}

/** What identifies a node; everything else starts empty and is filled in as the project is read. */
export type NodeIdentity = Pick<
  Node,
  | 'unique_id'
  | 'resource_type'
  | 'package_name'
  | 'name'
  | 'path'
  | 'original_file_path'
  | 'fqn'
  | 'raw_code'
  | 'checksum'
  | 'config'
  | 'schema'
>;

/** A node with its identity and every other field empty (no refs, no docs, alias = name). */
export function newNode(identity: NodeIdentity & Partial<Node>): Node {
  return {
    language: 'sql',
    tags: [],
    description: '',
    columns: {},
    meta: {},
    refs: [],
    sources: [],
    depends_on: { macros: [], nodes: [] },
    database: null,
    alias: identity.name,
    relation_name: null,
    ...identity,
  };
}
