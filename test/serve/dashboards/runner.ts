/**
 * A small SqlRunner for dashboard tests: a real DuckDB database with named parameters bound by
 * @duckdb/node-api (never pasted into SQL), a log of the statements it ran, and relation versions
 * the test bumps by hand to stand in for pipeline runs.
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import type {
  ParamValue,
  QueryLimits,
  SqlColumn,
  SqlResult,
  SqlRunner,
} from '../../../src/serve/types.js';

function kindOf(type: string): SqlColumn['kind'] {
  if (/^(TINYINT|SMALLINT|INTEGER|FLOAT|DOUBLE|U?(TINY|SMALL)?INT)/.test(type)) return 'number';
  if (type === 'BOOLEAN') return 'boolean';
  if (type === 'DATE' || type.startsWith('TIMESTAMP')) return 'date';
  if (/^(VARCHAR|BIGINT|HUGEINT|UBIGINT|DECIMAL)/.test(type)) return 'string';
  return 'other';
}

export class TestRunner implements SqlRunner {
  /** Every statement run, in order (cache tests count them). */
  readonly executed: { sql: string; params: Record<string, ParamValue> }[] = [];
  private readonly versions = new Map<string, number>();
  private global = 1;

  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  /** An in-memory database, or a database file opened read-only. */
  static async open(path = ':memory:'): Promise<TestRunner> {
    const instance = await DuckDBInstance.create(
      path,
      path === ':memory:' ? {} : { access_mode: 'READ_ONLY' },
    );
    return new TestRunner(instance, await instance.connect());
  }

  /** Runs setup statements (tables and rows of a test). */
  async exec(sql: string): Promise<void> {
    await this.connection.run(sql);
  }

  async query(
    sql: string,
    params: Record<string, ParamValue> = {},
    limits: QueryLimits = {},
  ): Promise<SqlResult> {
    const started = performance.now();
    this.executed.push({ sql, params });
    const reader = await this.connection.runAndReadAll(
      sql,
      Object.keys(params).length ? (params as Record<string, DuckDBValue>) : undefined,
    );
    const columns = reader.columnNames().map((name, i) => {
      const type = reader.columnTypes()[i]!.toString();
      return { name, type, kind: kindOf(type) };
    });
    const all = reader.getRowObjectsJson() as Record<string, unknown>[];
    const rowLimit = limits.rowLimit ?? 10_000;
    return {
      columns,
      rows: all.slice(0, rowLimit),
      truncated: all.length > rowLimit,
      dataVersion: this.dataVersion(),
      ms: performance.now() - started,
    };
  }

  dataVersion(): string {
    return `v${this.global}`;
  }

  /** The versions of the relations (bumped by the test) that the SQL names as words. */
  versionOf(sql: string): Promise<string> {
    const parts = [...this.versions]
      .filter(([name]) => new RegExp(`\\b${name}\\b`, 'i').test(sql))
      .map(([name, v]) => `${name}@${v}`);
    return Promise.resolve(parts.join(',') || 'none');
  }

  /** Marks a relation as changed (as a run publishing it would). */
  bump(relation: string): void {
    this.versions.set(relation, (this.versions.get(relation) ?? 0) + 1);
    this.global++;
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
