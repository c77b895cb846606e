/**
 * Relation and Column objects as dbt's Jinja context exposes them: ref(), source() and `this`
 * return a Relation that prints as the quoted name and offers .schema, .identifier, .include().
 */
import type { Dialect } from '../engines/index.js';
import { splitArgs } from '../jinja/index.js';

export type RelationType = 'table' | 'view' | 'cte' | null;

export class Relation {
  constructor(
    readonly dialect: Dialect,
    readonly schema: string | null,
    readonly identifier: string,
    readonly type: RelationType = null,
    readonly database: string | null = null,
  ) {}

  get name(): string {
    return this.identifier;
  }
  get table(): string {
    return this.identifier;
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

  /** The quoted name, `"schema"."identifier"`; a CTE prints bare, as dbt prints ephemeral refs. */
  render(): string {
    if (this.type === 'cte') return this.identifier;
    return this.dialect.relation(this.schema ?? undefined, this.identifier);
  }

  toString(): string {
    return this.render();
  }

  /** include(schema=False) etc.: the same relation printed without some parts. */
  include(...raw: unknown[]): Relation {
    const { kwargs } = splitArgs(raw);
    const schema = kwargs.schema === false ? null : this.schema;
    const identifier = kwargs.identifier === false ? '' : this.identifier;
    return new Relation(this.dialect, schema, identifier, this.type, this.database);
  }

  /** incorporate(type='table') or incorporate(path={...}): a copy with those parts changed. */
  incorporate(...raw: unknown[]): Relation {
    const { kwargs } = splitArgs(raw);
    const path = (kwargs.path ?? {}) as Record<string, unknown>;
    return new Relation(
      this.dialect,
      (path.schema as string | undefined) ?? this.schema,
      (path.identifier as string | undefined) ?? this.identifier,
      (kwargs.type as RelationType | undefined) ?? this.type,
      (path.database as string | undefined) ?? this.database,
    );
  }
}

/** A column as adapter.get_columns_in_relation() returns it; also dbt's `api.Column`. */
export class Column {
  /** dbt's Column.TYPE_LABELS (dbt-postgres and dbt-duckdb keep the base ones): label → SQL type. */
  static readonly TYPE_LABELS: Readonly<Record<string, string>> = { STRING: 'TEXT' };

  /** The SQL type for a portable label (`string` → TEXT); any other name comes back as given. */
  static translate_type(dtype: string): string {
    const label = String(dtype).toUpperCase();
    return Object.hasOwn(Column.TYPE_LABELS, label) ? Column.TYPE_LABELS[label]! : dtype;
  }

  /** `numeric(28,6)`, or the bare type when precision or scale is missing. */
  static numeric_type(dtype: string, precision: unknown, scale: unknown): string {
    const missing = (v: unknown) => v === null || v === undefined;
    return missing(precision) || missing(scale)
      ? dtype
      : `${dtype}(${String(precision)},${String(scale)})`;
  }

  constructor(
    readonly name: string,
    readonly data_type: string,
  ) {}
  get column(): string {
    return this.name;
  }
  get dtype(): string {
    return this.data_type;
  }
  get quoted(): string {
    return `"${this.name.replaceAll('"', '""')}"`;
  }
  is_string(): boolean {
    return /char|text|string/i.test(this.data_type);
  }
  is_number(): boolean {
    return /int|numeric|decimal|double|real|float/i.test(this.data_type);
  }
  toString(): string {
    return `<Column ${this.name} (${this.data_type})>`;
  }
}

/**
 * `api.Column` in the Jinja context: the class's static side as an object (a JS class handed to
 * the template would lose its statics when bound as a method).
 */
export const columnApi = {
  TYPE_LABELS: Column.TYPE_LABELS,
  translate_type: (dtype: string): string => Column.translate_type(dtype),
  numeric_type: (dtype: string, precision: unknown, scale: unknown): string =>
    Column.numeric_type(dtype, precision, scale),
  create: (name: string, labelOrDtype: string): Column =>
    new Column(name, Column.translate_type(labelOrDtype)),
};
