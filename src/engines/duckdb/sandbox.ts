/**
 * A DuckDB instance for SQL written by people who may not write: opened read-only on a warehouse
 * snapshot, with external access off (files only inside the allowed folders, i.e. the lake the
 * warehouse's views read), extensions off, and the configuration locked after the memory and
 * thread limits are set. On top of what DuckDB enforces, each query must be exactly one SELECT,
 * runs at most `timeoutMs` (then it is interrupted) and returns at most `rowLimit` rows (read
 * incrementally, so a huge result never sits in memory). With a `policy` (read-policy.ts), each
 * statement is also checked against a role's read rules on its parse tree before DuckDB prepares
 * it, and server folders are shown as lake-relative paths in errors and results.
 */
import {
  duckdb,
  type DuckDBInstance,
  type StatementType,
  type DuckDBConnection,
  type DuckDBValue,
} from './api.js';
import { TributaryError } from '../../core/index.js';
import type { ColumnInfo, Row } from '../types.js';
import {
  anchorFiles,
  checkStatement,
  checkTimeout,
  hidePaths,
  hidePathsInRows,
  type SandboxPolicy,
} from './read-policy.js';
import { relationsInSerializedSql } from './sql-ast.js';
import { duckdbErrorKind } from './engine.js';
import { readerColumns } from './types.js';

export interface SandboxOptions {
  /** The database file (opened read-only). */
  path: string;
  /** Folders the warehouse's views may read files from (the lake). */
  allowedDirectories: string[];
  /** DuckDB memory_limit for all queries together, e.g. '1GB'. */
  memoryLimit?: string;
  /**
   * DuckDB temp_directory, where operators spill past the memory limit; '' turns spilling off
   * (past the limit a query fails), so a query cannot fill the disk either.
   */
  tempDirectory?: string;
  threads?: number;
  /** What the user's statements may name, checked on each one's parse tree (read-policy.ts). */
  policy?: SandboxPolicy;
}

export interface SandboxLimits {
  rowLimit: number;
  timeoutMs: number;
}

export interface SandboxResult {
  columns: ColumnInfo[];
  rows: Row[];
  truncated: boolean;
}

let namesOfStatements: Partial<Record<StatementType, string>> | undefined;

/** What a refusal calls each statement type (built on first use: DuckDB loads lazily). */
function statementNames(): Partial<Record<StatementType, string>> {
  const S = duckdb().StatementType;
  return (namesOfStatements ??= {
    [S.INSERT]: 'INSERT',
    [S.UPDATE]: 'UPDATE',
    [S.DELETE]: 'DELETE',
    [S.CREATE]: 'CREATE',
    [S.ALTER]: 'ALTER',
    [S.DROP]: 'DROP',
    [S.COPY]: 'COPY',
    [S.COPY_DATABASE]: 'COPY',
    [S.ATTACH]: 'ATTACH',
    [S.DETACH]: 'DETACH',
    [S.SET]: 'SET',
    [S.VARIABLE_SET]: 'SET',
    [S.PRAGMA]: 'PRAGMA',
    [S.LOAD]: 'LOAD or INSTALL',
    [S.EXTENSION]: 'INSTALL',
    [S.UPDATE_EXTENSIONS]: 'UPDATE EXTENSIONS',
    [S.EXPORT]: 'EXPORT',
    [S.CALL]: 'CALL',
    [S.TRANSACTION]: 'a transaction statement',
    [S.VACUUM]: 'VACUUM',
    [S.CREATE_FUNC]: 'CREATE FUNCTION',
    [S.MERGE_INTO]: 'MERGE',
    [S.EXPLAIN]: 'EXPLAIN',
  });
}

/** Words a read-only statement may start with. */
const READ_KEYWORDS = new Set([
  'SELECT',
  'WITH',
  'VALUES',
  'FROM',
  'TABLE',
  'DESCRIBE',
  'SHOW',
  'SUMMARIZE',
]);

/** The first word of a statement, past comments and opening parentheses, upper-cased. */
function firstKeyword(sql: string): string {
  let rest = sql;
  for (;;) {
    const trimmed = rest.replace(/^[\s(]+/, '');
    if (trimmed.startsWith('--')) {
      const end = trimmed.indexOf('\n');
      rest = end < 0 ? '' : trimmed.slice(end + 1);
    } else if (trimmed.startsWith('/*')) {
      const end = trimmed.indexOf('*/');
      rest = end < 0 ? '' : trimmed.slice(end + 2);
    } else return (/^[A-Za-z_]+/.exec(trimmed)?.[0] ?? '').toUpperCase();
  }
}

/** A statement the sandbox will not run, or that failed: the query's fault (exit 1, HTTP 400). */
const refuse = (message: string, hint?: string) =>
  new TributaryError(message, { code: 'INPUT', ...(hint ? { hint } : {}) });

/** DuckDB's wording for what the sandbox blocks, turned into one plain sentence. */
function explain(err: unknown, pathAliases?: [string, string][]): TributaryError {
  const message = hidePaths(
    (err instanceof Error ? err.message : String(err)).split('\n')[0]!,
    pathAliases,
  );
  if (/file system operations are disabled|Cannot access (file|directory)/i.test(message))
    return refuse(
      `refused: this query reads or writes files, which is not allowed here (${message.replace(/^Permission Error: /, '')})`,
      'query the warehouse tables and views instead (`tributary catalog` lists them)',
    );
  if (/configuration has been locked/i.test(message))
    return refuse('refused: settings cannot be changed here');
  if (/extensions? (is|are) disabled|external extensions/i.test(message))
    return refuse('refused: extensions cannot be installed or loaded here');
  if (/read-only mode|attached in read-only/i.test(message))
    return refuse('refused: this connection is read-only');
  if (duckdbErrorKind(message) === 'interrupted') return refuse('the query was interrupted');
  return new TributaryError(message.replace(/^(\w+ )?Error: /, ''), { code: 'INPUT' });
}

/** DuckDB's parse tree of `sql` (json_serialize_sql), as JSON. */
async function serialize(connection: DuckDBConnection, sql: string): Promise<unknown> {
  const reader = await connection.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR) AS j', [
    sql,
  ]);
  return JSON.parse(String(reader.getRowObjectsJson()[0]!.j));
}

/** SQL text of a (modified) parse tree. */
async function deserialize(connection: DuckDBConnection, tree: unknown): Promise<string> {
  const reader = await connection.runAndReadAll('SELECT json_deserialize_sql($1::JSON) AS s', [
    JSON.stringify(tree),
  ]);
  return String(reader.getRowObjectsJson()[0]!.s);
}

export class DuckDBSandbox {
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly policy: SandboxPolicy | undefined,
  ) {}

  static async open(options: SandboxOptions): Promise<DuckDBSandbox> {
    const instance = await duckdb().DuckDBInstance.create(options.path, {
      access_mode: 'READ_ONLY',
    });
    const setup = await instance.connect();
    try {
      const list = options.allowedDirectories
        .map((d) => `'${(d.endsWith('/') ? d : `${d}/`).replaceAll("'", "''")}'`)
        .join(', ');
      // Order matters: limits first, then close file access, then lock everything.
      await setup.run(`SET allowed_directories = [${list}]`);
      if (options.memoryLimit)
        await setup.run(`SET memory_limit = '${options.memoryLimit.replaceAll("'", "''")}'`);
      if (options.threads) await setup.run(`SET threads = ${Math.floor(options.threads)}`);
      if (options.tempDirectory !== undefined)
        await setup.run(`SET temp_directory = '${options.tempDirectory.replaceAll("'", "''")}'`);
      await setup.run('SET autoinstall_known_extensions = false');
      await setup.run('SET autoload_known_extensions = false');
      await setup.run('SET enable_external_access = false');
      await setup.run('SET lock_configuration = true');
    } catch (err) {
      setup.closeSync();
      instance.closeSync();
      throw err;
    }
    setup.closeSync();
    return new DuckDBSandbox(instance, options.policy);
  }

  /** Runs one SELECT with named parameters (`$name`) under the limits. */
  async query(
    sql: string,
    params: Record<string, DuckDBValue>,
    limits: SandboxLimits,
  ): Promise<SandboxResult> {
    if (this.closed) throw refuse('the query sandbox is closed');
    checkTimeout(this.policy, limits.timeoutMs);
    const connection = await this.instance.connect();
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    try {
      const prepared = await this.prepareOne(connection, sql);
      if (Object.keys(params).length) {
        try {
          prepared.bind(params);
        } catch (err) {
          throw refuse(
            `cannot bind the parameters: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`,
            'name each parameter as $name in the SQL and pass a value for each',
          );
        }
      }
      timer = setTimeout(() => {
        timedOut = true;
        connection.interrupt();
      }, limits.timeoutMs);
      let reader;
      try {
        // One row past the limit tells whether the result was cut.
        reader = await prepared.streamAndReadUntil(limits.rowLimit + 1);
      } catch (err) {
        if (timedOut)
          throw refuse(
            `the query was stopped after ${limits.timeoutMs} ms (the statement timeout)`,
            'narrow it down (filters, LIMIT, fewer joins)',
          );
        throw explain(err, this.policy?.pathAliases);
      }
      const columns = readerColumns(reader);
      const all = hidePathsInRows(reader.getRowObjectsJson() as Row[], this.policy?.pathAliases);
      const truncated = all.length > limits.rowLimit;
      return { columns, rows: truncated ? all.slice(0, limits.rowLimit) : all, truncated };
    } finally {
      clearTimeout(timer);
      connection.closeSync();
    }
  }

  private async prepareOne(connection: DuckDBConnection, sql: string) {
    let extracted;
    try {
      extracted = await connection.extractStatements(sql);
    } catch (err) {
      throw explain(err, this.policy?.pathAliases);
    }
    if (extracted.count !== 1)
      throw refuse(
        extracted.count === 0
          ? 'no statement to run'
          : `one statement at a time: found ${extracted.count}`,
      );
    // The role's read rules are checked before DuckDB prepares (binding already reads files).
    const checked = this.policy ? await this.checkPolicy(connection, sql, this.policy) : true;
    let prepared;
    try {
      prepared = await (
        typeof checked === 'string' ? await connection.extractStatements(checked) : extracted
      ).prepare(0);
    } catch (err) {
      throw explain(err, this.policy?.pathAliases);
    }
    const type = prepared.statementType;
    const StatementType = duckdb().StatementType;
    // DuckDB turns some other statements into SELECTs (PRAGMA x is a table function call), so
    // the statement's first word is checked too.
    const first = firstKeyword(sql);
    if (type === StatementType.SELECT && !READ_KEYWORDS.has(first)) {
      throw refuse(
        `refused: only SELECT queries are allowed here, and this is ${first || 'not one'}`,
        'this connection reads the warehouse; changes go through the pipeline',
      );
    }
    if (type !== StatementType.SELECT) {
      throw refuse(
        `refused: only SELECT queries are allowed here, and this is ${statementNames()[type] ?? `a statement of type ${StatementType[type]}`}`,
        'this connection reads the warehouse; changes go through the pipeline',
      );
    }
    if (checked === false)
      throw refuse(
        `refused: this statement could not be checked against the ${this.policy!.role} role's read rules`,
        'write one plain SELECT',
      );
    return prepared;
  }

  /**
   * Refuses what the policy does not allow, on the statement's parse tree. Returns false when
   * DuckDB could not serialize it (not a SELECT: the statement checks refuse it, or it is
   * refused as unchecked), the SQL to run instead when relative file paths were anchored at
   * the lake (DuckDB's own rendering of the checked tree), true otherwise.
   */
  private async checkPolicy(
    connection: DuckDBConnection,
    sql: string,
    policy: SandboxPolicy,
  ): Promise<boolean | string> {
    const tree = (await serialize(connection, sql)) as { error?: boolean };
    if (tree.error) return false;
    checkStatement(policy, tree);
    return anchorFiles(policy, tree) ? deserialize(connection, tree) : true;
  }

  /** `schema.table` of every table or view a SELECT reads (for cache keys), in order. */
  async referencedRelations(sql: string): Promise<string[]> {
    const connection = await this.instance.connect();
    try {
      return relationsInSerializedSql(await serialize(connection, sql));
    } finally {
      connection.closeSync();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.instance.closeSync();
  }
}
