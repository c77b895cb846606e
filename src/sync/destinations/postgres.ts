/**
 * A PostgreSQL table as a sync destination. The object is a table (`name` in the configured
 * schema, or `schema.name`); the match field is a column with a unique constraint (primary key
 * or UNIQUE), which `upsert` needs for `INSERT … ON CONFLICT (match) DO UPDATE`.
 *
 * Per-record results without failing the batch: a batch is written in one statement inside a
 * transaction; when that statement fails (a NOT NULL or CHECK violation, a value that does not
 * fit its column, a duplicate on insert), the batch is written again row by row, each under its
 * own savepoint, so each bad row is rejected with PostgreSQL's own message and SQLSTATE and the
 * good ones commit. Values travel as text parameters cast to each column's declared type.
 * A batch writes the union of its records' fields; a field one record lacks is written as NULL
 * (a sync sends the same fields in every record).
 */
import pg from 'pg';
import { TributaryError } from '../../core/index.js';
import type {
  DestinationCapabilities,
  DestinationField,
  RecordResult,
  SyncDestination,
  SyncRecord,
  WriteBatch,
} from '../destination.js';

export interface PostgresDestinationOptions {
  /** Connection URL (postgres://user:pass@host:port/db). */
  url: string;
  /** Schema of tables named without one (default `public`). */
  schema?: string;
  /** Most rows a write takes (default 500). */
  maxBatch?: number;
}

interface TableShape {
  /** Column -> its declared type (format_type), e.g. `character varying(200)`. */
  types: Map<string, string>;
  fields: DestinationField[];
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** A value as a text parameter (PostgreSQL casts it to the column's type). */
function param(value: SyncRecord['fields'][string] | undefined): string | null {
  if (value === null || value === undefined) return null;
  return String(value);
}

interface PgError {
  message: string;
  code?: string;
  detail?: string;
  column?: string;
  constraint?: string;
}

function rejection(key: string, err: unknown): RecordResult {
  const e = err as PgError;
  const detail = e.detail ? ` (${e.detail})` : '';
  return {
    status: 'rejected',
    key,
    message: `${e.message}${detail}`,
    ...(e.code ? { code: e.code } : {}),
  };
}

/** A SQLSTATE that describes the data of a row (class 22 data exception, 23 integrity). */
function isRowError(err: unknown): boolean {
  const code = (err as PgError).code ?? '';
  return code.startsWith('22') || code.startsWith('23');
}

export class PostgresDestination implements SyncDestination {
  readonly type = 'postgres';
  readonly capabilities: DestinationCapabilities;
  private readonly pool: pg.Pool;
  private readonly schema: string;
  private readonly shapes = new Map<string, TableShape>();

  constructor(options: PostgresDestinationOptions) {
    this.pool = new pg.Pool({ connectionString: options.url, max: 2 });
    this.pool.on('error', () => undefined);
    this.schema = options.schema ?? 'public';
    this.capabilities = {
      maxBatch: options.maxBatch ?? 500,
      operations: ['upsert', 'update', 'insert', 'delete'],
      // A database connection has no documented request limit; nothing to pace.
      maxRequestsPerSecond: Number.POSITIVE_INFINITY,
    };
  }

  /** `schema.table` -> [schema, table]; a bare name is in the configured schema. */
  private split(object: string): [string, string] {
    const dot = object.indexOf('.');
    return dot < 0 ? [this.schema, object] : [object.slice(0, dot), object.slice(dot + 1)];
  }

  private relation(object: string): string {
    const [schema, table] = this.split(object);
    return `${quote(schema)}.${quote(table)}`;
  }

  async describe(object: string): Promise<DestinationField[]> {
    return (await this.shape(object)).fields;
  }

  private async shape(object: string): Promise<TableShape> {
    const cached = this.shapes.get(object);
    if (cached) return cached;
    const [schema, table] = this.split(object);
    const { rows } = await this.pool.query<{
      name: string;
      type: string;
      unique: boolean;
      read_only: boolean;
    }>(
      `SELECT c.column_name AS name, format_type(a.atttypid, a.atttypmod) AS type,
              EXISTS (SELECT 1 FROM information_schema.table_constraints tc
                        JOIN information_schema.key_column_usage k
                          ON k.constraint_schema = tc.constraint_schema
                         AND k.constraint_name = tc.constraint_name
                       WHERE tc.table_schema = c.table_schema AND tc.table_name = c.table_name
                         AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE')
                         AND k.column_name = c.column_name
                         AND (SELECT COUNT(*) FROM information_schema.key_column_usage k2
                               WHERE k2.constraint_schema = tc.constraint_schema
                                 AND k2.constraint_name = tc.constraint_name) = 1) AS unique,
              (c.is_generated = 'ALWAYS' OR COALESCE(c.identity_generation, '') = 'ALWAYS') AS read_only
         FROM information_schema.columns c
         JOIN pg_catalog.pg_attribute a
           ON a.attrelid = (quote_ident(c.table_schema) || '.' || quote_ident(c.table_name))::regclass
          AND a.attname = c.column_name
        WHERE c.table_schema = $1 AND c.table_name = $2
        ORDER BY c.ordinal_position`,
      [schema, table],
    );
    if (!rows.length)
      throw new TributaryError(`destination table ${schema}.${table} does not exist`, {
        code: 'CONFIG',
        hint: "create the table first, or fix the sync's object",
      });
    const shape: TableShape = {
      types: new Map(rows.map((r) => [r.name, r.type])),
      fields: rows.map((r) => ({
        name: r.name,
        type: r.type,
        unique: r.unique,
        readOnly: r.read_only,
      })),
    };
    this.shapes.set(object, shape);
    return shape;
  }

  /** The columns a batch writes: the match field first, then every field any record has. */
  private columnsOf(batch: WriteBatch, shape: TableShape): string[] {
    const columns = [batch.matchField];
    for (const r of batch.records)
      for (const f of Object.keys(r.fields)) if (!columns.includes(f)) columns.push(f);
    const unknown = columns.filter((c) => !shape.types.has(c));
    if (unknown.length)
      throw new TributaryError(
        `destination table ${batch.object} has no column ${unknown.join(', ')}`,
        { code: 'CONFIG', hint: 'map only columns the table has (describe lists them)' },
      );
    return columns;
  }

  async write(batch: WriteBatch): Promise<RecordResult[]> {
    batch.signal?.throwIfAborted();
    if (!batch.records.length) return [];
    const shape = await this.shape(batch.object);
    const columns =
      batch.operation === 'delete' ? [batch.matchField] : this.columnsOf(batch, shape);
    if (!shape.types.has(batch.matchField))
      throw new TributaryError(
        `destination table ${batch.object} has no column ${batch.matchField} to match on`,
        { code: 'CONFIG' },
      );
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      let results: RecordResult[];
      try {
        await client.query('SAVEPOINT whole_batch');
        results = await this.apply(client, batch, columns, shape, batch.records);
      } catch (err) {
        if (!isRowError(err)) throw err;
        await client.query('ROLLBACK TO SAVEPOINT whole_batch');
        results = [];
        for (const record of batch.records) {
          await client.query('SAVEPOINT one_row');
          try {
            results.push(...(await this.apply(client, batch, columns, shape, [record])));
            await client.query('RELEASE SAVEPOINT one_row');
          } catch (rowErr) {
            if (!isRowError(rowErr)) throw rowErr;
            await client.query('ROLLBACK TO SAVEPOINT one_row');
            results.push(rejection(record.key, rowErr));
          }
        }
      }
      await client.query('COMMIT');
      return results;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Writes records in one statement; per-record results (update: missing rows are rejected). */
  private async apply(
    client: pg.PoolClient,
    batch: WriteBatch,
    columns: string[],
    shape: TableShape,
    records: readonly SyncRecord[],
  ): Promise<RecordResult[]> {
    const table = this.relation(batch.object);
    const match = quote(batch.matchField);
    const matchType = shape.types.get(batch.matchField)!;
    if (batch.operation === 'delete') {
      await client.query(`DELETE FROM ${table} WHERE ${match} = ANY(CAST($1 AS ${matchType}[]))`, [
        records.map((r) => r.key),
      ]);
      return records.map((r) => ({ status: 'ok', key: r.key, destinationId: r.key }));
    }
    const params: (string | null)[] = [];
    const rows = records.map((r) => {
      const cells = columns.map((c) => {
        params.push(c === batch.matchField ? r.key : param(r.fields[c]));
        return `CAST($${params.length} AS ${shape.types.get(c)!})`;
      });
      return `(${cells.join(', ')})`;
    });
    const list = columns.map(quote).join(', ');
    const sets = columns
      .filter((c) => c !== batch.matchField)
      .map((c) => `${quote(c)} = v.${quote(c)}`);
    let sql: string;
    if (batch.operation === 'update') {
      sql = `UPDATE ${table} AS t SET ${sets.join(', ') || `${match} = v.${match}`}
               FROM (VALUES ${rows.join(', ')}) AS v(${list})
              WHERE t.${match} = v.${match} RETURNING CAST(t.${match} AS text) AS key`;
    } else {
      const conflict =
        batch.operation === 'upsert'
          ? ` ON CONFLICT (${match}) DO ${
              sets.length
                ? `UPDATE SET ${columns
                    .filter((c) => c !== batch.matchField)
                    .map((c) => `${quote(c)} = EXCLUDED.${quote(c)}`)
                    .join(', ')}`
                : 'NOTHING'
            }`
          : '';
      sql = `INSERT INTO ${table} (${list}) VALUES ${rows.join(', ')}${conflict}
             RETURNING CAST(${match} AS text) AS key`;
    }
    const { rows: written } = await client.query<{ key: string }>(sql, params);
    const done = new Set(written.map((r) => r.key));
    return records.map((r): RecordResult =>
      done.has(r.key) || batch.operation !== 'update'
        ? { status: 'ok', key: r.key, destinationId: r.key }
        : {
            status: 'rejected',
            key: r.key,
            message: `no row with ${batch.matchField} = ${r.key} to update`,
            code: 'OBJECT_NOT_FOUND',
          },
    );
  }

  async lookup(
    object: string,
    matchField: string,
    keys: readonly string[],
  ): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (!keys.length) return found;
    const shape = await this.shape(object);
    const type = shape.types.get(matchField);
    if (!type)
      throw new TributaryError(`destination table ${object} has no column ${matchField}`, {
        code: 'CONFIG',
      });
    const { rows } = await this.pool.query<{ key: string }>(
      `SELECT CAST(${quote(matchField)} AS text) AS key FROM ${this.relation(object)}
        WHERE ${quote(matchField)} = ANY(CAST($1 AS ${type}[]))`,
      [keys],
    );
    for (const r of rows) found.set(r.key, r.key);
    return found;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
