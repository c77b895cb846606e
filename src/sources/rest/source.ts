/**
 * The REST connector: one run of an endpoint fetches every page from the stored cursor on, writes
 * each page's records as NDJSON lines while they arrive (bounded memory), and lands them as one
 * raw batch (split at ~64 MB). Lists named in `child_tables` are unnested into their own raw
 * tables as the parent's records stream by. Nothing is committed until every page has arrived:
 * a failure anywhere lands nothing and leaves the cursor where it was; success commits the child
 * tables, then the parent's batches together with the cursor that covers them.
 */
import { createHash } from 'node:crypto';
import { TributaryError } from '../../core/index.js';
import type { RawBatch } from '../../lake/index.js';
import type { RestSourceTable, RestTableConfig } from '../../project/index.js';
import { commitRawBatches, RawBatchWriter, readRawManifest } from '../raw-writer.js';
import type { LandContext, LandResult, Source } from '../types.js';
import { checkTableConfig, clientOptions, endpointUrl } from './config.js';
import { customPages } from './custom.js';
import { HttpClient, systemClock, type Clock } from './http.js';
import { fetchPages } from './paginate.js';
import { childRows, compareCursor, cursorValue, getPath, type CursorValue } from './records.js';

/** What the raw manifest keeps between runs of an incremental endpoint. */
export interface RestCursor {
  /** The record field the cursor follows (a change of field restarts from `initial`). */
  field: string;
  /** The greatest value landed so far; the next run asks from it (inclusive). */
  value: CursorValue;
  /**
   * Hashes of the records landed with exactly `value`: an inclusive (`>=`) request fetches them
   * again, and they are dropped instead of landing a second time, while a record changed since,
   * or new with the same value, lands.
   */
  seen: string[];
}

export interface RestSourceOptions {
  /** Time for backoff and rate limits (tests pass a fake one). */
  clock?: Clock;
  /** Bytes after which a batch file is closed and the next one started. */
  splitBytes?: number;
}

const SPLIT_BYTES = 64 * 1024 * 1024;
/** Beyond this many records sharing the cursor's value, their hashes are not kept (processing de-duplicates). */
const MAX_SEEN = 10_000;

export class RestSource implements Source {
  readonly id: string;

  constructor(
    private readonly table: RestSourceTable,
    private readonly options: RestSourceOptions = {},
  ) {
    this.id = table.id;
  }

  async land(ctx: LandContext): Promise<LandResult> {
    const { table } = this;
    // A child table is landed by its parent's run, from the same pages.
    if (table.parent) return { landed: [], unchanged: 0, warnings: [] };
    checkTableConfig(table);
    const t = table.tableConfig;
    const client = this.client(ctx);
    const manifest = await readRawManifest(ctx.store, table.source, table.table);
    const cursor = new CursorTracker(t.incremental, manifest.cursor);

    // Incremental: ask from the stored cursor (or `initial`), inclusive.
    const url = endpointUrl(table.sourceConfig, t);
    if (t.incremental && cursor.from !== undefined)
      url.searchParams.set(t.incremental.param, String(cursor.from));
    const sinks = this.openSinks(ctx, `GET ${url.pathname}`);
    const pages = t.module
      ? customPages(t.module, { client, url, cursor: cursor.from, table, signal: ctx.signal })
      : fetchPages(client, { url, records: t.records, paginate: t.paginate });
    try {
      await this.writePages(ctx, client, pages, cursor, sinks);
      return await this.commit(ctx, cursor, sinks);
    } catch (err) {
      await sinks.parent.abort();
      for (const c of sinks.children) await c.sink.abort();
      if (err instanceof TributaryError) throw err;
      throw client.error(
        `landing ${this.id} failed: ${err instanceof Error ? err.message : String(err)}`,
        {},
      );
    }
  }

  /** The HTTP client of the source's config (auth, retries, rate limit), stopped by the run. */
  private client(ctx: LandContext): HttpClient {
    const { table } = this;
    const where = `sources.${table.source}.tables.${table.table}`;
    return new HttpClient({
      ...clientOptions(table.sourceConfig, where, table.dir, this.options.clock ?? systemClock),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      onRetry: (message) => ctx.progress.log(message),
    });
  }

  /** Batch files for the endpoint's records and for each child table's rows. */
  private openSinks(ctx: LandContext, name: string): Sinks {
    const { table } = this;
    const sink = (tableName: string, originalName: string) =>
      new BatchSink(
        {
          store: ctx.store,
          tmpDir: ctx.tmpDir,
          source: table.source,
          table: tableName,
          ext: '.ndjson',
          now: ctx.now,
          originalName,
        },
        this.options.splitBytes ?? SPLIT_BYTES,
      );
    return {
      parent: sink(table.table, name),
      children: Object.entries(table.tableConfig.child_tables).map(([child, path]) => ({
        child,
        path,
        sink: sink(child, `${name} ${path}`),
        notList: 0,
      })),
    };
  }

  /** Every page's records into the batch files as they arrive; the cursor follows them. */
  private async writePages(
    ctx: LandContext,
    client: HttpClient,
    pages: AsyncIterable<{ records: unknown[] }>,
    cursor: CursorTracker,
    sinks: Sinks,
  ): Promise<void> {
    const { table } = this;
    let records = 0;
    for await (const page of pages) {
      for (const record of page.records) {
        const line = JSON.stringify(record);
        if (line === undefined || !cursor.admit(record, line)) continue;
        await sinks.parent.write(line);
        for (const c of sinks.children) {
          const rows = childRows(record, c.path, table.table, table.tableConfig.primary_key ?? []);
          if (!rows) c.notList++;
          else for (const row of rows) await c.sink.write(JSON.stringify(row));
        }
        records++;
      }
      ctx.progress.update({ label: `land ${this.id}`, done: records, unit: 'records' });
      if (ctx.signal?.aborted) throw client.error(`landing ${this.id} was cancelled`, {});
    }
  }

  /** Stores the batch files and commits them: the child tables, then the parent with its cursor. */
  private async commit(ctx: LandContext, cursor: CursorTracker, sinks: Sinks): Promise<LandResult> {
    const { table } = this;
    const parentBatches = await sinks.parent.finish();
    const childBatches = [];
    for (const c of sinks.children) childBatches.push({ c, batches: await c.sink.finish() });

    // Children first: a crash before the parent's commit re-fetches the same pages, which land
    // the same child bytes again (a no-op) and the parent's with its cursor.
    const landed: RawBatch[] = [];
    let unchanged = 0;
    for (const { c, batches } of childBatches) {
      const r = await commitRawBatches(ctx.store, table.source, c.child, batches);
      landed.push(...r.landed);
      unchanged += batches.length - r.landed.length;
    }
    const moved = cursor.moved();
    const r = await commitRawBatches(
      ctx.store,
      table.source,
      table.table,
      parentBatches,
      moved ? { ...moved } : undefined,
    );
    landed.push(...r.landed);
    unchanged += parentBatches.length - r.landed.length;
    if (cursor.skipped) unchanged += 1;
    const warnings: string[] = [];
    for (const c of sinks.children)
      if (c.notList)
        warnings.push(
          `${c.notList} records of ${this.id} hold no list at ${c.path}; no ${c.child} rows from them`,
        );
    if (cursor.noCursor)
      warnings.push(
        `${cursor.noCursor} records of ${this.id} have no ${table.tableConfig.incremental!.cursor_field}; they cannot move the cursor`,
      );
    return { landed, unchanged, warnings };
  }
}

/** A run's batch files: the endpoint's records, and each child table's rows. */
interface Sinks {
  parent: BatchSink;
  /** `notList` counts the records whose value at `path` is not a list. */
  children: { child: string; path: string; sink: BatchSink; notList: number }[];
}

/**
 * An incremental endpoint's cursor during a run: where the request starts (the stored value, or
 * `initial`, inclusive), which records that inclusive request fetches again and are dropped, and
 * the greatest value landed with the hashes of the records holding it.
 */
class CursorTracker {
  /** The value the request starts from; undefined for an endpoint that is not incremental. */
  readonly from: CursorValue | undefined;
  /** Records dropped as landed by the run before (same cursor value, same bytes). */
  skipped = 0;
  /** Records without the cursor field. */
  noCursor = 0;
  private readonly resume: Partial<RestCursor> | undefined;
  private readonly skip: Set<string>;
  private max: CursorValue | undefined;
  private atMax: Set<string>;

  constructor(
    private readonly inc: RestTableConfig['incremental'],
    stored: unknown,
  ) {
    const previous = stored as Partial<RestCursor> | undefined;
    // A cursor kept for another field does not apply: the run starts again from `initial`.
    this.resume = inc && previous?.field === inc.cursor_field ? previous : undefined;
    this.from = inc ? (this.resume?.value ?? inc.initial) : undefined;
    this.skip = new Set(this.resume?.value !== undefined ? (this.resume.seen ?? []) : []);
    this.max = this.from;
    this.atMax = new Set(this.skip);
  }

  /** Follows one record (its JSON line); false when it was landed before and is dropped. */
  admit(record: unknown, line: string): boolean {
    const { inc } = this;
    if (!inc) return true;
    const cv = cursorValue(getPath(record, inc.cursor_field));
    const hash = createHash('sha256').update(line).digest('hex').slice(0, 32);
    if (cv === undefined) {
      this.noCursor++;
      return true;
    }
    if (this.from !== undefined && compareCursor(cv, this.from) === 0 && this.skip.has(hash)) {
      this.skipped++;
      return false;
    }
    const order = this.max === undefined ? 1 : compareCursor(cv, this.max);
    if (order > 0) {
      this.max = cv;
      this.atMax = new Set([hash]);
    } else if (order === 0) this.atMax.add(hash);
    return true;
  }

  /** The cursor to commit with the batches; undefined when it is where the last run left it. */
  moved(): RestCursor | undefined {
    if (!this.inc || this.max === undefined) return undefined;
    const cursor: RestCursor = {
      field: this.inc.cursor_field,
      value: this.max,
      seen: this.atMax.size <= MAX_SEEN ? [...this.atMax].sort() : [],
    };
    return JSON.stringify(cursor) !== JSON.stringify(this.resume ?? null) ? cursor : undefined;
  }
}

/** One table's batch files of a run: a new file every `splitBytes`, written as records arrive. */
class BatchSink {
  private writer: RawBatchWriter | undefined;
  private readonly batches: RawBatch[] = [];
  private part = 0;

  constructor(
    private readonly opts: Parameters<typeof RawBatchWriter.open>[0],
    private readonly splitBytes: number,
  ) {}

  /** Appends one JSON line. */
  async write(line: string): Promise<void> {
    if (!this.writer) {
      this.part++;
      this.writer = await RawBatchWriter.open({
        ...this.opts,
        originalName:
          this.part > 1 ? `${this.opts.originalName} (part ${this.part})` : this.opts.originalName,
      });
    }
    this.writer.countRecords(1);
    await this.writer.write(`${line}\n`);
    if (this.writer.size >= this.splitBytes) await this.close();
  }

  private async close(): Promise<void> {
    const batch = await this.writer?.finish();
    this.writer = undefined;
    if (batch) this.batches.push(batch);
  }

  /** Stores the open file and returns every batch of the run (none when nothing was written). */
  async finish(): Promise<RawBatch[]> {
    await this.close();
    return this.batches;
  }

  /** Drops the open file, and the stored ones no manifest names (a split run that failed later). */
  async abort(): Promise<void> {
    await this.writer?.abort();
    this.writer = undefined;
    if (!this.batches.length) return;
    const { store, source, table } = this.opts;
    const known = new Set((await readRawManifest(store, source, table)).batches.map((b) => b.key));
    for (const b of this.batches) if (!known.has(b.key)) await store.delete(b.key);
  }
}
