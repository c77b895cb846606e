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

/** A column as adapter.get_columns_in_relation() returns it. */
export class Column {
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
