/**
 * MySQL / MariaDB connector: a streamed SELECT (rows arrive as they are read, never all at once)
 * written as RFC 4180 CSV with a header, inside a REPEATABLE READ transaction started WITH
 * CONSISTENT SNAPSHOT, so the rows and the new high-water mark come from one snapshot. Each
 * column is selected through its documented text form (docs/sources-databases.md); spatial and
 * unknown types are refused by name. MySQL cannot share a snapshot between connections, so
 * `parallel` is not offered here.
 */
import mysql from 'mysql2';
import type { Connection, ConnectionOptions, RowDataPacket } from 'mysql2';
import { TributaryError } from '../../core/index.js';
import type { DatabaseSourceTable } from '../../project/index.js';
import {
  DatabaseSource,
  connectError,
  csvField,
  extractError,
  unknownColumn,
  unmappableColumn,
  type ConnectionTarget,
  type ExtractRequest,
  type ExtractResult,
} from '../database/common.js';

/** DATA_TYPEs whose text-protocol form is their documented text form. */
const AS_IS = new Set([
  'tinyint',
  'smallint',
  'mediumint',
  'int',
  'integer',
  'bigint',
  'decimal',
  'numeric',
  'float',
  'double',
  'char',
  'varchar',
  'tinytext',
  'text',
  'mediumtext',
  'longtext',
  'enum',
  'set',
  'json',
  'date',
  'datetime',
  'timestamp',
  'time',
  'year',
  'uuid',
  'inet4',
  'inet6',
]);

/** DATA_TYPEs selected through an expression, and the expression for column `c`. */
const CONVERTED: Record<string, (c: string) => string> = {
  bit: (c) => `CAST(${c} AS UNSIGNED)`,
  binary: (c) => `LOWER(HEX(${c}))`,
  varbinary: (c) => `LOWER(HEX(${c}))`,
  tinyblob: (c) => `LOWER(HEX(${c}))`,
  blob: (c) => `LOWER(HEX(${c}))`,
  mediumblob: (c) => `LOWER(HEX(${c}))`,
  longblob: (c) => `LOWER(HEX(${c}))`,
};

/** How the cursor's text is turned back into the column's type, so comparisons are exact. */
function cursorLiteral(dataType: string, columnType: string): string {
  if (/int$/.test(dataType) || dataType === 'integer')
    return /unsigned/.test(columnType) ? 'CAST(? AS UNSIGNED)' : 'CAST(? AS SIGNED)';
  if (dataType === 'decimal' || dataType === 'numeric') return 'CAST(? AS DECIMAL(65,30))';
  if (dataType === 'datetime' || dataType === 'timestamp') return 'CAST(? AS DATETIME(6))';
  if (dataType === 'date') return 'CAST(? AS DATE)';
  return '?';
}

const LOST_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'ECONNRESET',
  'EPIPE',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_QUERY_INTERRUPTED',
]);

const quoteIdent = (name: string) => `\`${name.replaceAll('`', '``')}\``;

interface MyColumn {
  name: string;
  dataType: string;
  columnType: string;
}

/** Rows as text: every value leaves the driver as the server sent it (or null). */
const asText: ConnectionOptions['typeCast'] = (field) => field.string();

/** Whether a failure means the connection went away (as opposed to a bad query). */
function isConnectionLoss(err: unknown): boolean {
  const e = err as { code?: string; message?: string; fatal?: boolean };
  return (e.code !== undefined && LOST_CODES.has(e.code)) || e.fatal === true;
}

export class MysqlSource extends DatabaseSource {
  protected readonly defaultPort = 3306;

  constructor(table: DatabaseSourceTable) {
    super(table);
  }

  private async connect(target: ConnectionTarget): Promise<Connection> {
    const options: ConnectionOptions = {
      ...(target.url ? { uri: target.url } : {}),
      ...(target.host ? { host: target.host } : {}),
      ...(target.port ? { port: target.port } : {}),
      ...(target.user ? { user: target.user } : {}),
      ...(target.password !== undefined ? { password: target.password } : {}),
      ...(target.database ? { database: target.database } : {}),
      charset: 'utf8mb4',
      timezone: 'Z',
      connectTimeout: 15000,
      enableKeepAlive: true,
    };
    const conn = mysql.createConnection(options);
    // A connection that drops between queries emits 'error'; the failing query reports it.
    conn.on('error', () => undefined);
    try {
      await conn.promise().connect();
    } catch (err) {
      conn.destroy();
      throw connectError(err, 'mysql', target, this.table);
    }
    return conn;
  }

  protected async extract(req: ExtractRequest): Promise<ExtractResult> {
    const { table, target } = req;
    const cfg = table.tableConfig;
    const dbTable = this.dbTable;
    if (cfg.parallel > 1) {
      throw new TributaryError('parallel extraction is only offered for postgres sources', {
        code: 'CONFIG',
        location: { path: `sources.${table.source}.tables.${table.table}.parallel` },
        hint: 'MySQL cannot share one snapshot between connections; remove parallel',
      });
    }
    const conn = await this.connect(target);
    const db = conn.promise();
    const onAbort = () => conn.destroy();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await db.query("SET time_zone = '+00:00'");
      await db.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await db.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      const [schema, name] = dbTable.includes('.')
        ? (dbTable.split('.') as [string, string])
        : [null, dbTable];
      const [cols] = await db.query<(RowDataPacket & MyColumn)[]>(
        `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType
           FROM information_schema.COLUMNS
          WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?
          ORDER BY ORDINAL_POSITION`,
        [schema, name],
      );
      if (!cols.length) {
        throw new TributaryError(`table ${dbTable} does not exist in mysql ${target.label}`, {
          code: 'CONFIG',
          location: { path: `sources.${table.source}.tables.${table.table}.table` },
          hint: 'name it as database.table, or fix the database of the source',
        });
      }
      const relation = schema ? `${quoteIdent(schema)}.${quoteIdent(name)}` : quoteIdent(name);
      const byName = new Map(cols.map((c) => [c.name, c as MyColumn]));
      const chosen = (cfg.columns ?? cols.map((c) => c.name)).map((n) => {
        const col = byName.get(n);
        if (!col) throw unknownColumn(table, dbTable, n, 'column');
        return col;
      });
      const select = chosen.map((col) => {
        const c = quoteIdent(col.name);
        const type = col.dataType.toLowerCase();
        if (AS_IS.has(type)) return c;
        const convert = CONVERTED[type];
        if (!convert) throw unmappableColumn(table, dbTable, col.name, col.columnType);
        return `${convert(c)} AS ${c}`;
      });
      let filter = '';
      let orderBy = '';
      const params: string[] = [];
      let high: string | undefined;
      if (req.cursor) {
        const cur = byName.get(req.cursor.column);
        if (!cur) throw unknownColumn(table, dbTable, req.cursor.column, 'cursor');
        const c = quoteIdent(cur.name);
        if (req.cursor.after !== undefined) {
          filter = ` WHERE ${c} > ${cursorLiteral(cur.dataType.toLowerCase(), cur.columnType)}`;
          params.push(req.cursor.after);
        }
        // The high-water mark is max(cursor) of exactly the rows this snapshot extracts.
        const [max] = await db.query<RowDataPacket[]>({
          sql: `SELECT CAST(MAX(${c}) AS CHAR) AS high FROM ${relation}${filter}`,
          values: params,
          typeCast: asText,
        });
        high = (max[0]?.high as string | null) ?? undefined;
        if (high === undefined) {
          await db.query('COMMIT');
          return {};
        }
        orderBy = ` ORDER BY ${c}`;
      }
      const writer = await req.open(0, 1);
      await writer.write(`${chosen.map((c) => csvField(c.name)).join(',')}\n`);
      const query = conn.query({
        sql: `SELECT ${select.join(', ')} FROM ${relation}${filter}${orderBy}`,
        values: params,
        rowsAsArray: true,
        typeCast: asText,
      });
      // Rows are gathered into chunks of about 256 KB: one write per row would cost more than the row.
      let chunk = '';
      let rows = 0;
      const rowStream = query.stream({ highWaterMark: 1024 });
      // mysql2 reports a connection lost mid-result on the connection only, and the row stream
      // would wait forever: end the stream with that error.
      conn.once('error', (err) => rowStream.destroy(err));
      for await (const row of rowStream as AsyncIterable<(string | null)[]>) {
        let line = '';
        for (let i = 0; i < row.length; i++) line += (i ? ',' : '') + csvField(row[i]!);
        chunk += `${line}\n`;
        rows++;
        if (chunk.length >= 1 << 18) {
          await writer.write(chunk);
          chunk = '';
        }
      }
      if (chunk) await writer.write(chunk);
      writer.countRecords(rows);
      await db.query('COMMIT');
      return high === undefined ? {} : { high };
    } catch (err) {
      if (req.signal?.aborted) {
        throw new TributaryError(`extract of ${dbTable} was cancelled`, {
          location: { path: `sources.${table.source}.tables.${table.table}` },
          hint: 'nothing was committed; run again to extract',
        });
      }
      throw extractError(err, 'mysql', target, table, dbTable, isConnectionLoss(err));
    } finally {
      req.signal?.removeEventListener('abort', onAbort);
      conn.destroy();
    }
  }
}
