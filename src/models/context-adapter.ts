/**
 * dbt's `adapter` methods, `api`, `load_relation`, `is_relation`, and the statement machinery
 * (statement blocks, load_result, run_query) as dbt-core's providers and dbt-adapters'
 * BaseAdapter give them to templates, backed by the Engine seam. Names are matched as dbt
 * matches them: schemas listed case-insensitively, then identifiers exactly, and a name that
 * differs only in case is an error (dbt's ApproximateMatchError) rather than a guess.
 */
import { TributaryError } from '../core/index.js';
import type { Engine, QueryResult } from '../engines/index.js';
import { Kwargs, splitArgs, tuple } from '../jinja/index.js';
import { AgateTable } from './agate.js';
import { Column, adapterFlavour, columnApi, type AdapterFlavour } from './column.js';
import type { TargetConfig } from './dbt-project.js';
import type { Relation } from './relation.js';
import {
  DEFAULT_QUOTE_POLICY,
  RelationFactory,
  isRelation,
  mergeQuotePolicy,
  type Policy,
  type RelationType,
} from './relation.js';

/** What the adapter needs from a compile runtime (a subset, so it can be built on its own). */
export interface AdapterRuntime {
  target: TargetConfig;
  engine?: Engine;
  log(message: string): void;
}

function compilationError(message: string): TributaryError {
  return new TributaryError(`compilation error: ${message}`, { code: 'CONFIG' });
}

const factories = new WeakMap<
  TargetConfig,
  { flavour: AdapterFlavour; factory: RelationFactory }
>();

/** The root project's `quoting:` over the adapter's default, by target (see setProjectQuoting). */
const projectQuoting = new WeakMap<TargetConfig, Policy>();

/**
 * Makes `api.Relation.create`, ref() and `this` of `target` quote as the root dbt_project.yml's
 * `quoting:` says (dbt's RelationProxy and create_from_node merge it over the adapter's default).
 */
export function setProjectQuoting(target: TargetConfig, quoting: Record<string, unknown>): void {
  projectQuoting.set(target, mergeQuotePolicy(DEFAULT_QUOTE_POLICY, quoting));
  factories.delete(target);
}

/** The quote policy relations of `target` start from. */
export function quotePolicyOf(target: TargetConfig): Policy {
  return projectQuoting.get(target) ?? DEFAULT_QUOTE_POLICY;
}

/** The adapter flavour and `api.Relation` of a target (built once per target). */
export function relationsOf(target: TargetConfig): {
  flavour: AdapterFlavour;
  factory: RelationFactory;
} {
  let f = factories.get(target);
  if (!f) {
    const flavour = adapterFlavour(String(target.type));
    f = { flavour, factory: new RelationFactory(flavour.relationClass, quotePolicyOf(target)) };
    factories.set(target, f);
  }
  return f;
}

/** The catalog relations of this target live in (`target.database`), when it names one. */
function catalogOf(target: TargetConfig): string | null {
  const db = target.database;
  return typeof db === 'string' && db ? db : null;
}

/**
 * Targets whose ref()/source()/this print without the catalog: a Tributary pipeline's warehouse
 * is also read through copies attached under other catalog names (the serving snapshot, the query
 * sandbox's processes), where a view stored as `select … from "warehouse"."main"."a"` would not
 * resolve. The manifest still names the catalog (`database`, `relation_name`), as dbt does.
 */
const catalogFreeTargets = new WeakSet<TargetConfig>();

/** Makes relations of `target` print as `"schema"."identifier"` (see catalogFreeTargets). */
export function printRelationsWithoutCatalog(target: TargetConfig): void {
  catalogFreeTargets.add(target);
}

/**
 * A relation in the target's warehouse, printed as the adapter prints it; `quotePolicy` replaces
 * the project's (a source's own quoting).
 */
export function makeRelation(
  target: TargetConfig,
  database: string | null | undefined,
  schema: string | null,
  identifier: string,
  type: RelationType,
  quotePolicy?: Policy,
): Relation {
  const kwargs: Record<string, unknown> = {};
  if (catalogFreeTargets.has(target)) kwargs.include_policy = { database: false };
  if (quotePolicy) kwargs.quote_policy = quotePolicy;
  return relationsOf(target).factory.create(
    database === undefined ? catalogOf(target) : database,
    schema,
    identifier,
    type,
    ...(Object.keys(kwargs).length ? [new Kwargs(kwargs)] : []),
  );
}

function str(v: unknown): string | null {
  return v === undefined || v === null ? null : String(v);
}

/** Every relation in `schema` (matched case-insensitively), as list_relations_without_caching. */
async function listRelations(
  rt: AdapterRuntime,
  database: string | null,
  schema: string | null,
): Promise<Relation[]> {
  if (!rt.engine || schema === null) return [];
  const catalog = catalogOf(rt.target);
  if (database && catalog && database.toLowerCase() !== catalog.toLowerCase()) return [];
  const tables = await rt.engine.listTables();
  return tables
    .filter((t) => t.schema.toLowerCase() === schema.toLowerCase())
    .map((t) => makeRelation(rt.target, database ?? catalog, t.schema, t.name, t.type));
}

/** adapter.get_relation(database, schema, identifier): the relation, or None when absent. */
async function getRelation(rt: AdapterRuntime, raw: unknown[]): Promise<Relation | null> {
  const { args, kwargs } = splitArgs(raw);
  const database = str(kwargs.database ?? args[0]);
  const schema = str(kwargs.schema ?? args[1]);
  const identifier = str(kwargs.identifier ?? args[2]);
  const search = { database, schema, identifier };
  const found: Relation[] = [];
  for (const rel of await listRelations(rt, database, schema)) {
    let exact = true;
    let approximate = true;
    for (const k of ['database', 'schema', 'identifier'] as const) {
      const want = search[k];
      if (want === null) continue;
      const have = rel.path[k];
      if (have !== want) exact = false;
      if ((have ?? '').toLowerCase() !== want.toLowerCase()) approximate = false;
    }
    if (approximate && !exact) {
      const wanted = makeRelation(rt.target, database, schema, identifier ?? '', null);
      throw compilationError(
        'When searching for a relation, dbt found an approximate match. Instead of guessing \n' +
          `which relation to use, dbt will move on. Please delete ${rel.render()}, or rename it to be less ambiguous.\n` +
          `Searched for: ${wanted.render()}\nFound: ${rel.render()}`,
      );
    }
    if (exact) found.push(rel);
  }
  if (found.length > 1)
    throw compilationError(
      'get_relation returned more than one relation with the given args. Please specify a ' +
        `database or schema to narrow down the result set.\n${found.map((r) => r.render()).join(', ')}`,
    );
  return found[0] ?? null;
}

/** The columns of a relation, read from information_schema as dbt-duckdb/dbt-postgres read them. */
async function columnsIn(rt: AdapterRuntime, rel: unknown): Promise<Column[]> {
  if (!rt.engine) return [];
  if (!isRelation(rel)) throw compilationError('get_columns_in_relation() needs a relation');
  const { flavour } = relationsOf(rt.target);
  const params: unknown[] = [rel.identifier];
  let where = 'table_name = $1';
  if (rel.schema) {
    params.push(rel.schema.toLowerCase());
    where += ` AND lower(table_schema) = $${params.length}`;
  }
  if (rel.database) {
    params.push(rel.database.toLowerCase());
    where += ` AND lower(table_catalog) = $${params.length}`;
  }
  const { rows } = await rt.engine.query(
    `SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale
       FROM information_schema.columns WHERE ${where} ORDER BY ordinal_position`,
    params,
  );
  return rows.map(
    (r) =>
      new Column(
        flavour,
        String(r.column_name),
        String(r.data_type),
        r.character_maximum_length,
        r.numeric_precision,
        r.numeric_scale,
      ),
  );
}

function relationArg(v: unknown, method: string): Relation {
  if (!isRelation(v))
    throw compilationError(`adapter.${method}() needs a relation, got ${String(v)}`);
  return v;
}

/** `"name"` as adapter.quote() gives it. */
function quote(id: unknown): string {
  return `"${String(id).replaceAll('"', '""')}"`;
}

/** expand_target_column_types: widens the target's varchar columns the source has wider. */
async function expandColumnTypes(rt: AdapterRuntime, from: Relation, to: Relation): Promise<void> {
  if (!rt.engine) return;
  const source = new Map((await columnsIn(rt, from)).map((c) => [c.name, c]));
  for (const col of await columnsIn(rt, to)) {
    const wider = source.get(col.name);
    if (wider && col.can_expand_to(wider)) {
      // A view the engine keeps over the table (a masked mirror) would refuse the new type.
      if (to.schema && to.identifier)
        await rt.engine.beforeColumnsChange?.(to.schema, to.identifier);
      await rt.engine.exec(
        `ALTER TABLE ${to.render()} ALTER COLUMN ${quote(col.name)} TYPE ${Column.string_type(wider.string_size())}`,
      );
    }
  }
}

/** A method taking dbt's parameters by position or by name (`from_relation=…`). */
function pyArgs<T>(names: string[], fn: (...a: never[]) => T): (...raw: unknown[]) => T {
  return (...raw: unknown[]) => {
    const { args, kwargs } = splitArgs(raw);
    return (fn as (...a: unknown[]) => T)(...names.map((n, i) => kwargs[n] ?? args[i]));
  };
}

/**
 * The adapter's introspection and DDL methods (dispatch is added by the context). The DDL ones
 * return None, as dbt's do (`{{ adapter.drop_relation(r) }}` prints None).
 */
export function adapterMethods(rt: AdapterRuntime): Record<string, unknown> {
  const { factory, flavour } = relationsOf(rt.target);
  const engine = () => rt.engine;
  const getRel = (...a: unknown[]) => getRelation(rt, a);
  return {
    type: () => String(rt.target.type),
    quote: pyArgs(['identifier'], quote),
    // dbt: quoted when the project's quoting: (else the adapter's default) quotes that part.
    quote_as_configured: pyArgs(['identifier', 'quote_key'], (id: unknown, key: unknown) =>
      quotePolicyOf(rt.target)[String(key) as 'database' | 'schema' | 'identifier'] === false
        ? String(id)
        : quote(id),
    ),
    quote_seed_column: pyArgs(
      ['column', 'quote_config'],
      (col: unknown, quoteConfig: unknown = null) =>
        quoteConfig === false ? String(col) : quote(col),
    ),
    Relation: factory,
    Column: columnApi(flavour),
    get_relation: getRel,
    load_relation: pyArgs(['relation'], (rel: unknown) => {
      const r = relationArg(rel, 'load_relation');
      if (r.is_cte) return r;
      return getRelation(rt, [r.database, r.schema, r.identifier]);
    }),
    already_exists: pyArgs(
      ['schema', 'name'],
      async (schema: unknown, name: unknown) =>
        (await getRelation(rt, [catalogOf(rt.target), schema, name])) !== null,
    ),
    list_relations_without_caching: pyArgs(['schema_relation'], (rel: unknown) => {
      const r = relationArg(rel, 'list_relations_without_caching');
      return listRelations(rt, r.database, r.schema);
    }),
    list_relations: pyArgs(['database', 'schema'], (database: unknown, schema: unknown) =>
      listRelations(rt, str(database), str(schema)),
    ),
    list_schemas: async () => {
      const e = engine();
      if (!e) return [];
      const { rows } = await e.query(
        'SELECT schema_name FROM information_schema.schemata WHERE lower(catalog_name) = lower(current_database())',
      );
      return rows.map((r) => String(r.schema_name));
    },
    check_schema_exists: pyArgs(['database', 'schema'], async (_db: unknown, schema: unknown) => {
      const e = engine();
      if (!e) return false;
      const { rows } = await e.query(
        'SELECT 1 FROM information_schema.schemata WHERE lower(schema_name) = lower($1)',
        [String(schema)],
      );
      return rows.length > 0;
    }),
    get_columns_in_relation: pyArgs(['relation'], (rel: unknown) => columnsIn(rt, rel)),
    get_missing_columns: pyArgs(
      ['from_relation', 'to_relation'],
      async (from: unknown, to: unknown) => {
        const have = new Set(
          (await columnsIn(rt, relationArg(to, 'get_missing_columns'))).map((c) => c.name),
        );
        return (await columnsIn(rt, relationArg(from, 'get_missing_columns'))).filter(
          (c) => !have.has(c.name),
        );
      },
    ),
    expand_target_column_types: pyArgs(
      ['from_relation', 'to_relation'],
      async (from: unknown, to: unknown) => {
        await expandColumnTypes(
          rt,
          relationArg(from, 'expand_target_column_types'),
          relationArg(to, 'expand_target_column_types'),
        );
        return null;
      },
    ),
    execute: async (...raw: unknown[]) => {
      const { args, kwargs } = splitArgs(raw);
      if (!rt.engine) return tuple([new AdapterResponse('OK', null, 0), AgateTable.empty()]);
      const r = await runStatement(rt, String(args[0]), (kwargs.fetch ?? args[2]) === true);
      return tuple([r.response, r.table]);
    },
    drop_relation: pyArgs(['relation'], async (rel: unknown) => {
      const r = relationArg(rel, 'drop_relation');
      if (r.identifier) await engine()?.dropRelation(r.schema ?? undefined, r.identifier);
      return null;
    }),
    rename_relation: pyArgs(
      ['from_relation', 'to_relation'],
      async (from: unknown, to: unknown) => {
        const a = relationArg(from, 'rename_relation');
        const b = relationArg(to, 'rename_relation');
        if (a.identifier && b.identifier)
          await engine()?.renameRelation(a.schema ?? undefined, a.identifier, b.identifier);
        return null;
      },
    ),
    truncate_relation: pyArgs(['relation'], async (rel: unknown) => {
      await engine()?.exec(`DELETE FROM ${relationArg(rel, 'truncate_relation').render()}`);
      return null;
    }),
    create_schema: pyArgs(['relation'], async (rel: unknown) => {
      const r = relationArg(rel, 'create_schema');
      if (r.schema) await engine()?.ensureSchema(r.schema);
      return null;
    }),
    drop_schema: pyArgs(['relation'], async (rel: unknown) => {
      const r = relationArg(rel, 'drop_schema');
      if (r.schema) await engine()?.dropSchema(r.schema);
      return null;
    }),
  };
}

/** `api`: the adapter's Relation and Column classes. */
export function apiObject(target: TargetConfig): Record<string, unknown> {
  const { factory, flavour } = relationsOf(target);
  return { Relation: factory, Column: columnApi(flavour) };
}

/** The response load_result() carries: prints as the engine's status message. */
export class AdapterResponse {
  constructor(
    readonly _message: string,
    readonly code: string | null,
    readonly rows_affected: number,
  ) {}
  __str__(): string {
    return this._message;
  }
}

export interface StatementResult {
  response: AdapterResponse;
  table: AgateTable;
  data: unknown[][];
}

/** Results of statement blocks by name, for one node's render; null once loaded. */
export type StatementResults = Map<string, StatementResult | null>;

/** load_result(name): 'main' may be read again; any other result only once, as in dbt. */
export function loadResult(
  results: StatementResults,
  name: string,
): Record<string, unknown> | null {
  if (!results.has(name)) return null;
  const r = results.get(name);
  if (!r)
    throw compilationError(
      `The 'statement' result named '${name}' has already been loaded into a variable`,
    );
  if (name !== 'main') results.set(name, null);
  return { response: r.response, table: r.table, data: r.data };
}

/** Runs a statement's SQL and keeps its result as dbt's statement() does. */
export async function runStatement(
  rt: AdapterRuntime,
  sql: string,
  fetch: boolean,
): Promise<StatementResult> {
  const result: QueryResult = await rt.engine!.query(sql);
  const table = fetch ? AgateTable.fromResult(result, (t) => rt.log(t)) : AgateTable.empty();
  const verb = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? null;
  const rows = result.rows.length;
  const message = relationsOf(rt.target).flavour.statusMessages && verb ? `${verb} ${rows}` : 'OK';
  return { response: new AdapterResponse(message, verb, rows), table, data: table.matrix() };
}
