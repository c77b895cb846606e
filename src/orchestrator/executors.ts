/**
 * What running each kind of asset means. Each executor does its work through the modules below
 * (sources, quality, models, catalog) and reports rows and status; the runner owns ordering,
 * failure propagation and run history.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  TributaryError,
  faultPoint,
  toCsv,
  writeFileAtomic,
  type ProgressReporter,
} from '../core/index.js';
import { catalogProcessed, catalogRaw, warehouseEntry, exposeLakeTable } from '../catalog/index.js';
import type { Engine } from '../engines/index.js';
import { lakeKeys, readManifest, type TableManifest } from '../lake/index.js';
import { writeCompiled, type DbtSession, type Node } from '../models/index.js';
import { emptyManifest, processTable } from '../quality/index.js';
import { sourceFor, type LostRange } from '../sources/index.js';
import type { StepStatus } from '../state/index.js';
import type { Asset } from './graph.js';
import { runForecastAsset } from './forecasts.js';
import { streamSourceFor } from './streams.js';
import { runSyncStep } from './syncs.js';
import type { Workspace } from './workspace.js';

export interface StepOutcome {
  /** `skipped` only for a step turned off in its configuration (a disabled sync), never a failure. */
  status: Exclude<StepStatus, 'running'>;
  rowsIn?: number;
  rowsOut?: number;
  rowsRejected?: number;
  message?: string;
  /** Rejected rows by reason (processed steps). */
  reasons?: Record<string, number>;
  /** Files this step refused whole (processed steps): a data problem, not a failed step. */
  refusedFiles?: RefusedFile[];
  /** Stream records retention removed before this landing step reached them (raw steps). */
  streamGaps?: LostRange[];
}

/** A file refused whole by processing, with why (file, line, what to do). */
export interface RefusedFile {
  file: string;
  message: string;
}

export interface ExecContext {
  ws: Workspace;
  /**
   * Hands over a state write to finish in the background. The state engine runs statements in
   * order, so a later read still sees it; the runner waits for all of them before the run ends.
   */
  later(write: Promise<unknown>): void;
  /** Processed tables whose warehouse views are (being) registered in this run. */
  viewsRegistered: Map<string, Promise<void>>;
  /** Compiles and runs dbt nodes (models, seeds, snapshots, tests, reports) for this run. */
  dbt: DbtSession;
  /** This step's own session on the warehouse (steps may run side by side). */
  engine: Engine;
  progress: ProgressReporter;
  retryRejected: boolean;
  now: Date;
  /** Aborted when the step times out or the run is aborted. */
  signal?: AbortSignal;
  /** The partition a partition run builds (its window is in the dbt session's vars). */
  partition?: string;
  attempt?: number;
  /** Forecast steps write their backtest and methods tables only (`forecast --backtest-only`). */
  forecastBacktestOnly?: boolean;
  /** The run this step belongs to (syncs record their history under it). */
  runId: string;
}

async function loadManifest(ws: Workspace, table: string): Promise<TableManifest | undefined> {
  return readManifest<TableManifest>(ws.store, lakeKeys.processedManifest(table));
}

export async function executeAsset(ctx: ExecContext, asset: Asset): Promise<StepOutcome> {
  faultPoint(`step:${asset.key}`);
  switch (asset.kind) {
    case 'raw':
      return landRaw(ctx, asset);
    case 'processed':
      return processAsset(ctx, asset);
    case 'seed':
    case 'model':
    case 'snapshot':
      return buildNode(ctx, asset);
    case 'test':
      return testNode(ctx, asset);
    case 'report':
      return writeReport(ctx, asset);
    case 'forecast':
      await ensureProcessedViews(ctx, asset);
      return runForecastAsset(ctx, asset);
    case 'dashboard':
      // Dashboards are served, not built; they are in the graph for lineage.
      return { status: 'up_to_date', message: 'dashboards are served, not built' };
    case 'sync':
      return runSyncStep(ctx, asset);
  }
}

async function landRaw(ctx: ExecContext, asset: Asset): Promise<StepOutcome> {
  const table = ctx.ws.project.tables.find((t) => t.id === asset.name)!;
  // This process owns the project, so a partial write in the table's folder is a dead one's
  // (a stream table's flusher sweeps its own folder: it is its only writer).
  if (table.kind !== 'stream')
    await ctx.ws.store.removePartialWrites(`${lakeKeys.rawTable(table.source, table.table)}/`);
  const source = table.kind === 'stream' ? streamSourceFor(ctx.ws, table) : sourceFor(table);
  const result = await source.land({
    tmpDir: ctx.ws.project.paths.tmp,
    store: ctx.ws.store,
    progress: ctx.progress,
    now: ctx.now,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  const warnings = table.kind === 'stream' ? result.warnings : [];
  const gaps = result.gaps?.length ? { streamGaps: result.gaps } : {};
  if (result.landed.length === 0)
    return {
      ...gaps,
      status: 'up_to_date',
      rowsOut: 0,
      message: [
        table.kind === 'stream'
          ? 'nothing new in the stream'
          : `${result.unchanged} file(s) already landed`,
        ...warnings,
      ].join('\n'),
    };
  return {
    ...gaps,
    status: 'succeeded',
    rowsOut: result.landed.length,
    message: [`landed ${result.landed.map((b) => b.originalName).join(', ')}`, ...warnings].join(
      '\n',
    ),
  };
}

async function processAsset(ctx: ExecContext, asset: Asset): Promise<StepOutcome> {
  const { ws } = ctx;
  const table = ws.project.tables.find((t) => t.table === asset.name)!;
  const parents = new Map<string, TableManifest>();
  for (const c of table.contract.columns) {
    if (!c.references) continue;
    const parentName = c.references.split('.')[0]!;
    const m = parentName === table.table ? undefined : await loadManifest(ws, parentName);
    if (m) parents.set(parentName, m);
  }
  for (const prefix of [
    lakeKeys.processedTable(table.table),
    lakeKeys.quarantineTable(table.source, table.table),
  ])
    await ws.store.removePartialWrites(`${prefix}/`);
  // Processing reads and writes files: on the warehouse's session when it can, else on a
  // session of the workspace's DuckDB (interrupted with the step, as the warehouse's would be).
  const lake = ctx.engine.capabilities.readsFiles ? undefined : await ws.lakeEngine.fork();
  const onAbort = () => void lake?.interrupt().catch(() => undefined);
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  let result;
  try {
    result = await processTable(
      {
        engine: lake ?? ctx.engine,
        store: ws.store,
        tmpDir: ws.project.paths.tmp,
        progress: ctx.progress,
        retryRejected: ctx.retryRejected,
      },
      table,
      parents,
    );
  } catch (err) {
    // The views keep showing what is committed (possibly nothing), never a half-written batch.
    const committed = (await loadManifest(ws, table.table)) ?? emptyManifest(table);
    await exposeLakeTable(ctx.engine, lake ?? ctx.engine, ws.store, committed);
    throw err;
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
    await lake?.close();
  }
  // The warehouse shows the committed batches before the step ends: views over the files, or
  // (a warehouse that cannot read files) the new files loaded into its table.
  const registered = exposeLakeTableWith(ctx, result.manifest);
  ctx.viewsRegistered.set(table.table, registered);
  await registered;
  const manifest = result.manifest;
  // The raw zone's entry is written from the committed manifest on every run, not only when a
  // batch was processed: a process killed between the commit and this background write would
  // otherwise leave the entry missing (or stale) until the table's next batch.
  const rawColumns = result.rawColumns ?? manifest.rawColumns;
  ctx.later(
    ws.state.atomically(async (state) => {
      await catalogProcessed(state, manifest);
      if (!rawColumns) return;
      await catalogRaw(
        state,
        table.source,
        table.table,
        rawColumns,
        Object.values(manifest.batches).reduce((n, b) => n + b.rowsIn, 0),
        table.format ?? 'auto',
      );
    }),
  );
  // A refused file is a data problem: recorded, reported and alerted on, while the table's other
  // files and everything downstream go on (rows needing its rows wait in quarantine).
  const refusedFiles = result.rejectedFiles.map((f) => ({
    file: f.file,
    message: f.error.format(),
  }));
  const earlier = Object.values(result.manifest.rejected).length - refusedFiles.length;
  const notes = [
    ...(refusedFiles.length
      ? [
          `${refusedFiles.length} file(s) refused:\n${refusedFiles.map((f) => `  ${f.message.replaceAll('\n', '\n  ')}`).join('\n')}`,
        ]
      : []),
    ...(earlier > 0
      ? [`${earlier} file(s) refused by an earlier run are not retried; use --retry-rejected`]
      : []),
  ];
  const refused = refusedFiles.length ? { refusedFiles } : {};
  if (result.batches === 0 && result.retriedRows === 0) {
    return {
      status: refusedFiles.length ? 'succeeded' : 'up_to_date',
      rowsOut: 0,
      ...refused,
      ...(notes.length ? { message: notes.join('\n') } : {}),
    };
  }
  const reasons = Object.entries(result.reasons)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  const retried = result.retriedRows
    ? `, ${result.retriedRows} loaded from quarantine now that their parent arrived`
    : '';
  return {
    status: 'succeeded',
    rowsIn: result.rowsIn,
    rowsOut: result.rowsOut,
    rowsRejected: result.rowsRejected,
    reasons: result.reasons,
    ...refused,
    message: [
      `${result.rowsOut} rows${result.rowsRejected ? `, ${result.rowsRejected} quarantined (${reasons})` : ''}${retried}`,
      ...notes,
    ].join('\n'),
  };
}

/**
 * A node's inputs: its code, config and vars, and the versions of everything it reads. Same
 * inputs, same table, so the node is not rebuilt. (Hashing the raw code rather than the compiled
 * SQL keeps an incremental model's first and later compilations the same input.)
 */
async function inputFingerprint(ctx: ExecContext, asset: Asset, node: Node): Promise<string> {
  const hash = createHash('sha256')
    .update(node.raw_code)
    .update(node.checksum.checksum)
    .update(JSON.stringify(node.config))
    .update(JSON.stringify(ctx.ws.models.project.vars));
  for (const dep of [...asset.deps].sort()) {
    const [kind, name] = dep.split(/:(.*)/s) as [string, string];
    if (kind === 'processed') {
      const m = await loadManifest(ctx.ws, name);
      hash.update(`\0${dep}@${m?.version ?? 0}`);
    } else {
      hash.update(`\0${dep}@${(await ctx.ws.state.getAssetVersion(dep)) ?? 'none'}`);
    }
  }
  return hash.digest('hex');
}

/** Processed views are registered first (once a run), so a model can run when processing was not selected. */
async function ensureProcessedViews(ctx: ExecContext, asset: Asset): Promise<void> {
  const { ws } = ctx;
  for (const dep of asset.deps.filter((d) => d.startsWith('processed:'))) {
    const name = dep.slice('processed:'.length);
    let registered = ctx.viewsRegistered.get(name);
    if (!registered) {
      const table = ws.project.tables.find((t) => t.table === name)!;
      registered = loadManifest(ws, name).then((m) =>
        exposeLakeTableWith(ctx, m ?? emptyManifest(table)),
      );
      ctx.viewsRegistered.set(name, registered);
    }
    await registered;
  }
}

/** exposeLakeTable on this step's session, reading files with a session of the lake engine. */
async function exposeLakeTableWith(ctx: ExecContext, manifest: TableManifest): Promise<void> {
  if (ctx.engine.capabilities.readsFiles)
    return exposeLakeTable(ctx.engine, ctx.engine, ctx.ws.store, manifest);
  const reader = await ctx.ws.lakeEngine.fork();
  try {
    await exposeLakeTable(ctx.engine, reader, ctx.ws.store, manifest);
  } finally {
    await reader.close();
  }
}

function nodeOf(ctx: ExecContext, asset: Asset): Node {
  return ctx.ws.models.manifest.nodes.get(asset.uniqueId!)!;
}

async function buildNode(ctx: ExecContext, asset: Asset): Promise<StepOutcome> {
  const { ws } = ctx;
  const node = nodeOf(ctx, asset);
  await ensureProcessedViews(ctx, asset);
  const fingerprint = await inputFingerprint(ctx, asset, node);
  const ephemeral = node.config.materialized === 'ephemeral';
  const exists = ephemeral || (await ctx.engine.describe(node.schema, node.alias)) !== undefined;
  // A partition run always builds its window: the fingerprint covers the whole asset.
  if (!ctx.partition && exists && (await ws.state.getAssetVersion(asset.key)) === fingerprint) {
    return { status: 'up_to_date' };
  }
  const result = await ctx.dbt.execute(ctx.engine, node);
  if (result.status === 'error') throw result.error;
  if (result.compiled_code !== null) writeCompiled(ws.models, node, result.compiled_code);
  const entry = ephemeral
    ? undefined
    : await warehouseEntry(
        ctx.engine,
        node.schema,
        node.alias,
        `${ws.project.config.warehouse.path}#${node.schema}.${node.alias}`,
        // Only a table's build returns the rows it holds; an incremental model's or a snapshot's
        // returns the rows its batch wrote, so the catalog counts the table.
        node.config.materialized === 'table' && node.resource_type === 'model'
          ? (result.rows ?? undefined)
          : undefined,
      );
  ctx.later(
    ws.state.atomically(async (state) => {
      if (entry) await state.upsertCatalogEntry(entry);
      // After a partition run the asset changed but is not its whole-input build: a version of
      // its own makes downstream assets rebuild and the next full run build the asset again.
      await state.setAssetVersion(
        asset.key,
        ctx.partition ? `${fingerprint}@${ctx.partition}@${ctx.now.toISOString()}` : fingerprint,
      );
    }),
  );
  return {
    status: 'succeeded',
    ...(result.rows !== null ? { rowsOut: result.rows } : {}),
    message: result.message,
  };
}

/** Runs SQL written by the user; an engine error becomes one naming the file it came from. */
async function blameFile<T>(what: string, file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const first = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new TributaryError(`${what} failed: ${first}`, {
      code: 'ENGINE',
      location: { file },
      cause: err,
    });
  }
}

async function testNode(ctx: ExecContext, asset: Asset): Promise<StepOutcome> {
  await ensureProcessedViews(ctx, asset);
  const node = nodeOf(ctx, asset);
  const result = await ctx.dbt.execute(ctx.engine, node);
  if (result.status === 'error') throw result.error;
  const subject = node.column_name ? ` on ${node.column_name}` : '';
  if (result.status === 'pass') return { status: 'succeeded', rowsOut: 0 };
  const message = `${result.failures} row(s) fail ${node.test_metadata?.name ?? node.name}${subject}`;
  return {
    status: result.status === 'warn' ? 'succeeded' : 'failed',
    rowsOut: result.failures ?? 0,
    message: result.status === 'warn' ? `warning: ${message}` : message,
  };
}

async function writeReport(ctx: ExecContext, asset: Asset): Promise<StepOutcome> {
  const { ws } = ctx;
  const report = nodeOf(ctx, asset);
  await ensureProcessedViews(ctx, asset);
  const result = await blameFile(`report ${report.name}`, report.original_file_path, async () =>
    ctx.engine.query(await ctx.dbt.compile(ctx.engine, report)),
  );
  const dir = ws.project.paths.reports;
  const columns = result.columns.map((c) => c.name);
  await writeFileAtomic(join(dir, `${report.name}.csv`), toCsv(columns, result.rows));
  await writeFileAtomic(
    join(dir, `${report.name}.json`),
    JSON.stringify({ name: report.name, columns: result.columns, rows: result.rows }, null, 1),
  );
  return {
    status: 'succeeded',
    rowsOut: result.rows.length,
    message: join(dir, `${report.name}.csv`),
  };
}
