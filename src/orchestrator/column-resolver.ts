/**
 * Column lineage of one SELECT, read from DuckDB's own parse tree (`json_serialize_sql`): which
 * upstream relation columns each output column is computed from, through CTEs, subqueries, joins
 * (aliases, USING, NATURAL), `*` / `t.*` with EXCLUDE, REPLACE and RENAME, set operations (by
 * position, or BY NAME), aggregates, window functions and CASE (a column derives from every
 * column its expression references). Where the SQL does not say which columns flow where (PIVOT,
 * a table function, a star over a relation whose columns are not known, an ambiguous name), the
 * column is `unresolved` with the reason: nothing is guessed.
 *
 * Filters (WHERE, JOIN ON, HAVING) decide which rows, not what a value is made of, so they are
 * not lineage. The resolver is pure: the caller says which columns each relation has.
 */

/** A column of a warehouse relation; `relation` is `schema.name`, lower-cased. */
export interface RelationColumn {
  relation: string;
  column: string;
}

/**
 * - `identity`: the upstream column as it is, under the same name;
 * - `rename`: the upstream column as it is, under another name;
 * - `derived`: computed from the upstream columns (a function, cast, aggregate, window, CASE…);
 * - `constant`: from no column (a literal, `now()`, a parameter).
 */
export type ColumnTransform = 'identity' | 'rename' | 'derived' | 'constant';

export interface ColumnDerivation {
  name: string;
  /** Relation columns the value comes from, in order of first reference, without repeats. */
  from: RelationColumn[];
  transform: ColumnTransform;
  /** Why the column cannot be followed (fully); `from` then holds what could be. */
  unresolved?: string;
}

export interface QueryColumns {
  /** The output columns in order; undefined when they cannot be listed (see `unresolved`). */
  columns: ColumnDerivation[] | undefined;
  /** Why the output columns cannot be listed. */
  unresolved?: string;
  /** Every base relation the query reads (`schema.name`, lower-cased). */
  relations: string[];
}

export interface ResolveOptions {
  /** Schema of unqualified relation names. */
  defaultSchema: string;
  /** The columns a relation (`schema.name`, lower-cased) has, or undefined when not known. */
  columnsOf(relation: string): readonly string[] | undefined;
}

type Json = Record<string, unknown>;

/** A column as a scope sees it, with where it comes from. */
interface Lineage {
  from: RelationColumn[];
  /** Only bare column references all the way from the relation: its value unchanged. */
  passthrough: boolean;
  unresolved?: string;
}
interface ScopeColumn extends Lineage {
  name: string;
}

/** What a query node produces: its columns, or why they are not known. */
type Output =
  { columns: ScopeColumn[]; reason?: undefined } | { columns: undefined; reason: string };

/** One item of a FROM clause, as names resolve against it. */
interface Source {
  /** Lower-cased alias (or table name). */
  alias: string;
  /** `schema.name` when it is a base relation. */
  relation?: string;
  columns: ScopeColumn[] | undefined;
  /** Why the columns are not known. */
  reason?: string;
}

interface Scope {
  sources: Source[];
  /** Columns merged by USING / NATURAL: one column, seen once by `*` (lower-cased name -> lineage). */
  merged: Map<string, ScopeColumn>;
  /** `alias.column` (lower-cased) of the right side's copies of merged columns, hidden from `*`. */
  hidden: Set<string>;
  /** Earlier select items of this SELECT, referable by alias (DuckDB's lateral column aliases). */
  aliases: Map<string, ScopeColumn>;
  parent: Scope | undefined;
}

interface Env {
  ctes: Map<string, Output>;
  options: ResolveOptions;
  relations: Set<string>;
}

const lower = (s: string) => s.toLowerCase();
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

/** Relation columns, first occurrence kept. */
function uniqueColumns(list: RelationColumn[]): RelationColumn[] {
  const seen = new Set<string>();
  return list.filter((c) => {
    const k = `${c.relation}\u0000${c.column}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Lineage of several parts combined (a function of them). */
function combine(parts: Lineage[], passthrough = false): Lineage {
  const reasons = [...new Set(parts.map((p) => p.unresolved).filter((r): r is string => !!r))];
  return {
    from: uniqueColumns(parts.flatMap((p) => p.from)),
    passthrough,
    ...(reasons.length ? { unresolved: reasons.join('; ') } : {}),
  };
}

/**
 * Output columns of a serialized SELECT (the JSON of `json_serialize_sql`), each with the
 * relation columns it derives from. A parse error or a statement that is not one SELECT gives
 * no columns and the reason.
 */
export function resolveQueryColumns(serialized: unknown, options: ResolveOptions): QueryColumns {
  const root = serialized as { error?: boolean; error_message?: string; statements?: unknown[] };
  if (!isObject(root) || root.error)
    return {
      columns: undefined,
      unresolved: `could not parse: ${str(root?.error_message) || 'not a SELECT DuckDB can parse'}`,
      relations: [],
    };
  if (!Array.isArray(root.statements) || root.statements.length !== 1)
    return { columns: undefined, unresolved: 'not a single SELECT statement', relations: [] };
  const env: Env = { ctes: new Map(), options, relations: new Set() };
  const statement = root.statements[0] as Json;
  const out = resolveNode(statement.node as Json, env, undefined);
  const relations = [...env.relations];
  if (!out.columns) return { columns: undefined, unresolved: out.reason, relations };
  return { columns: out.columns.map(finish), relations };
}

/** A scope column as a reported derivation: its transform named, its name kept. */
function finish(c: ScopeColumn): ColumnDerivation {
  let transform: ColumnTransform;
  if (!c.passthrough) transform = c.from.length ? 'derived' : 'constant';
  else if (c.from.length === 1 && lower(c.from[0]!.column) === lower(c.name))
    transform = 'identity';
  else transform = c.from.length === 1 ? 'rename' : 'derived';
  if (!c.from.length && c.unresolved) transform = 'derived';
  return {
    name: c.name,
    from: c.from,
    transform,
    ...(c.unresolved ? { unresolved: c.unresolved } : {}),
  };
}

/** The output of a query node (SELECT, set operation), with its own WITH clause. */
function resolveNode(node: Json, outer: Env, parent: Scope | undefined): Output {
  const env: Env = { ...outer, ctes: new Map(outer.ctes) };
  const cteMap = (node.cte_map as { map?: { key: string; value: Json }[] } | undefined)?.map;
  for (const entry of cteMap ?? []) {
    const name = lower(entry.key);
    const query = (entry.value.query as Json | undefined)?.node as Json | undefined;
    const aliases = entry.value.aliases;
    if (!query)
      env.ctes.set(name, { columns: undefined, reason: `CTE ${entry.key} is not a query` });
    else if (query.type === 'RECURSIVE_CTE_NODE')
      env.ctes.set(name, recursiveCte(name, query, aliases, env, parent));
    else env.ctes.set(name, withNames(resolveNode(query, env, parent), aliases));
  }
  switch (node.type) {
    case 'SELECT_NODE':
      return resolveSelect(node, env, parent);
    case 'SET_OPERATION_NODE':
    case 'RECURSIVE_CTE_NODE':
      return resolveSetOperation(node, env, parent);
    default:
      return { columns: undefined, reason: `${str(node.type) || 'this query'} is not resolved` };
  }
}

/** Columns renamed by a CTE's or subquery's column list, `name(a, b, …)`. */
function withNames(out: Output, names: unknown): Output {
  const list = Array.isArray(names) ? (names as string[]) : [];
  if (!out.columns || !list.length) return out;
  return { columns: out.columns.map((c, i) => (list[i] ? { ...c, name: list[i] } : c)) };
}

/**
 * A recursive CTE: its anchor first, then the whole union again with the CTE standing for the
 * previous round, until no column gains an upstream column (at most one round per column).
 */
function recursiveCte(
  name: string,
  query: Json,
  aliases: unknown,
  env: Env,
  parent: Scope | undefined,
): Output {
  let current = withNames(resolveNode(query.left as Json, env, parent), aliases);
  const size = (o: Output) => (o.columns ?? []).reduce((n, c) => n + c.from.length, 0);
  for (let round = 0; current.columns && round <= current.columns.length; round++) {
    env.ctes.set(name, current);
    const next = withNames(resolveSetOperation(query, env, parent), aliases);
    if (!next.columns || size(next) === size(current)) return next;
    current = next;
  }
  return current;
}

/** A set operation's columns: by position (by name for UNION BY NAME), from every branch. */
function resolveSetOperation(node: Json, env: Env, parent: Scope | undefined): Output {
  const left = resolveNode(node.left as Json, env, parent);
  const right = resolveNode(node.right as Json, env, parent);
  if (!left.columns) return left;
  if (!right.columns) return right;
  const byName = str(node.setop_type).endsWith('BY_NAME');
  if (byName) {
    const names = [...left.columns.map((c) => c.name)];
    for (const c of right.columns)
      if (!names.some((n) => lower(n) === lower(c.name))) names.push(c.name);
    const find = (cols: ScopeColumn[], n: string) => cols.find((c) => lower(c.name) === lower(n));
    return {
      columns: names.map((name) => {
        const parts = [find(left.columns, name), find(right.columns, name)].filter(
          (c): c is ScopeColumn => c !== undefined,
        );
        return {
          name,
          ...combine(
            parts,
            parts.every((p) => p.passthrough),
          ),
        };
      }),
    };
  }
  if (left.columns.length !== right.columns.length)
    return {
      columns: undefined,
      reason: `the branches of ${str(node.setop_type)} have ${left.columns.length} and ${right.columns.length} columns`,
    };
  return {
    columns: left.columns.map((l, i) => {
      const r = right.columns[i]!;
      return { name: l.name, ...combine([l, r], l.passthrough && r.passthrough) };
    }),
  };
}

/** A SELECT's output columns, its FROM clause bound first. */
function resolveSelect(node: Json, env: Env, parent: Scope | undefined): Output {
  const scope: Scope = {
    sources: [],
    merged: new Map(),
    hidden: new Set(),
    aliases: new Map(),
    parent,
  };
  if (node.from_table) bindFrom(node.from_table as Json, scope, env);
  const columns: ScopeColumn[] = [];
  const list = (node.select_list as Json[] | undefined) ?? [];
  for (const [i, item] of list.entries()) {
    if (item.class === 'STAR') {
      const expanded = expandStar(item, scope, env);
      if (!expanded.columns) return expanded;
      columns.push(...expanded.columns);
      continue;
    }
    if (containsColumnsStar(item))
      return {
        columns: undefined,
        reason: 'COLUMNS(…) inside an expression expands to columns that are not resolved',
      };
    const name = str(item.alias) || expressionName(item) || `column${i}`;
    const lineage = expressionLineage(item, scope, env, new Set());
    const column = { name, ...lineage };
    columns.push(column);
    if (item.alias) scope.aliases.set(lower(name), column);
  }
  return { columns };
}

/** Whether an expression holds `COLUMNS(…)` below its top (which makes it several columns). */
function containsColumnsStar(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(containsColumnsStar);
  if (!isObject(v)) return false;
  if (v.class === 'STAR' && v.columns === true) return true;
  if (v.class === 'SUBQUERY') return false;
  return Object.values(v).some(containsColumnsStar);
}

/** The name DuckDB gives an expression without an alias, for the simple cases; else ''. */
function expressionName(e: Json): string {
  if (e.class === 'COLUMN_REF') {
    const names = e.column_names as string[];
    return names[names.length - 1] ?? '';
  }
  if (e.class === 'FUNCTION' && !e.is_operator) {
    const args = ((e.children as Json[] | undefined) ?? []).map(expressionName);
    if (args.some((a) => !a)) return '';
    return `${str(e.function_name)}(${args.join(', ')})`;
  }
  if (e.class === 'CONSTANT') {
    const value = (e.value as { value?: unknown; is_null?: boolean }) ?? {};
    if (value.is_null) return 'NULL';
    if (typeof value.value === 'number') return String(value.value);
    if (typeof value.value === 'string') return `'${value.value}'`;
  }
  return '';
}

/** Binds one FROM item (and a join's sides) into the scope. */
function bindFrom(table: Json, scope: Scope, env: Env): void {
  switch (table.type) {
    case 'EMPTY':
      return;
    case 'JOIN':
      return bindJoin(table, scope, env);
    case 'BASE_TABLE':
      scope.sources.push(baseTable(table, env));
      return;
    case 'SUBQUERY': {
      const inner = resolveNode((table.subquery as Json).node as Json, env, scope.parent);
      scope.sources.push(
        renamed(str(table.alias) || 'unnamed_subquery', inner, table.column_name_alias),
      );
      return;
    }
    case 'EXPRESSION_LIST': {
      const rows = (table.values as Json[][] | undefined) ?? [];
      const width = rows[0]?.length ?? 0;
      const columns = Array.from({ length: width }, (_, i) => ({
        name: `col${i}`,
        ...combine(rows.map((r) => expressionLineage(r[i]!, scope, env, new Set()))),
      }));
      scope.sources.push(renamed(str(table.alias) || 'valueslist', { columns }, undefined));
      return;
    }
    case 'TABLE_FUNCTION':
      scope.sources.push(tableFunction(table, scope, env));
      return;
    case 'PIVOT':
      scope.sources.push({
        alias: lower(str(table.alias) || 'pivot'),
        columns: undefined,
        reason:
          'PIVOT/UNPIVOT: its output columns depend on the data (or the pivot spec) and are not resolved',
      });
      return;
    default:
      scope.sources.push({
        alias: lower(str(table.alias)),
        columns: undefined,
        reason: `a FROM item of type ${str(table.type)} is not resolved`,
      });
  }
}

/** A base table (or a CTE of that name), with its known columns as identity lineage. */
function baseTable(table: Json, env: Env): Source {
  const name = str(table.table_name);
  const schema = str(table.schema_name);
  const alias = lower(str(table.alias) || name);
  const cte = schema ? undefined : env.ctes.get(lower(name));
  if (cte) return renamed(alias, cte, table.column_name_alias);
  const relation = lower(`${schema || env.options.defaultSchema}.${name}`);
  env.relations.add(relation);
  const known = env.options.columnsOf(relation);
  if (!known)
    return {
      alias,
      relation,
      columns: undefined,
      reason: `the columns of ${relation} are not known`,
    };
  const columns = known.map((column) => ({
    name: column,
    from: [{ relation, column: lower(column) }],
    passthrough: true,
  }));
  return renamed(alias, { columns }, table.column_name_alias, relation);
}

/** A source from a query's output, its columns renamed by `alias(a, b, …)` when given. */
function renamed(alias: string, out: Output, names: unknown, relation?: string): Source {
  const base = { alias: lower(alias), ...(relation ? { relation } : {}) };
  if (!out.columns) return { ...base, columns: undefined, reason: out.reason };
  const list = Array.isArray(names) ? (names as string[]) : [];
  return {
    ...base,
    columns: out.columns.map((c, i) => (list[i] ? { ...c, name: list[i] } : c)),
  };
}

/** unnest / generate_series / range with named columns; any other table function is opaque. */
function tableFunction(table: Json, scope: Scope, env: Env): Source {
  const fn = (table.function as Json | undefined) ?? {};
  const name = lower(str(fn.function_name));
  const alias = lower(str(table.alias) || name);
  const names = (table.column_name_alias as string[] | undefined) ?? [];
  if (['unnest', 'generate_series', 'range'].includes(name)) {
    const args = combine(
      ((fn.children as Json[] | undefined) ?? []).map((c) =>
        expressionLineage(c, scope, env, new Set()),
      ),
    );
    const columnNames = names.length ? names : [name];
    return { alias, columns: columnNames.map((n) => ({ name: n, ...args, passthrough: false })) };
  }
  return {
    alias,
    columns: undefined,
    reason: `reads the table function ${name}(…), whose columns are not resolved`,
  };
}

/** Binds both sides of a join; USING and NATURAL columns become one merged column. */
function bindJoin(table: Json, scope: Scope, env: Env): void {
  const before = scope.sources.length;
  bindFrom(table.left as Json, scope, env);
  const leftSources = scope.sources.slice(before);
  const middle = scope.sources.length;
  bindFrom(table.right as Json, scope, env);
  const rightSources = scope.sources.slice(middle);
  let using = ((table.using_columns as string[] | undefined) ?? []).map(lower);
  if (table.ref_type === 'NATURAL') {
    const names = (ss: Source[]) =>
      new Set(ss.flatMap((s) => s.columns ?? []).map((c) => lower(c.name)));
    const right = names(rightSources);
    using = [...names(leftSources)].filter((n) => right.has(n));
  }
  const joinType = str(table.join_type);
  for (const col of using) {
    const find = (ss: Source[]) =>
      ss.flatMap((s) =>
        (s.columns ?? []).filter((c) => lower(c.name) === col).map((c) => ({ s, c })),
      );
    const l = find(leftSources)[0];
    const r = find(rightSources)[0];
    if (!l || !r) continue;
    // INNER and LEFT keep the left value, RIGHT the right one, FULL coalesces both.
    const lineage =
      joinType === 'RIGHT'
        ? r.c
        : joinType === 'OUTER'
          ? { name: l.c.name, ...combine([l.c, r.c]) }
          : l.c;
    scope.merged.set(col, { ...lineage, name: l.c.name });
    scope.hidden.add(`${r.s.alias}.${col}`);
  }
}

/** `*`, `t.*` and `COLUMNS('regex')` with EXCLUDE, REPLACE and RENAME, over known columns only. */
function expandStar(star: Json, scope: Scope, env: Env): Output {
  const qualifier = lower(str(star.relation_name));
  const sources = qualifier ? scope.sources.filter((s) => s.alias === qualifier) : scope.sources;
  if (qualifier && !sources.length)
    return { columns: undefined, reason: `${qualifier}.* names no relation in FROM` };
  const columns: ScopeColumn[] = [];
  const seenMerged = new Set<string>();
  for (const s of sources) {
    if (!s.columns)
      return { columns: undefined, reason: `${s.alias ? `${s.alias}.*` : '*'}: ${s.reason}` };
    for (const c of s.columns) {
      const key = lower(c.name);
      if (!qualifier && scope.hidden.has(`${s.alias}.${key}`)) continue;
      const merged = qualifier ? undefined : scope.merged.get(key);
      if (merged) {
        if (seenMerged.has(key)) continue;
        seenMerged.add(key);
        columns.push(merged);
      } else columns.push(c);
    }
  }
  return applyStarModifiers(star, columns, scope, env);
}

function applyStarModifiers(star: Json, all: ScopeColumn[], scope: Scope, env: Env): Output {
  const excluded = new Set<string>(((star.exclude_list as string[] | undefined) ?? []).map(lower));
  for (const q of (star.qualified_exclude_list as Json[] | undefined) ?? [])
    excluded.add(lower(str(q.column)));
  let columns = all.filter((c) => !excluded.has(lower(c.name)));
  if (star.columns === true) {
    const expr = star.expr as Json | undefined;
    const pattern = (expr?.value as { value?: unknown } | undefined)?.value;
    if (expr?.class !== 'CONSTANT' || typeof pattern !== 'string')
      return {
        columns: undefined,
        reason: 'COLUMNS(…) with a lambda or a list is not resolved',
      };
    let re: RegExp;
    try {
      re = new RegExp(pattern);
    } catch {
      return { columns: undefined, reason: `COLUMNS('${pattern}'): not a regular expression here` };
    }
    columns = columns.filter((c) => re.test(c.name));
  }
  const replace = new Map<string, Json>();
  for (const r of (star.replace_list as { key: string; value: Json }[] | undefined) ?? [])
    replace.set(lower(r.key), r.value);
  const rename = new Map<string, string>();
  for (const r of (star.rename_list as { key: Json; value: string }[] | undefined) ?? [])
    rename.set(lower(str(r.key.column)), r.value);
  return {
    columns: columns.map((c) => {
      const key = lower(c.name);
      const expr = replace.get(key);
      const base = expr ? { name: c.name, ...expressionLineage(expr, scope, env, new Set()) } : c;
      const newName = rename.get(key);
      return newName ? { ...base, name: newName } : base;
    }),
  };
}

/** The lineage of an expression: every column it references, through subqueries. */
function expressionLineage(e: Json, scope: Scope, env: Env, lambdaParams: Set<string>): Lineage {
  if (e.class === 'COLUMN_REF') return columnRef(e.column_names as string[], scope, lambdaParams);
  const parts: Lineage[] = [];
  const visit = (v: unknown, params: Set<string>): void => {
    if (Array.isArray(v)) return v.forEach((x) => visit(x, params));
    if (!isObject(v)) return;
    if (v.class === 'COLUMN_REF')
      return void parts.push(columnRef(v.column_names as string[], scope, params));
    if (v.class === 'LAMBDA') {
      const inner = new Set(params);
      for (const n of lambdaNames(v.lhs)) inner.add(n);
      return visit(v.expr, inner);
    }
    if (v.class === 'SUBQUERY') return void parts.push(subqueryLineage(v, scope, env, params));
    if (v.class === 'STAR')
      return void parts.push({
        from: [],
        passthrough: false,
        unresolved: '* inside an expression is not resolved',
      });
    for (const x of Object.values(v)) visit(x, params);
  };
  visit(e, lambdaParams);
  return combine(parts);
}

function lambdaNames(lhs: unknown): string[] {
  if (!isObject(lhs)) return [];
  if (lhs.class === 'COLUMN_REF') return [lower((lhs.column_names as string[]).join('.'))];
  return ((lhs.children as unknown[] | undefined) ?? []).flatMap(lambdaNames);
}

/** A scalar or IN subquery's value comes from its one column (and IN's left side); EXISTS from none. */
function subqueryLineage(e: Json, scope: Scope, env: Env, params: Set<string>): Lineage {
  const parts: Lineage[] = [];
  if (e.child) parts.push(expressionLineage(e.child as Json, scope, env, params));
  if (e.subquery_type !== 'EXISTS' && e.subquery_type !== 'NOT_EXISTS') {
    const out = resolveNode((e.subquery as Json).node as Json, env, scope);
    if (!out.columns) parts.push({ from: [], passthrough: false, unresolved: out.reason });
    else if (out.columns[0]) parts.push(out.columns[0]);
  }
  return combine(parts);
}

/** Resolves `col`, `t.col`, `schema.t.col` or `col.field` in the scope and its parents. */
function columnRef(names: string[], scope: Scope, lambdaParams: Set<string>): Lineage {
  const parts = names.map(lower);
  if (parts.length === 1 && lambdaParams.has(parts[0]!)) return { from: [], passthrough: false };
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    const found = lookUp(parts, s);
    // Only the lineage: the name is the referring expression's.
    if (found)
      return {
        from: found.from,
        passthrough: found.passthrough,
        ...(found.unresolved ? { unresolved: found.unresolved } : {}),
      };
  }
  return {
    from: [],
    passthrough: false,
    unresolved: `no relation in scope has a column ${names.join('.')}`,
  };
}

/** The lineage of a reference in one scope, or undefined when it names nothing there. */
function lookUp(parts: string[], scope: Scope): Lineage | undefined {
  if (parts.length >= 2) {
    const byAlias = scope.sources.filter((s) => s.alias === parts[0]);
    const byRelation =
      parts.length >= 3
        ? scope.sources.filter((s) => s.relation === `${parts[0]}.${parts[1]}`)
        : [];
    const [source, column, rest] = byAlias.length
      ? [byAlias[0]!, parts[1]!, parts.length - 2]
      : byRelation.length
        ? [byRelation[0]!, parts[2]!, parts.length - 3]
        : [undefined, '', 0];
    if (source) {
      const found = columnOf(source, column);
      // Fields of a struct column are computed from it.
      return found && rest > 0 ? { ...found, passthrough: false } : found;
    }
  }
  const column = parts[0]!;
  const field = parts.length > 1;
  const merged = scope.merged.get(column);
  const found = merged ?? unqualified(column, scope);
  if (!found) return undefined;
  return field ? { ...found, passthrough: false } : found;
}

/** A column of one source; a base relation whose columns are not known is taken at its word. */
function columnOf(source: Source, column: string): Lineage | undefined {
  if (source.columns) return source.columns.find((c) => lower(c.name) === column);
  if (source.relation) return { from: [{ relation: source.relation, column }], passthrough: true };
  return { from: [], passthrough: false, unresolved: source.reason };
}

/**
 * An unqualified column: the one source that has it. The statement ran (or binds), so a name two
 * known sources have cannot occur unambiguously; a name only a source of unknown columns could
 * have is that source's when it is the only such source.
 */
function unqualified(column: string, scope: Scope): Lineage | undefined {
  const having = scope.sources.filter((s) => s.columns?.some((c) => lower(c.name) === column));
  if (having.length === 1) return columnOf(having[0]!, column);
  if (having.length > 1)
    return {
      from: [],
      passthrough: false,
      unresolved: `ambiguous: ${column} is a column of ${having.map((s) => s.alias).join(' and ')}`,
    };
  const alias = scope.aliases.get(column);
  if (alias) return alias;
  const unknown = scope.sources.filter((s) => !s.columns);
  if (unknown.length === 1) return columnOf(unknown[0]!, column);
  if (unknown.length > 1)
    return {
      from: [],
      passthrough: false,
      unresolved: `cannot tell which of ${unknown.map((s) => s.alias).join(', ')} has ${column} (their columns are not known)`,
    };
  return undefined;
}
