/**
 * The manifest's entries in the shape dbt-core 1.9 writes them (manifest v12): every field dbt
 * writes for each resource type, with dbt's defaults where Tributary keeps nothing of its own,
 * and nothing dbt's schema forbids. docs/artifacts.md says which fields carry real values.
 */
import { unrenderedConfig } from './config.js';
import type { ParsedProject } from './parse.js';
import type { ColumnDoc, DocNode, MacroNode, Node, NodeConfig, SourceNode } from './types.js';

type Json = Record<string, unknown>;

const DOCS = () => ({ show: true, node_color: null });

/** dbt's NodeConfig defaults (models, analyses, snapshots and seeds start from these). */
function nodeConfigDefaults(): Json {
  return {
    enabled: true,
    alias: null,
    schema: null,
    database: null,
    tags: [],
    meta: {},
    group: null,
    materialized: 'view',
    incremental_strategy: null,
    batch_size: null,
    lookback: 1,
    begin: null,
    persist_docs: {},
    'post-hook': [],
    'pre-hook': [],
    quoting: {},
    column_types: {},
    full_refresh: null,
    unique_key: null,
    on_schema_change: 'ignore',
    on_configuration_change: 'apply',
    grants: {},
    packages: [],
    docs: DOCS(),
    contract: { enforced: false, alias_types: true },
    event_time: null,
    concurrent_batches: null,
  };
}

/** dbt's config defaults for a resource type. */
function configDefaults(type: Node['resource_type']): Json {
  switch (type) {
    case 'model':
      return { ...nodeConfigDefaults(), access: 'protected' };
    case 'seed':
      return { ...nodeConfigDefaults(), materialized: 'seed', delimiter: ',', quote_columns: null };
    case 'snapshot':
      return {
        ...nodeConfigDefaults(),
        materialized: 'snapshot',
        strategy: null,
        target_schema: null,
        target_database: null,
        updated_at: null,
        check_cols: null,
        snapshot_meta_column_names: {
          dbt_valid_to: null,
          dbt_valid_from: null,
          dbt_scd_id: null,
          dbt_updated_at: null,
          dbt_is_deleted: null,
        },
        dbt_valid_to_current: null,
      };
    case 'test':
      return {
        enabled: true,
        alias: null,
        schema: 'dbt_test__audit',
        database: null,
        tags: [],
        meta: {},
        group: null,
        materialized: 'test',
        severity: 'ERROR',
        store_failures: null,
        store_failures_as: null,
        where: null,
        limit: null,
        fail_calc: 'count(*)',
        warn_if: '!= 0',
        error_if: '!= 0',
      };
    default:
      return nodeConfigDefaults();
  }
}

/** A node's resolved config over dbt's defaults; hooks as dbt's `{sql, transaction, index}`. */
function configJson(node: Node): Json {
  const out = configDefaults(node.resource_type);
  const { pre_hook: pre, post_hook: post, ...rest } = node.config as NodeConfig;
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) out[k] = v;
  if (node.resource_type !== 'test' || pre.length || post.length) {
    const hook = (sql: string) => ({ sql, transaction: true, index: null });
    out['pre-hook'] = pre.map(hook);
    out['post-hook'] = post.map(hook);
  }
  return out;
}

function columnsJson(columns: Record<string, ColumnDoc>): Json {
  const out: Json = {};
  for (const [name, c] of Object.entries(columns))
    out[name] = {
      name: c.name,
      description: c.description,
      meta: c.meta,
      data_type: c.data_type ?? null,
      constraints: [],
      quote: null,
      tags: c.tags,
      granularity: null,
    };
  return out;
}

/** What the manifest writer needs besides the entry itself. */
export interface ManifestContext {
  pp: ParsedProject;
  /** Epoch seconds, dbt's `created_at`. */
  createdAt: number;
  /** unique_id → the macros the node's own Jinja calls. */
  macroCalls(node: Node): string[];
}

/** The properties every node type has, in dbt's order. */
function baseNodeJson(node: Node, ctx: ManifestContext): Json {
  return {
    database: node.database,
    schema: node.schema,
    name: node.name,
    resource_type: node.resource_type,
    package_name: node.package_name,
    path: node.path,
    original_file_path: node.original_file_path,
    unique_id: node.unique_id,
    fqn: node.fqn,
    alias: node.alias,
    checksum: node.checksum,
    config: configJson(node),
    tags: node.tags,
    description: node.description,
    columns: columnsJson(node.columns),
    meta: node.meta,
    group: null,
    docs: DOCS(),
    patch_path: node.patch_path ?? null,
    build_path: null,
    unrendered_config: nodeUnrenderedConfig(node),
    created_at: ctx.createdAt,
    relation_name: node.relation_name,
    raw_code: node.raw_code,
  };
}

/**
 * dbt's unrendered_config: dbt_project.yml's levels as written, then the properties entry's
 * config, then the config() calls (as called: dbt 1.9 keeps their rendered values unless the
 * state_modified_compare_more_unrendered_values flag is on), then for a package's node the root
 * project's levels.
 */
function nodeUnrenderedConfig(node: Node): Record<string, unknown> {
  const c = node.config_sources;
  return c ? unrenderedConfig(c.project, c.patch, c.calls, c.root) : {};
}

/**
 * One node (model, seed, snapshot, test or analysis) as dbt writes it. Built by adding to one
 * object in dbt's key order rather than spreading copies: the manifest holds thousands of them.
 */
export function nodeJson(node: Node, ctx: ManifestContext): Json {
  const out = baseNodeJson(node, ctx);
  const macros = ctx.macroCalls(node);
  if (node.resource_type === 'seed') {
    out.root_path = ctx.pp.project.dir;
    out.depends_on = { macros };
    out.defer_relation = null;
    return out;
  }
  out.language = node.language;
  out.refs = node.refs.map((r) => ({
    name: r.name,
    package: r.package ?? null,
    version: r.version ?? null,
  }));
  out.sources = node.sources;
  out.metrics = [];
  out.depends_on = { macros, nodes: node.depends_on.nodes };
  out.compiled_path = null;
  out.contract = { enforced: false, alias_types: true, checksum: null };
  switch (node.resource_type) {
    case 'model':
      out.access = 'protected';
      out.constraints = [];
      out.version = null;
      out.latest_version = null;
      out.deprecation_date = null;
      out.defer_relation = null;
      out.primary_key = [];
      out.time_spine = null;
      return out;
    case 'snapshot':
      out.defer_relation = null;
      return out;
    case 'test':
      return node.test_metadata ? Object.assign(out, genericTestFields(node, ctx)) : out;
    default:
      return out;
  }
}

/** column_name, file_key_name, attached_node and test_metadata of a generic test. */
function genericTestFields(node: Node, ctx: ManifestContext): Json {
  const attached = node.attached_node ?? null;
  const parent = attached
    ? (ctx.pp.manifest.nodes.get(attached) ?? ctx.pp.manifest.disabled.get(attached))
    : undefined;
  const source = node.depends_on.nodes.map((id) => ctx.pp.manifest.sources.get(id)).find(Boolean);
  // dbt: the properties section and entry the test was declared under.
  const fileKey = parent
    ? `${parent.resource_type === 'analysis' ? 'analyses' : `${parent.resource_type}s`}.${parent.name}`
    : source
      ? `sources.${source.source_name}`
      : null;
  return {
    column_name: node.column_name ?? null,
    file_key_name: fileKey,
    attached_node: attached,
    test_metadata: {
      name: node.test_metadata!.name,
      kwargs: node.test_metadata!.kwargs,
      namespace: node.test_metadata!.namespace,
    },
  };
}

/** A source table as dbt writes it. */
export function sourceJson(src: SourceNode, ctx: ManifestContext): Json {
  const rule = (r: { count: number; period: string } | null) =>
    r ? { count: r.count, period: r.period } : { count: null, period: null };
  return {
    database: src.database,
    schema: src.schema,
    name: src.name,
    resource_type: 'source',
    package_name: src.package_name,
    path: src.original_file_path,
    original_file_path: src.original_file_path,
    unique_id: src.unique_id,
    fqn: src.fqn,
    source_name: src.source_name,
    source_description: src.source_description,
    loader: src.loader,
    identifier: src.identifier,
    quoting: { ...src.quoting, column: null },
    loaded_at_field: src.loaded_at_field,
    freshness: {
      warn_after: rule(src.freshness?.warn_after ?? null),
      error_after: rule(src.freshness?.error_after ?? null),
      filter: src.freshness?.filter ?? null,
    },
    external: null,
    description: src.description,
    columns: columnsJson(src.columns),
    meta: src.meta,
    source_meta: {},
    tags: src.tags,
    config: { enabled: src.config.enabled, event_time: null },
    patch_path: null,
    unrendered_config: {},
    relation_name: src.relation_name,
    created_at: ctx.createdAt,
    unrendered_database: null,
    unrendered_schema: null,
  };
}

/** A macro as dbt writes it. */
export function macroJson(m: MacroNode, ctx: ManifestContext): Json {
  return {
    name: m.name,
    resource_type: 'macro',
    package_name: m.package_name,
    path: m.original_file_path,
    original_file_path: m.original_file_path,
    unique_id: m.unique_id,
    macro_sql: m.macro_sql,
    depends_on: { macros: [] },
    description: m.description,
    meta: {},
    docs: DOCS(),
    patch_path: null,
    arguments: m.arguments,
    created_at: ctx.createdAt,
    supported_languages: null,
  };
}

/** A docs block as dbt writes it (`path` relative to the folder it was found under). */
export function docJson(d: DocNode): Json {
  const slash = d.original_file_path.indexOf('/');
  return {
    name: d.name,
    resource_type: 'doc',
    package_name: d.package_name,
    path: slash === -1 ? d.original_file_path : d.original_file_path.slice(slash + 1),
    original_file_path: d.original_file_path,
    unique_id: d.unique_id,
    block_contents: d.block_contents,
  };
}
