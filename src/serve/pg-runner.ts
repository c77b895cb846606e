/**
 * The SqlRunner for a PostgreSQL warehouse (the API's /api/query, dashboard tiles, `tributary
 * query`): queries run on the live database as the read-only role publishing set up
 * (orchestrator/serving.ts), each in its own READ ONLY transaction with a statement_timeout, cut
 * at the row limit. The role may read only the schemas the pipeline builds, so Tributary's
 * bookkeeping, the sync state and other schemas are out of reach whatever the SQL says; one
 * statement only (the extended protocol refuses more). Roles that may not see PII are refused
 * the relations holding it (PostgreSQL has no masked copy to send them to), and roles whose rules
 * leave out a lake zone (the viewer's quarantine) its relations.
 */
import { TributaryError } from '../core/index.js';
import {
  engineErrorKind,
  openDuckDB,
  openPostgres,
  relationsRead,
  type Engine,
} from '../engines/index.js';
import { readFileSync } from 'node:fs';
import {
  readServingSnapshot,
  readerCredentialsFile,
  servingDir,
  type ServingSnapshot,
  type Workspace,
} from '../orchestrator/index.js';
import { readSecret } from '../project/index.js';
import type { Role } from './auth.js';
import { READ_RULES, timeoutFor } from './read-policy.js';

/** Lake zones a role's rules may leave out (`zones`), as schemas of the warehouse. */
const LAKE_ZONES = ['raw', 'quarantine'];
import {
  DEFAULT_ROW_LIMIT,
  DEFAULT_TIMEOUT_MS,
  QuerySandbox,
  columnKind,
  sandboxOptionsOf,
  versionOfRelations,
} from './sandbox.js';
import type { ParamValue, QueryLimits, SqlResult, SqlRunner } from './types.js';

export interface PostgresRunnerOptions {
  /** The project's serving folder (`.tributary/serving`): which publish queries see. */
  dir: string;
  /** The read-only role's connection URL (asked when the first query opens the connection). */
  url: () => string;
  /** Where unqualified names resolve (the models' schema). */
  schema: string;
  /** Sessions open at once (queries that run at once). */
  processes?: number;
  rowLimit?: number;
  timeoutMs?: number;
  role?: Role;
}

const refuse = (message: string, hint?: string) =>
  new TributaryError(message, { code: 'INPUT', ...(hint ? { hint } : {}) });

/**
 * `$name` parameters (outside strings, quoted names and comments) as PostgreSQL's `$1…`, with
 * their values in order; a name given no value is refused.
 */
export function positionalParams(
  sql: string,
  params: Record<string, ParamValue>,
): { sql: string; values: ParamValue[] } {
  const order: string[] = [];
  const out = sql.replace(
    /('(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\/)|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, skipped: string | undefined, name: string | undefined) => {
      if (skipped !== undefined || name === undefined) return whole;
      if (!(name in params)) throw refuse(`parameter $${name} has no value`);
      let at = order.indexOf(name);
      if (at < 0) at = order.push(name) - 1;
      // A text or NULL value is typed text: `$x is null` alone leaves PostgreSQL no type to infer
      // (DuckDB binds by the value); a number's type comes from where it is used.
      const value = params[name];
      return value === null || typeof value === 'string'
        ? `CAST($${at + 1} AS text)`
        : `$${at + 1}`;
    },
  );
  return { sql: out, values: order.map((n) => params[n]!) };
}

export class PostgresQueryRunner implements SqlRunner {
  private current: ServingSnapshot | undefined;
  private engine: Promise<Engine> | undefined;
  private parser: Promise<Engine> | undefined;
  private readonly role: Role;

  constructor(private readonly opts: PostgresRunnerOptions) {
    this.role = opts.role ?? 'viewer';
  }

  /** Reads which publish is current (called after each run publishes). */
  async refresh(): Promise<void> {
    this.current = await readServingSnapshot(this.opts.dir);
  }

  dataVersion(): string {
    return this.current?.version ?? 'none';
  }

  private async snapshot(): Promise<ServingSnapshot> {
    if (!this.current) await this.refresh();
    if (!this.current)
      throw new TributaryError(
        'there is nothing to query yet: no run has published the warehouse',
        { code: 'USAGE', hint: 'run the pipeline first (`tributary run`)' },
      );
    return this.current;
  }

  /** Relations `sql` reads, parsed (never run) by an in-memory DuckDB; [] when it does not parse. */
  private async relations(sql: string): Promise<string[]> {
    this.parser ??= openDuckDB({ path: ':memory:', settings: { threads: '1' } });
    return relationsRead(await this.parser, sql, this.opts.schema);
  }

  /**
   * What the role may not read here, refused before the query runs: relations holding PII for
   * roles that see it masked (PostgreSQL has no masked copy), and the lake zones outside the
   * role's (the viewer's quarantine), as the DuckDB sandbox refuses them.
   */
  private async checkReadable(sql: string, role: Role, snapshot: ServingSnapshot): Promise<void> {
    const rules = READ_RULES[role];
    const withheld = rules.masked ? snapshot.masked.withheld : [];
    const zones = rules.zones ? LAKE_ZONES.filter((z) => !rules.zones!.includes(z)) : [];
    if (!withheld.length && !zones.length) return;
    const read = await this.relations(sql);
    if (!read.length)
      throw refuse(
        `refused: the ${role} role's queries must be one SELECT whose tables can be checked for personal data`,
        'ask an operator or admin, or query relations without PII columns',
      );
    const outside = read.filter((r) => zones.includes(r.split('.')[0]!));
    if (outside.length)
      throw refuse(
        `refused: ${outside.join(', ')} ${outside.length > 1 ? 'are' : 'is'} in the ${outside[0]!.split('.')[0]} zone, which the ${role} role may not read`,
        'ask an operator or admin (they read the quarantine and raw zones)',
      );
    const hidden = read.filter((r) => withheld.includes(r));
    if (hidden.length)
      throw refuse(
        `refused: ${hidden.join(', ')} hold personal data, which the ${role} role may not read on this warehouse`,
        'ask an operator or admin, or query relations without PII columns',
      );
  }

  async query(
    sql: string,
    params: Record<string, ParamValue> = {},
    limits: QueryLimits = {},
  ): Promise<SqlResult> {
    const snapshot = await this.snapshot();
    const started = performance.now();
    const role = limits.role ?? this.role;
    await this.checkReadable(sql, role, snapshot);
    const rowLimit = Math.max(
      0,
      Math.floor(limits.rowLimit ?? this.opts.rowLimit ?? DEFAULT_ROW_LIMIT),
    );
    const timeoutMs = Math.max(
      1,
      Math.floor(timeoutFor(role, limits.timeoutMs, this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS)),
    );
    const body = sql.trim().replace(/;\s*$/, '');
    const { sql: text, values } = positionalParams(body, params);
    this.engine ??= openPostgres({
      url: this.opts.url(),
      schema: this.opts.schema,
      poolSize: this.opts.processes ?? 2,
    });
    const session = await (
      await this.engine.catch((err: unknown) => {
        this.engine = undefined;
        throw err;
      })
    ).fork();
    try {
      const result = await session.transaction(async (tx) => {
        await tx.exec(`SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = ${timeoutMs}`);
        // Wrapping makes anything but a query a syntax error, and the limit the server's work.
        return tx.query(
          `SELECT * FROM (\n${text}\n) AS tributary_query LIMIT ${rowLimit + 1}`,
          values,
        );
      });
      const truncated = result.rows.length > rowLimit;
      return {
        columns: result.columns.map((c) => ({ name: c.name, type: c.type, kind: columnKind(c) })),
        rows: truncated ? result.rows.slice(0, rowLimit) : result.rows,
        truncated,
        dataVersion: snapshot.version,
        ms: Math.round((performance.now() - started) * 10) / 10,
      };
    } catch (err) {
      if (err instanceof TributaryError) throw err;
      const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
      if (engineErrorKind(err) === 'interrupted')
        throw refuse(`the query was interrupted after ${timeoutMs} ms (${message})`);
      if (/permission denied/i.test(message))
        throw refuse(
          `refused: ${message}`,
          'the read-only role reads the schemas the pipeline builds (`tributary catalog` lists them)',
        );
      throw refuse(message.replace(/^(\w+ )?Error: /, ''));
    } finally {
      await session.close();
    }
  }

  async versionOf(sql: string): Promise<string> {
    const snapshot = await this.snapshot();
    const relations = await this.relations(sql);
    return versionOfRelations(snapshot, relations);
  }

  async close(): Promise<void> {
    const [engine, parser] = [this.engine, this.parser];
    this.engine = this.parser = undefined;
    await Promise.all([
      engine?.then((e) => e.close()).catch(() => undefined),
      parser?.then((e) => e.close()),
    ]);
  }
}

/** The read-only role's URL: warehouse.read_url, or the warehouse URL as the role publishing set up. */
function readerUrl(ws: Workspace): string {
  const config = ws.project.config.warehouse;
  if (config.read_url)
    return readSecret(config.read_url, 'tributary.yml: warehouse.read_url', ws.project.dir);
  let credentials: { role: string; password: string };
  try {
    credentials = JSON.parse(readFileSync(readerCredentialsFile(ws), 'utf8')) as typeof credentials;
  } catch (err) {
    throw new TributaryError('the read-only role of the PostgreSQL warehouse is not set up yet', {
      code: 'USAGE',
      hint: 'run the pipeline first (`tributary run`): publishing creates it',
      cause: err,
    });
  }
  const url = new URL(readSecret(config.url!, 'tributary.yml: warehouse.url', ws.project.dir));
  url.username = encodeURIComponent(credentials.role);
  url.password = encodeURIComponent(credentials.password);
  return url.toString();
}

/**
 * The SqlRunner for a workspace: the DuckDB sandbox on published snapshots, or, when the
 * warehouse is not a file it can copy (PostgreSQL), queries as its read-only role.
 */
export function queryRunnerFor(
  ws: Workspace,
  options: { role?: Role } = {},
): SqlRunner & { refresh(): Promise<void>; close(): Promise<void> } {
  const config = sandboxOptionsOf(ws.project.config);
  if (ws.warehouse.capabilities.readsFiles)
    return new QuerySandbox({ dir: servingDir(ws), ...config, ...options });
  return new PostgresQueryRunner({
    dir: servingDir(ws),
    url: () => readerUrl(ws),
    schema: ws.project.config.models.schema,
    ...(config.processes !== undefined ? { processes: config.processes } : {}),
    ...(config.rowLimit !== undefined ? { rowLimit: config.rowLimit } : {}),
    ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
    ...options,
  });
}
