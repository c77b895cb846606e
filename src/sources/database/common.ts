/**
 * What the PostgreSQL and MySQL connectors share: secrets and connection targets, the CSV form
 * of a row, and `land()` itself — read the committed cursor, let the database extract into raw
 * batch writers inside one snapshot, then commit the batches and the new high-water mark in one
 * manifest swap. A connector only says how to extract; modes, cursors and commits live here.
 */
import { TributaryError, isTransientError } from '../../core/index.js';
import type { RawBatch } from '../../lake/index.js';
import { readSecret, type DatabaseSourceTable } from '../../project/index.js';
import { RawBatchWriter, commitRawBatches, readRawManifest } from '../raw-writer.js';
import type { LandContext, LandResult, Source } from '../types.js';

/** Where to connect, resolved from tributary.yml; `secrets` lists what must never be printed. */
export interface ConnectionTarget {
  url?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  /** `host:port/database`, for messages (never the user or password). */
  label: string;
  secrets: string[];
}

/** Resolves a database source's connection settings, reading its secrets. */
function connectionTarget(table: DatabaseSourceTable, defaultPort: number): ConnectionTarget {
  const cfg = table.sourceConfig;
  const at = `sources.${table.source}`;
  const url = cfg.url ? readSecret(cfg.url, `${at}.url`) : undefined;
  const password = cfg.password ? readSecret(cfg.password, `${at}.password`) : undefined;
  let host = cfg.host;
  let port = cfg.port;
  let database = cfg.database;
  const secrets = [password, url].filter((s): s is string => !!s);
  if (url) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      // The URL holds the password: say where it came from, never what it is.
      throw new TributaryError(`the connection URL of source ${table.source} is not a valid URL`, {
        code: 'CONFIG',
        location: { path: `${at}.url` },
        hint: `expected ${table.kind}://user:password@host:port/database`,
      });
    }
    if (parsed.password) secrets.push(decodeURIComponent(parsed.password), parsed.password);
    host ??= parsed.hostname || undefined;
    port ??= parsed.port ? Number(parsed.port) : undefined;
    database ??= decodeURIComponent(parsed.pathname.replace(/^\//, '')) || undefined;
  }
  if (!url && !host) {
    throw new TributaryError(`source ${table.source} has neither url nor host`, {
      code: 'CONFIG',
      location: { path: at },
      hint: 'set url: { env: NAME } (a connection URL), or host, port, user, password and database',
    });
  }
  return {
    url,
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    password,
    database: cfg.database,
    label: `${host ?? 'localhost'}:${port ?? defaultPort}/${database ?? ''}`,
    secrets,
  };
}

/** Removes every secret from a message (drivers sometimes echo connection strings). */
function scrub(message: string, secrets: string[]): string {
  let out = message;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

/** One value in RFC 4180 CSV: NULL is an empty field, an empty string is `""` (as COPY does). */
export function csvField(value: string | null): string {
  if (value === null) return '';
  if (value === '') return '""';
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** What `land()` asks of a database: extract the chosen rows into writers, in one snapshot. */
export interface ExtractRequest {
  table: DatabaseSourceTable;
  target: ConnectionTarget;
  /** Incremental mode: the cursor column and the committed high-water mark (text), if any. */
  cursor?: { column: string; after: string | undefined };
  /** Opens the writer of part `i` (parallel extracts write one batch per part). */
  open(part: number, parts: number): Promise<RawBatchWriter>;
  signal?: AbortSignal;
}

export interface ExtractResult {
  /** max(cursor) over the extracted rows, as text; undefined when no row was extracted. */
  high?: string;
}

/** A batch as a database connector commits it: with its row count and the extract it came from. */
export interface DatabaseBatch extends RawBatch {
  rows: number;
  mode: 'full' | 'incremental';
  /** Part i of n of one extract (parallel extracts). */
  part: number;
  parts: number;
}

/**
 * The raw manifest's cursor entry of a full-mode table: the batches that make up the latest
 * snapshot of the table (possibly batches landed by an earlier run, when the table came back
 * to bytes seen before). Processing with `disposition: replace` takes exactly these.
 */
export interface FullSnapshotCursor {
  snapshot: string[];
  rows: number;
  extractedAt: string;
}

/** Base of the database connectors: modes, cursor and commit around a database's extract. */
export abstract class DatabaseSource implements Source {
  readonly id: string;

  constructor(protected readonly table: DatabaseSourceTable) {
    this.id = table.id;
  }

  /** The database's default port, for messages. */
  protected abstract readonly defaultPort: number;

  /** Streams the chosen rows into writers, all in one consistent snapshot. */
  protected abstract extract(req: ExtractRequest): Promise<ExtractResult>;

  /** The table as named in the database (schema-qualified when configured so). */
  protected get dbTable(): string {
    return this.table.tableConfig.table ?? this.table.table;
  }

  async land(ctx: LandContext): Promise<LandResult> {
    const { source, table: name, tableConfig: cfg } = this.table;
    const target = connectionTarget(this.table, this.defaultPort);
    const at = `sources.${source}.tables.${name}`;
    if (cfg.mode === 'incremental' && !cfg.cursor) {
      throw new TributaryError(`table ${name} is incremental but names no cursor column`, {
        code: 'CONFIG',
        location: { path: at },
        hint: 'add cursor: <column that only grows, e.g. updated_at or id>, or use mode: full',
      });
    }
    const manifest = await readRawManifest(ctx.store, source, name);
    const committed = manifest.cursor?.[name];
    const cursor =
      cfg.mode === 'incremental'
        ? {
            column: cfg.cursor!,
            after: typeof committed === 'string' ? committed : undefined,
          }
        : undefined;
    const writers: RawBatchWriter[] = [];
    const partOf = new Map<RawBatchWriter, { part: number; parts: number }>();
    const open = async (part: number, parts: number) => {
      const w = await RawBatchWriter.open({
        store: ctx.store,
        tmpDir: ctx.tmpDir,
        source,
        table: name,
        ext: '.csv',
        now: ctx.now,
        originalName: parts > 1 ? `${this.dbTable} (part ${part + 1}/${parts})` : this.dbTable,
      });
      writers.push(w);
      partOf.set(w, { part, parts });
      return w;
    };
    ctx.progress.update({ label: `extract ${this.id}`, done: 0, total: undefined, unit: 'rows' });
    let result: ExtractResult;
    const batches: DatabaseBatch[] = [];
    try {
      result = await this.extract({
        table: this.table,
        target,
        ...(cursor ? { cursor } : {}),
        open,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      for (const w of writers) {
        const rows = w.rows;
        const batch = await w.finish();
        // A part with no rows holds only the header: it says nothing and is not landed.
        if (batch && rows > 0 && !batches.some((b) => b.id === batch.id)) {
          batches.push({ ...batch, rows, mode: cfg.mode, ...partOf.get(w)! });
        }
      }
    } catch (err) {
      await Promise.all(writers.map((w) => w.abort()));
      throw err;
    }
    // Parallel parts open in whatever order their connections come up; the manifest lists them
    // in range order, so processing (and merge's "latest wins") sees the same order every run.
    batches.sort((a, b) => a.part - b.part);
    const warnings: string[] = [];
    if (cfg.mode === 'full' && this.table.disposition === 'append') {
      warnings.push(
        `${this.id} is extracted in full mode with disposition append: every change to the table appends all its rows again; use disposition: replace (or merge with a primary key)`,
      );
    }
    let newCursor: Record<string, unknown> | undefined;
    if (cfg.mode === 'incremental') {
      if (result.high === undefined) {
        return { landed: [], unchanged: 0, warnings: [...warnings, `${this.id}: no new rows`] };
      }
      newCursor = { [name]: result.high };
    } else {
      const snapshot: FullSnapshotCursor = {
        snapshot: batches.map((b) => b.id),
        rows: batches.reduce((n, b) => n + b.rows, 0),
        extractedAt: ctx.now.toISOString(),
      };
      newCursor = { [name]: snapshot };
    }
    const { landed } = await commitRawBatches(ctx.store, source, name, batches, newCursor);
    return { landed, unchanged: batches.length - landed.length, warnings };
  }
}

/** Wraps a driver failure during an extract into one message naming the database and table. */
export function extractError(
  err: unknown,
  kind: string,
  target: ConnectionTarget,
  table: DatabaseSourceTable,
  dbTable: string,
  lost: boolean,
): TributaryError {
  if (err instanceof TributaryError) return err;
  const detail = scrub(err instanceof Error ? err.message : String(err), target.secrets);
  return new TributaryError(
    lost
      ? `lost the connection to ${kind} ${target.label} while extracting ${dbTable}: ${detail}`
      : `extracting ${dbTable} from ${kind} ${target.label} failed: ${detail}`,
    {
      code: 'INPUT',
      transient: lost,
      location: { path: `sources.${table.source}.tables.${table.table}` },
      hint: lost
        ? 'nothing was committed and the cursor did not move: run again once the database answers'
        : 'nothing was committed; check the table, columns and permissions',
    },
  );
}

/** Wraps a failure to connect, naming the target but never the password. */
export function connectError(
  err: unknown,
  kind: string,
  target: ConnectionTarget,
  table: DatabaseSourceTable,
): TributaryError {
  const detail = scrub(err instanceof Error ? err.message : String(err), target.secrets);
  return new TributaryError(`cannot connect to ${kind} ${target.label}: ${detail}`, {
    code: 'INPUT',
    transient: isTransientError(err),
    location: { path: `sources.${table.source}` },
    hint: 'check that the database runs and the url (or host, port, user, password) is right',
  });
}

/** The error for a column whose type has no documented text form. */
export function unmappableColumn(
  table: DatabaseSourceTable,
  dbTable: string,
  column: string,
  type: string,
): TributaryError {
  return new TributaryError(
    `column ${column} of ${dbTable} has type ${type}, which has no documented text form for extraction`,
    {
      code: 'CONFIG',
      location: { path: `sources.${table.source}.tables.${table.table}.columns` },
      hint: `leave ${column} out with columns: [...], or extract a view that casts it to text (see docs/sources-databases.md)`,
    },
  );
}

/** The error for a configured column the table does not have. */
export function unknownColumn(
  table: DatabaseSourceTable,
  dbTable: string,
  column: string,
  what: string,
): TributaryError {
  return new TributaryError(`${what} ${column} is not a column of ${dbTable}`, {
    code: 'CONFIG',
    location: { path: `sources.${table.source}.tables.${table.table}` },
    hint: 'fix the column name in tributary.yml',
  });
}
