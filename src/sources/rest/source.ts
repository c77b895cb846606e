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
import type { RestSourceTable } from '../../project/index.js';
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
    const where = `sources.${table.source}.tables.${table.table}`;
    const t = table.tableConfig;
    const client = new HttpClient({
      ...clientOptions(table.sourceConfig, where, table.dir, this.options.clock ?? systemClock),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      onRetry: (message) => ctx.progress.log(message),
    });
    const manifest = await readRawManifest(ctx.store, table.source, table.table);

    // Incremental: ask from the stored cursor (or `initial`), inclusive.
    const inc = t.incremental;
    const stored = manifest.cursor as Partial<RestCursor> | undefined;
    const resume = inc && stored?.field === inc.cursor_field ? stored : undefined;
    const from: CursorValue | undefined = inc ? (resume?.value ?? inc.initial) : undefined;
    const skip = new Set(resume?.value !== undefined ? (resume.seen ?? []) : []);
    let max = from;
    let atMax = new Set(skip);

    const url = endpointUrl(table.sourceConfig, t);
    if (inc && from !== undefined) url.searchParams.set(inc.param, String(from));
    const name = `GET ${url.pathname}`;
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
    const parent = sink(table.table, name);
    const children = Object.entries(t.child_tables).map(([child, path]) => ({
      child,
      path,
      sink: sink(child, `${name} ${path}`),
      notList: 0,
    }));
    const warnings: string[] = [];
    let records = 0;
    let skipped = 0;
    let noCursor = 0;
    const pages = t.module
      ? customPages(t.module, { client, url, cursor: from, table, signal: ctx.signal })
      : fetchPages(client, { url, records: t.records, paginate: t.paginate });
    try {
      for await (const page of pages) {
        for (const record of page.records) {
          const line = JSON.stringify(record);
          if (line === undefined) continue;
          let hash: string | undefined;
          if (inc) {
            const cv = cursorValue(getPath(record, inc.cursor_field));
            hash = createHash('sha256').update(line).digest('hex').slice(0, 32);
            if (cv === undefined) noCursor++;
            else {
              if (from !== undefined && compareCursor(cv, from) === 0 && skip.has(hash)) {
                skipped++;
                continue;
              }
              const order = max === undefined ? 1 : compareCursor(cv, max);
              if (order > 0) {
                max = cv;
                atMax = new Set([hash]);
              } else if (order === 0) atMax.add(hash);
            }
          }
          await parent.write(line);
          for (const c of children) {
            const rows = childRows(record, c.path, table.table, t.primary_key ?? []);
            if (!rows) c.notList++;
            else for (const row of rows) await c.sink.write(JSON.stringify(row));
          }
          records++;
        }
        ctx.progress.update({ label: `land ${this.id}`, done: records, unit: 'records' });
        if (ctx.signal?.aborted) throw client.error(`landing ${this.id} was cancelled`, {});
      }
      const parentBatches = await parent.finish();
      const childBatches = [];
      for (const c of children) childBatches.push({ c, batches: await c.sink.finish() });

      // Children first: a crash before the parent's commit re-fetches the same pages, which land
      // the same child bytes again (a no-op) and the parent's with its cursor.
      const landed: RawBatch[] = [];
      let unchanged = 0;
      for (const { c, batches } of childBatches) {
        const r = await commitRawBatches(ctx.store, table.source, c.child, batches);
        landed.push(...r.landed);
        unchanged += batches.length - r.landed.length;
      }
      const cursor: RestCursor | undefined =
        inc && max !== undefined
          ? {
              field: inc.cursor_field,
              value: max,
              seen: atMax.size <= MAX_SEEN ? [...atMax].sort() : [],
            }
          : undefined;
      const moved = cursor && JSON.stringify(cursor) !== JSON.stringify(resume ?? null);
      const r = await commitRawBatches(
        ctx.store,
        table.source,
        table.table,
        parentBatches,
        moved ? { ...cursor } : undefined,
      );
      landed.push(...r.landed);
      unchanged += parentBatches.length - r.landed.length;
      if (skipped) unchanged += 1;
      for (const c of children)
        if (c.notList)
          warnings.push(
            `${c.notList} records of ${this.id} hold no list at ${c.path}; no ${c.child} rows from them`,
          );
      if (noCursor)
        warnings.push(
          `${noCursor} records of ${this.id} have no ${inc!.cursor_field}; they cannot move the cursor`,
        );
      return { landed, unchanged, warnings };
    } catch (err) {
      await parent.abort();
      for (const c of children) await c.sink.abort();
      if (err instanceof TributaryError) throw err;
      throw client.error(
        `landing ${this.id} failed: ${err instanceof Error ? err.message : String(err)}`,
        {},
      );
    }
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
