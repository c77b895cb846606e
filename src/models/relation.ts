/**
 * Relation and Column objects as dbt's Jinja context exposes them (dbt-adapters'
 * `BaseRelation` and `Column`): ref(), source(), `this` and `api.Relation.create()` return a
 * Relation whose three path parts print quoted and dot-joined as its include and quote policies
 * say (`"db"."schema"."name"`, dbt-duckdb's and dbt-postgres's form); `.include()`, `.quote()`
 * and `.incorporate()` return changed copies, and two relations are equal when every part is.
 */
import { TributaryError } from '../core/index.js';
import { splitArgs } from '../jinja/index.js';

export type RelationType = 'table' | 'view' | 'cte' | 'materialized_view' | 'external' | null;

export type ComponentName = 'database' | 'schema' | 'identifier';
const COMPONENTS: readonly ComponentName[] = ['database', 'schema', 'identifier'];

export interface RelationPath {
  database: string | null;
  schema: string | null;
  identifier: string | null;
}

export type Policy = Readonly<Record<ComponentName, boolean>>;

const ALL: Policy = { database: true, schema: true, identifier: true };

/**
 * The adapters' default quote policy: dbt-postgres and dbt-duckdb both keep BaseRelation's,
 * every part quoted.
 */
export const DEFAULT_QUOTE_POLICY = ALL;

/** `base` with the parts each of `overrides` sets (true/false; null or absent leaves a part). */
export function mergeQuotePolicy(base: Policy, ...overrides: unknown[]): Policy {
  let out = base;
  for (const o of overrides)
    if (o && typeof o === 'object') out = replacePolicy(out, o as Record<string, unknown>);
  return out;
}

/** A relation's SQL name: the given parts, each quoted with `quote` where `policy` says so. */
export function relationSql(
  quote: (part: string) => string,
  parts: Partial<RelationPath>,
  policy: Policy = ALL,
): string {
  return COMPONENTS.filter((k) => parts[k] !== null && parts[k] !== undefined && parts[k] !== '')
    .map((k) => (policy[k] ? quote(parts[k]!) : parts[k]!))
    .join('.');
}

export interface RelationOptions {
  type?: RelationType;
  include_policy?: Policy;
  quote_policy?: Policy;
  /** The adapter's class name, shown by repr(): `<DuckDBRelation "db"."main"."x">`. */
  className?: string;
  /** What information_schema() renders after the path (`columns`), unquoted. */
  suffix?: string | null;
}

function optionalString(v: unknown): string | null {
  return v === undefined || v === null ? null : String(v);
}

/** A policy with the parts given as booleans in `changes` replaced (None leaves a part as is). */
function replacePolicy(policy: Policy, changes: Record<string, unknown> | undefined): Policy {
  if (!changes) return policy;
  const out = { ...policy };
  for (const k of COMPONENTS) {
    const v = changes[k];
    if (v !== undefined && v !== null) out[k] = Boolean(v);
  }
  return out;
}

/**
 * The SQL name of a relation a node builds in its schema (`identifier`: its alias, or a staging
 * table beside it), quoted as the node's quote policy says, so DDL names what ref() prints.
 */
export function nodeRelationSql(
  dialect: { quoteIdentifier(part: string): string },
  node: { schema: string; quote_policy?: Policy },
  identifier: string,
): string {
  return relationSql(
    (p) => dialect.quoteIdentifier(p),
    { schema: node.schema, identifier },
    node.quote_policy,
  );
}

/** The attributes and methods of dbt's BaseRelation that getattr (and so `relation[key]`) reads. */
const RELATION_PROPERTIES: ReadonlySet<string> = new Set([
  'database',
  'schema',
  'identifier',
  'table',
  'name',
  'is_table',
  'is_view',
  'is_cte',
  'is_materialized_view',
]);
const RELATION_METHODS: ReadonlySet<string> = new Set([
  'render',
  'quoted',
  'include',
  'quote',
  'incorporate',
  'replace',
  'without_identifier',
  'information_schema',
  'information_schema_only',
  'matches',
]);

export class Relation {
  readonly path: Readonly<RelationPath>;
  readonly type: RelationType;
  readonly include_policy: Policy;
  readonly quote_policy: Policy;
  readonly quote_character = '"';
  private readonly className: string;
  private readonly suffix: string | null;

  constructor(path: Partial<RelationPath>, options: RelationOptions = {}) {
    this.path = {
      database: path.database ?? null,
      schema: path.schema ?? null,
      identifier: path.identifier ?? null,
    };
    this.type = options.type ?? null;
    this.include_policy = options.include_policy ?? ALL;
    this.quote_policy = options.quote_policy ?? ALL;
    this.className = options.className ?? 'BaseRelation';
    this.suffix = options.suffix ?? null;
  }

  /** A copy with some fields changed. */
  replace(changes: Partial<RelationPath> & RelationOptions): Relation {
    return new Relation(
      {
        database: 'database' in changes ? changes.database : this.path.database,
        schema: 'schema' in changes ? changes.schema : this.path.schema,
        identifier: 'identifier' in changes ? changes.identifier : this.path.identifier,
      },
      {
        type: 'type' in changes ? changes.type : this.type,
        include_policy: changes.include_policy ?? this.include_policy,
        quote_policy: changes.quote_policy ?? this.quote_policy,
        className: this.className,
        suffix: 'suffix' in changes ? changes.suffix : this.suffix,
      },
    );
  }

  get database(): string | null {
    return this.path.database;
  }
  get schema(): string | null {
    return this.path.schema;
  }
  get identifier(): string | null {
    return this.path.identifier;
  }
  get table(): string | null {
    return this.path.identifier;
  }
  get name(): string | null {
    return this.path.identifier;
  }
  get is_table(): boolean {
    return this.type === 'table';
  }
  get is_view(): boolean {
    return this.type === 'view';
  }
  get is_cte(): boolean {
    return this.type === 'cte';
  }
  get is_materialized_view(): boolean {
    return this.type === 'materialized_view';
  }

  /** `"name"`: dbt wraps in the quote character (doubling one inside keeps the SQL valid). */
  quoted(identifier: string): string {
    const q = this.quote_character;
    return `${q}${identifier.replaceAll(q, q + q)}${q}`;
  }

  /** The included parts, quoted where the quote policy says, joined by dots ('' when none). */
  render(): string {
    const parts: string[] = [];
    for (const k of COMPONENTS) {
      const part = this.include_policy[k] ? this.path[k] : null;
      if (part !== null) parts.push(this.quote_policy[k] ? this.quoted(part) : part);
    }
    if (this.suffix) parts.push(this.suffix);
    return parts.join('.');
  }

  toString(): string {
    return this.render();
  }
  __str__(): string {
    return this.render();
  }
  __repr__(): string {
    return `<${this.className} ${this.render()}>`;
  }
  /** Equal when path, type and policies are (dbt compares the relations' dicts). */
  __eq__(other: unknown): boolean {
    if (!(other instanceof Relation)) return false;
    return (
      COMPONENTS.every(
        (k) =>
          this.path[k] === other.path[k] &&
          this.include_policy[k] === other.include_policy[k] &&
          this.quote_policy[k] === other.quote_policy[k],
      ) &&
      this.type === other.type &&
      this.suffix === other.suffix
    );
  }

  /** include(database=False, schema=…, identifier=…): which parts render. */
  include(...raw: unknown[]): Relation {
    return this.replace({ include_policy: replacePolicy(this.include_policy, policyArgs(raw)) });
  }

  /** quote(identifier=False, …): which parts render quoted. */
  quote(...raw: unknown[]): Relation {
    return this.replace({ quote_policy: replacePolicy(this.quote_policy, policyArgs(raw)) });
  }

  /** incorporate(path={...}, type=…, quote_policy={...}, include_policy={...}). */
  incorporate(...raw: unknown[]): Relation {
    const { kwargs } = splitArgs(raw);
    const path = (kwargs.path ?? {}) as Record<string, unknown>;
    const changes: Partial<RelationPath> & RelationOptions = {};
    for (const k of COMPONENTS) if (k in path) changes[k] = optionalString(path[k]);
    if ('type' in kwargs) changes.type = relationType(kwargs.type);
    changes.include_policy = replacePolicy(
      this.include_policy,
      kwargs.include_policy as Record<string, unknown> | undefined,
    );
    changes.quote_policy = replacePolicy(
      this.quote_policy,
      kwargs.quote_policy as Record<string, unknown> | undefined,
    );
    return this.replace(changes);
  }

  /** The schema part only: `"db"."schema"` (the identifier left out and cleared). */
  without_identifier(): Relation {
    return this.replace({
      identifier: null,
      include_policy: { ...this.include_policy, identifier: false },
    });
  }

  /** `"db".INFORMATION_SCHEMA.columns`, as dbt addresses a database's information schema. */
  information_schema(viewName?: unknown): Relation {
    return new Relation(
      { database: this.path.database, schema: this.path.schema, identifier: 'INFORMATION_SCHEMA' },
      {
        type: 'view',
        include_policy: { database: this.path.database !== null, schema: false, identifier: true },
        quote_policy: { ...this.quote_policy, identifier: false },
        className: 'InformationSchema',
        suffix: typeof viewName === 'string' ? viewName : null,
      },
    );
  }
  information_schema_only(): Relation {
    return this.information_schema();
  }

  /** dbt's relations are Mappings (`relation is mapping` holds; dbt-utils' _is_relation asks). */
  __mapping__(): boolean {
    return true;
  }

  /** The relation as dbt's to_dict() gives it (a Mapping: `relation['path']['schema']`). */
  private asDict(): Record<string, unknown> {
    return {
      path: { ...this.path },
      type: this.type,
      quote_character: this.quote_character,
      include_policy: { ...this.include_policy },
      quote_policy: { ...this.quote_policy },
      dbt_created: false,
      limit: null,
      require_alias: true,
    };
  }

  /**
   * dbt's relations are FakeAPIObjects, whose `relation[key]` and `relation.get(key)` read the
   * attribute (getattr): `relation.get('identifier')` is the identifier, `relation['path']` the
   * path, a method comes back bound, and a name the relation does not have is missing (the
   * fallback for get). `metadata` is the `{type: '<Adapter>Relation'}` dbt-utils asks for.
   */
  private attribute(key: unknown): { found: boolean; value?: unknown } {
    if (typeof key !== 'string') return { found: false };
    if (key === 'metadata') return { found: true, value: { type: this.className } };
    const dict = this.asDict();
    if (Object.hasOwn(dict, key)) return { found: true, value: dict[key] };
    if (RELATION_PROPERTIES.has(key)) return { found: true, value: this[key as keyof this] };
    if (RELATION_METHODS.has(key)) {
      const method = this[key as keyof this] as (...args: unknown[]) => unknown;
      return { found: true, value: method.bind(this) };
    }
    return { found: false };
  }

  get(key: unknown, fallback: unknown = null): unknown {
    const { found, value } = this.attribute(key);
    return found ? value : fallback;
  }

  __getitem__(key: unknown): unknown {
    return this.attribute(key).value;
  }

  /** Whether the path parts given match (exactly; a case-only difference is an error in dbt). */
  matches(...raw: unknown[]): boolean {
    const { args, kwargs } = splitArgs(raw);
    const search: Partial<Record<ComponentName, string>> = {};
    COMPONENTS.forEach((k, i) => {
      const v = kwargs[k] ?? args[i];
      if (v !== undefined && v !== null) search[k] = String(v);
    });
    return COMPONENTS.every((k) => search[k] === undefined || this.path[k] === search[k]);
  }
}

function policyArgs(raw: unknown[]): Record<string, unknown> {
  const { args, kwargs } = splitArgs(raw);
  const out: Record<string, unknown> = { ...kwargs };
  COMPONENTS.forEach((k, i) => {
    if (args[i] !== undefined && !(k in out)) out[k] = args[i];
  });
  return out;
}

const RELATION_TYPES = new Set(['table', 'view', 'cte', 'materialized_view', 'external']);

function relationType(v: unknown): RelationType {
  if (v === undefined || v === null) return null;
  const s = String(v);
  if (!RELATION_TYPES.has(s))
    throw new TributaryError(
      `'${s}' is not a relation type (table, view, cte, materialized_view, external)`,
      { code: 'CONFIG' },
    );
  return s as RelationType;
}

/** `api.Relation`: create(database=, schema=, identifier=, type=, quote_policy=, include_policy=). */
export class RelationFactory {
  readonly Table = 'table';
  readonly View = 'view';
  readonly CTE = 'cte';
  readonly External = 'external';
  readonly MaterializedView = 'materialized_view';

  constructor(
    private readonly className: string,
    private readonly quotePolicy: Policy = ALL,
  ) {}

  create(...raw: unknown[]): Relation {
    const { args, kwargs } = splitArgs(raw);
    const part = (k: ComponentName, i: number) => optionalString(kwargs[k] ?? args[i]);
    return new Relation(
      {
        database: part('database', 0),
        schema: part('schema', 1),
        identifier: part('identifier', 2),
      },
      {
        type: relationType(kwargs.type ?? args[3]),
        include_policy: replacePolicy(
          ALL,
          kwargs.include_policy as Record<string, unknown> | undefined,
        ),
        quote_policy: replacePolicy(
          this.quotePolicy,
          kwargs.quote_policy as Record<string, unknown> | undefined,
        ),
        className: this.className,
      },
    );
  }

  /** An ephemeral model's CTE name. */
  add_ephemeral_prefix(name: unknown): string {
    return `__dbt__cte__${String(name)}`;
  }

  /** The relation an ephemeral model stands for: a bare, unquoted CTE name. */
  createEphemeral(name: string): Relation {
    return new Relation(
      { identifier: this.add_ephemeral_prefix(name) },
      {
        type: 'cte',
        quote_policy: { ...this.quotePolicy, identifier: false },
        className: this.className,
      },
    );
  }

  __repr__(): string {
    return `<class '${this.className}'>`;
  }
}

/** Whether `v` is a relation (dbt's is_relation checks the `render` attribute's presence). */
export function isRelation(v: unknown): v is Relation {
  return v instanceof Relation;
}
