/**
 * PostgreSQL connector: `COPY (SELECT …) TO STDOUT WITH (FORMAT csv, HEADER)` streamed straight
 * into a raw batch, inside a REPEATABLE READ READ ONLY transaction, so the rows, their count and
 * the new high-water mark all come from one snapshot. Each column is selected through its
 * documented text form (docs/sources-databases.md); types without one are refused by name.
 * With `parallel: n`, n connections share the snapshot (pg_export_snapshot) and each copies one
 * range of `split_by`, landing one batch per part.
 */
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { TributaryError } from '../../core/index.js';
import type { DatabaseSourceTable } from '../../project/index.js';
import {
  DatabaseSource,
  connectError,
  extractError,
  unknownColumn,
  unmappableColumn,
  type ConnectionTarget,
  type ExtractRequest,
  type ExtractResult,
} from '../database/common.js';

/** Base types (after domains) that COPY prints in their documented text form unchanged. */
const AS_IS = new Set([
  'text',
  'varchar',
  'bpchar',
  'char',
  'name',
  'citext',
  'uuid',
  'int2',
  'int4',
  'int8',
  'float4',
  'float8',
  'numeric',
  'date',
  'time',
  'timetz',
  'timestamp',
  'timestamptz',
  'interval',
  'json',
  'jsonb',
  'inet',
  'cidr',
  'macaddr',
  'macaddr8',
  'bit',
  'varbit',
  'xml',
]);

/** Base types selected through an expression, and the expression for column `c`. */
const CONVERTED: Record<string, (c: string) => string> = {
  bool: (c) => `${c}::text`,
  bytea: (c) => `encode(${c}, 'hex')`,
  money: (c) => `${c}::numeric`,
};

/**
 * Session settings that fix every text form (UTC, ISO dates and intervals, exact floats, hex)
 * and the order of a full extract: with synchronized scans, a sequential scan of a large table
 * starts wherever another scan left off, so an unchanged table would land as new bytes.
 */
const SESSION = [
  '-c synchronize_seqscans=off',
  '-c TimeZone=UTC',
  '-c DateStyle=ISO,YMD',
  '-c IntervalStyle=iso_8601',
  '-c extra_float_digits=1',
  '-c bytea_output=hex',
];

const INTEGER_TYPES = new Set(['int2', 'int4', 'int8']);
const LOST_CODES = new Set(['57P01', '57P02', '57P03', 'ECONNRESET', 'EPIPE', '08006', '08003']);

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

interface PgColumn {
  name: string;
  /** The type as PostgreSQL writes it, for messages. */
  type: string;
  /** Base type name after resolving domains. */
  base: string;
  typtype: string;
  /** Element base type name when the column is an array. */
  element: string | null;
  elementTyptype: string | null;
}

/** The SELECT expression for a column, or undefined when its type has no documented text form. */
function selectExpression(col: PgColumn): string | undefined {
  const c = quoteIdent(col.name);
  const alias = ` AS ${c}`;
  if (col.element !== null) {
    // Arrays leave as JSON text, provided their elements have a text form.
    const ok = AS_IS.has(col.element) || col.element in CONVERTED || col.elementTyptype === 'e';
    return ok ? `to_json(${c})::text${alias}` : undefined;
  }
  if (col.typtype === 'e' || AS_IS.has(col.base)) return c;
  const convert = CONVERTED[col.base];
  return convert ? `${convert(c)}${alias}` : undefined;
}

/** Whether a failure means the connection went away (as opposed to a bad query). */
function isConnectionLoss(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    (e.code !== undefined && LOST_CODES.has(e.code)) ||
    /terminat|connection (?:ended|closed|lost)|ECONNRESET|socket/i.test(e.message ?? '')
  );
}

export class PostgresSource extends DatabaseSource {
  protected readonly defaultPort = 5432;

  constructor(table: DatabaseSourceTable) {
    super(table);
  }

  private async connect(target: ConnectionTarget): Promise<pg.Client> {
    const config: pg.ClientConfig = {
      connectionString: target.url,
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      database: target.database,
      options: SESSION.join(' '),
      application_name: 'tributary-extract',
      connectionTimeoutMillis: 15000,
      keepAlive: true,
    };
    for (const key of Object.keys(config) as (keyof pg.ClientConfig)[]) {
      if (config[key] === undefined) delete config[key];
    }
    const client = new pg.Client(config);
    // A connection that drops between queries emits 'error'; the failing query reports it.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw connectError(err, 'postgres', target, this.table);
    }
    return client;
  }

  /** The columns of the table, with the base type of each (domains resolved). */
  private async columns(client: pg.Client, relation: string): Promise<PgColumn[]> {
    const { rows } = await client.query<PgColumn>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
              coalesce(bt.typname, t.typname) AS base, coalesce(bt.typtype, t.typtype) AS typtype,
              et.typname AS element, et.typtype AS "elementTyptype"
         FROM pg_attribute a
         JOIN pg_type t ON t.oid = a.atttypid
         LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
         LEFT JOIN pg_type et ON et.oid = coalesce(bt.typelem, t.typelem)
              AND coalesce(bt.typcategory, t.typcategory) = 'A'
        WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [relation],
    );
    return rows;
  }

  protected async extract(req: ExtractRequest): Promise<ExtractResult> {
    const { table, target } = req;
    const cfg = table.tableConfig;
    const dbTable = this.dbTable;
    const fail = (err: unknown) =>
      extractError(err, 'postgres', target, table, dbTable, isConnectionLoss(err));
    const parts = cfg.parallel;
    const clients: pg.Client[] = [await this.connect(target)];
    const main = clients[0]!;
    let copying = false;
    const onAbort = () => clients.forEach((c) => c.end().catch(() => undefined));
    req.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await main.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const relation = this.qualified(dbTable, table.sourceConfig.schema);
      const found = await main.query<{ r: string | null }>('SELECT to_regclass($1)::text AS r', [
        relation,
      ]);
      if (!found.rows[0]?.r) {
        throw new TributaryError(`table ${dbTable} does not exist in postgres ${target.label}`, {
          code: 'CONFIG',
          location: { path: `sources.${table.source}.tables.${table.table}.table` },
          hint: 'name it as schema.table, or set schema: on the source',
        });
      }
      const all = await this.columns(main, relation);
      const byName = new Map(all.map((c) => [c.name, c]));
      const chosen = (cfg.columns ?? all.map((c) => c.name)).map((name) => {
        const col = byName.get(name);
        if (!col) throw unknownColumn(table, dbTable, name, 'column');
        return col;
      });
      const select = chosen.map((col) => {
        const expr = selectExpression(col);
        if (!expr) throw unmappableColumn(table, dbTable, col.name, col.type);
        return expr;
      });
      const conditions: string[] = [];
      let orderBy = '';
      let high: string | undefined;
      if (req.cursor) {
        const cur = byName.get(req.cursor.column);
        if (!cur) throw unknownColumn(table, dbTable, req.cursor.column, 'cursor');
        const c = quoteIdent(cur.name);
        if (req.cursor.after !== undefined)
          conditions.push(`${c} > ${main.escapeLiteral(req.cursor.after)}`);
        // The high-water mark is max(cursor) of exactly the rows this snapshot extracts.
        const max = await main.query<{ high: string | null }>(
          `SELECT max(${c})::text AS high FROM ${found.rows[0].r}${where(conditions)}`,
        );
        high = max.rows[0]?.high ?? undefined;
        if (high === undefined) {
          await main.query('COMMIT');
          return {};
        }
        orderBy = ` ORDER BY ${c}`;
      }
      const ranges = await this.ranges(main, req, byName, found.rows[0].r, conditions, parts);
      if (ranges.length > 1) {
        const snap = await main.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
        for (let i = 1; i < ranges.length; i++) {
          const client = await this.connect(target);
          clients.push(client);
          await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
          await client.query(`SET TRANSACTION SNAPSHOT ${client.escapeLiteral(snap.rows[0]!.id)}`);
        }
      }
      copying = true;
      await Promise.all(
        ranges.map(async (range, i) => {
          const sql = `COPY (SELECT ${select.join(', ')} FROM ${found.rows[0]!.r}${where([...conditions, ...range])}${orderBy}) TO STDOUT WITH (FORMAT csv, HEADER)`;
          const writer = await req.open(i, ranges.length);
          const client = clients[i]!;
          const stream = client.query(copyTo(sql));
          for await (const chunk of stream) await writer.write(chunk as Buffer);
          // COPY's own count ("COPY n"), read once the command completed: the next query waits for it.
          await client.query('COMMIT');
          writer.countRecords(stream.rowCount);
        }),
      );
      copying = false;
      return high === undefined ? {} : { high };
    } catch (err) {
      if (req.signal?.aborted) {
        throw new TributaryError(`extract of ${dbTable} was cancelled`, {
          location: { path: `sources.${table.source}.tables.${table.table}` },
          hint: 'nothing was committed; run again to extract',
        });
      }
      // A failed COPY on one connection stops the others: their partial batches are dropped too.
      if (copying) clients.forEach((c) => c.end().catch(() => undefined));
      throw fail(err);
    } finally {
      req.signal?.removeEventListener('abort', onAbort);
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    }
  }

  /** `schema.table` (or `table` in the source's schema) as a quoted relation name. */
  private qualified(name: string, schema: string | undefined): string {
    const parts = name.includes('.') ? name.split('.') : schema ? [schema, name] : [name];
    return parts.map(quoteIdent).join('.');
  }

  /** The WHERE conditions of each part: one empty range, or n ranges of split_by. */
  private async ranges(
    client: pg.Client,
    req: ExtractRequest,
    byName: Map<string, PgColumn>,
    relation: string,
    conditions: string[],
    parts: number,
  ): Promise<string[][]> {
    if (parts <= 1) return [[]];
    const cfg = req.table.tableConfig;
    if (req.table.disposition === 'replace') {
      // Processing takes a replace batch as the whole table; parts would each replace the others.
      throw new TributaryError(
        `parallel extraction of ${this.dbTable} lands one batch per part, which disposition replace cannot take`,
        {
          code: 'CONFIG',
          location: { path: `sources.${req.table.source}.tables.${req.table.table}.parallel` },
          hint: 'use parallel: 1 with replace, or disposition merge with a primary key',
        },
      );
    }
    const name = cfg.split_by ?? (cfg.primary_key?.length === 1 ? cfg.primary_key[0] : undefined);
    const at = `sources.${req.table.source}.tables.${req.table.table}`;
    const col = name ? byName.get(name) : undefined;
    if (!name || !col || !INTEGER_TYPES.has(col.base)) {
      throw new TributaryError(
        `parallel extraction of ${this.dbTable} needs split_by: an integer column`,
        {
          code: 'CONFIG',
          location: { path: `${at}.split_by` },
          hint: 'set split_by: <an integer column, e.g. the id>, or parallel: 1',
        },
      );
    }
    const c = quoteIdent(col.name);
    const { rows } = await client.query<{ lo: string | null; hi: string | null }>(
      `SELECT min(${c})::text AS lo, max(${c})::text AS hi FROM ${relation}${where(conditions)}`,
    );
    if (rows[0]?.lo == null || rows[0].hi == null) return [[]];
    const lo = BigInt(rows[0].lo);
    const span = BigInt(rows[0].hi) - lo + 1n;
    const n = BigInt(parts);
    const out: string[][] = [];
    for (let i = 0n; i < n; i++) {
      const from = lo + (span * i) / n;
      const to = lo + (span * (i + 1n)) / n;
      if (from === to) continue;
      // Rows without a split value go with the first part, so none is left out.
      const nulls = i === 0n ? ` OR ${c} IS NULL` : '';
      out.push([`(${c} >= ${from} AND ${c} < ${to}${nulls})`]);
    }
    return out;
  }
}

function where(conditions: string[]): string {
  return conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '';
}
