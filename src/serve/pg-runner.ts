/**
 * The SqlRunner for a PostgreSQL warehouse (the API's /api/query, dashboard tiles, `tributary
 * query`): queries run on the live database as the read-only role publishing set up
 * (orchestrator/serving.ts), each in its own READ ONLY transaction with a statement_timeout, cut
 * at the row limit. The role may read only the schemas the pipeline builds, so Tributary's
 * bookkeeping, the sync state and other schemas are out of reach whatever the SQL says; one
 * statement only (the extended protocol refuses more). Roles that may not see PII (the viewer)
 * run as the masked role, which reads only the masked mirrors of those schemas
 * (engines/postgres/masked-mirror.ts): the query's names are pointed at the mirrors first, and a
 * name left pointing at an original is refused by the server. Roles whose rules leave out a
 * lake zone (the viewer's quarantine) are refused its relations.
 */
import { TributaryError } from '../core/index.js';
import {
  engineErrorKind,
  mirrorSchemaOf,
  openDuckDB,
  openPostgres,
  quoteIdentifier,
  redirectQualifiedTables,
  relationsInSerializedSql,
  serializeSql,
  type Engine,
} from '../engines/index.js';
import {
  readServingSnapshot,
  readSharedSnapshot,
  servingDir,
  warehouseReaderUrl,
  type ServingSnapshot,
  type Workspace,
} from '../orchestrator/index.js';
import { ServingPointerStore } from '../state/index.js';
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
  /**
   * The read-only role's connection URL, or (`masked`) its masked twin's (asked when the first
   * query as that role opens its connections).
   */
  url: (masked: boolean) => string | Promise<string>;
  /** Where unqualified names resolve (the models' schema). */
  schema: string;
  /** Sessions open at once (queries that run at once). */
  processes?: number;
  rowLimit?: number;
  timeoutMs?: number;
  role?: Role;
  /**
   * Shared mode: where the current publish is recorded for every replica (state), read instead
   * of the serving folder. `known` is the version cached here: 'unchanged' when it still is.
   */
  published?: (known?: string) => Promise<ServingSnapshot | 'unchanged' | undefined>;
  /** How long a version read from `published` is trusted before asking again (default 1 s). */
  recheckMs?: number;
}

const refuse = (message: string, hint?: string) =>
  new TributaryError(message, { code: 'INPUT', ...(hint ? { hint } : {}) });

const refuseUnchecked = (role: Role) =>
  refuse(
    `refused: the ${role} role's queries must be one SELECT whose tables can be checked for personal data`,
    'ask an operator or admin, or write the query as one plain SELECT',
  );

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
  private readonly engines = new Map<'reader' | 'masked', Promise<Engine>>();
  private parser: Promise<Engine> | undefined;
  private readonly role: Role;

  constructor(private readonly opts: PostgresRunnerOptions) {
    this.role = opts.role ?? 'viewer';
  }

  /** When `published` was last asked; an ask in flight, which requests meanwhile share. */
  private checkedAt = 0;
  private checking: Promise<void> | undefined;

  /** Reads which publish is current (called after each run publishes, and at most every second in shared mode). */
  async refresh(): Promise<void> {
    const published = this.opts.published;
    if (!published) {
      this.current = await readServingSnapshot(this.opts.dir);
      return;
    }
    this.checking ??= (async () => {
      try {
        const found = await published(this.current?.version);
        // Recorded by a Tributary from before the record moved to state: the folder has it.
        if (found === undefined) this.current = await readServingSnapshot(this.opts.dir);
        else if (found !== 'unchanged') this.current = found;
        this.checkedAt = performance.now();
      } finally {
        this.checking = undefined;
      }
    })();
    await this.checking;
  }

  dataVersion(): string {
    return this.current?.version ?? 'none';
  }

  private async snapshot(): Promise<ServingSnapshot> {
    // Another replica may have published since: one primary-key read at most every recheckMs.
    const stale =
      this.opts.published && performance.now() - this.checkedAt >= (this.opts.recheckMs ?? 1000);
    if (!this.current || stale) await this.refresh();
    if (!this.current)
      throw new TributaryError(
        'there is nothing to query yet: no run has published the warehouse',
        { code: 'USAGE', hint: 'run the pipeline first (`tributary run`)' },
      );
    return this.current;
  }

  /** The in-memory DuckDB that parses (never runs) queries. */
  private parserEngine(): Promise<Engine> {
    this.parser ??= openDuckDB({ path: ':memory:', settings: { threads: '1' } });
    return this.parser;
  }

  /** DuckDB's parse tree of `sql`, or undefined when the parser fails. */
  private async tree(sql: string): Promise<unknown> {
    return serializeSql(await this.parserEngine(), sql).catch(() => undefined);
  }

  /** Relations a parse tree reads ([] when there is none or it is not one SELECT). */
  private relationsIn(tree: unknown): string[] {
    if (tree === undefined) return [];
    try {
      return relationsInSerializedSql(tree, this.opts.schema);
    } catch {
      return [];
    }
  }

  /** The session pool of the read-only role, or (`masked`) of its masked twin. */
  private async pool(masked: boolean): Promise<Engine> {
    const key = masked ? 'masked' : 'reader';
    let engine = this.engines.get(key);
    if (!engine) {
      engine = (async () =>
        openPostgres({
          url: await this.opts.url(masked),
          schema: this.opts.schema,
          poolSize: this.opts.processes ?? 2,
        }))();
      this.engines.set(key, engine);
    }
    return engine.catch((err: unknown) => {
      this.engines.delete(key);
      throw err;
    });
  }

  /**
   * What the role's query runs as, decided before it runs: the lake zones outside the role's
   * (the viewer's quarantine) are refused, as the DuckDB sandbox refuses them; for roles that see
   * PII masked, the query's schema-qualified names are pointed at the masked mirrors and it runs
   * as the masked role, which can read nothing else (unqualified names find the mirrors through
   * its search_path). Without a masked role (read_url's administrator made the read-only role
   * and no masked one could be made) relations holding PII are refused to such roles.
   */
  private async readableText(
    body: string,
    role: Role,
    snapshot: ServingSnapshot,
  ): Promise<{ text: string; searchPath?: string }> {
    const rules = READ_RULES[role];
    const zones = rules.zones ? LAKE_ZONES.filter((z) => !rules.zones!.includes(z)) : [];
    const mirrors = rules.masked ? snapshot.postgres?.mirrors : undefined;
    const withheld = rules.masked ? snapshot.masked.withheld : [];
    if (!withheld.length && !zones.length && !mirrors) return { text: body };
    // Parsed once: the same tree says what the query reads and where its names are to redirect.
    const tree = await this.tree(body);
    const read = this.relationsIn(tree);
    const outside = read.filter((r) => zones.includes(r.split('.')[0]!));
    if (outside.length)
      throw refuse(
        `refused: ${outside.join(', ')} ${outside.length > 1 ? 'are' : 'is'} in the ${outside[0]!.split('.')[0]} zone, which the ${role} role may not read`,
        'ask an operator or admin (they read the quarantine and raw zones)',
      );
    const hidden = read.filter((r) => withheld.includes(r));
    if (hidden.length)
      throw refuse(
        `refused: ${hidden.join(', ')} hold personal data, which the ${role} role may not read on this warehouse${mirrors ? ' (no masked view of it could be made)' : ''}`,
        `ask an operator or admin, or query relations without PII columns${snapshot.postgres?.maskingError ? ` (masking is not set up: ${snapshot.postgres.maskingError})` : ''}`,
      );
    if (!mirrors) {
      if (!read.length && (withheld.length || zones.length)) throw refuseUnchecked(role);
      return { text: body };
    }
    if (tree === undefined) throw refuseUnchecked(role);
    try {
      const text = redirectQualifiedTables(body, tree, (s) => mirrors[s]);
      return { text, searchPath: mirrors[this.opts.schema] ?? mirrorSchemaOf(this.opts.schema) };
    } catch {
      throw refuseUnchecked(role);
    }
  }

  async query(
    sql: string,
    params: Record<string, ParamValue> = {},
    limits: QueryLimits = {},
  ): Promise<SqlResult> {
    const snapshot = await this.snapshot();
    const started = performance.now();
    const role = limits.role ?? this.role;
    const rowLimit = Math.max(
      0,
      Math.floor(limits.rowLimit ?? this.opts.rowLimit ?? DEFAULT_ROW_LIMIT),
    );
    const timeoutMs = Math.max(
      1,
      Math.floor(timeoutFor(role, limits.timeoutMs, this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS)),
    );
    const body = sql.trim().replace(/;\s*$/, '');
    const readable = await this.readableText(body, role, snapshot);
    const { sql: text, values } = positionalParams(readable.text, params);
    const session = await (await this.pool(readable.searchPath !== undefined)).fork();
    try {
      const result = await session.transaction(async (tx) => {
        await tx.exec(`SET TRANSACTION READ ONLY; SET LOCAL statement_timeout = ${timeoutMs}`);
        if (readable.searchPath !== undefined)
          await tx.exec(`SET LOCAL search_path = ${quoteIdentifier(readable.searchPath)}`);
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
          readable.searchPath !== undefined
            ? `the ${role} role reads the masked views of the schemas the pipeline builds (\`tributary catalog\` lists them), nothing else`
            : 'the read-only role reads the schemas the pipeline builds (`tributary catalog` lists them)',
        );
      // A run keeps the masked views over what it rebuilds (engines/postgres/dependents.ts),
      // except a view's mirror whose definition no longer fits, or a relation new since publishing.
      if (readable.searchPath !== undefined && /does not exist/.test(message))
        throw refuse(
          message.replace(/^(\w+ )?Error: /, ''),
          'if a run changed or added it, its masked view is there once the run publishes (`tributary catalog` lists the relations)',
        );
      throw refuse(message.replace(/^(\w+ )?Error: /, ''));
    } finally {
      await session.close();
    }
  }

  async versionOf(sql: string): Promise<string> {
    const snapshot = await this.snapshot();
    const relations = this.relationsIn(await this.tree(sql));
    return versionOfRelations(snapshot, relations);
  }

  async close(): Promise<void> {
    const [engines, parser] = [[...this.engines.values()], this.parser];
    this.engines.clear();
    this.parser = undefined;
    await Promise.all([
      ...engines.map((engine) => engine.then((e) => e.close()).catch(() => undefined)),
      parser?.then((e) => e.close()),
    ]);
  }
}

/** Shared mode: reads the publish recorded in state (its table migrated on first use). */
function sharedPublished(ws: Workspace): NonNullable<PostgresRunnerOptions['published']> {
  let pointers: Promise<ServingPointerStore> | undefined;
  return async (known) => {
    pointers ??= ServingPointerStore.open(ws.state.engine).catch((err: unknown) => {
      pointers = undefined;
      throw err;
    });
    return readSharedSnapshot(await pointers, known);
  };
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
    url: (masked) => warehouseReaderUrl(ws, masked),
    schema: ws.project.config.models.schema,
    ...(config.processes !== undefined ? { processes: config.processes } : {}),
    ...(config.rowLimit !== undefined ? { rowLimit: config.rowLimit } : {}),
    ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
    ...(ws.shared ? { published: sharedPublished(ws) } : {}),
    ...options,
  });
}
