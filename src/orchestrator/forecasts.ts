/**
 * Running a forecast asset (`forecast:<name>`): the models its source names resolved to their
 * relations, then forecast/run.ts reads, backtests, forecasts and writes the tables. Like a
 * model, a forecast whose file and inputs have not changed since its last run is up to date.
 */
import { createHash } from 'node:crypto';
import { TributaryError, type ProgressReporter } from '../core/index.js';
import { warehouseEntry } from '../catalog/index.js';
import { runForecast, type ForecastRunResult } from '../forecast/index.js';
import { lakeKeys, readManifest, type TableManifest } from '../lake/index.js';
import type { Forecast } from '../project/index.js';
import type { Engine } from '../engines/index.js';
import { refNode, type Asset } from './graph.js';
import type { Workspace } from './workspace.js';

/** What a forecast step needs of executors.ts's ExecContext. */
export interface ForecastStepContext {
  ws: Workspace;
  engine: Engine;
  progress: ProgressReporter;
  later(write: Promise<unknown>): void;
  signal?: AbortSignal;
  forecastBacktestOnly?: boolean;
}

/** A forecast step's outcome (a StepOutcome of executors.ts). */
export interface ForecastStepOutcome {
  status: 'succeeded' | 'up_to_date';
  rowsOut?: number;
  message?: string;
}

/** The forecast of an asset. */
function forecastOf(ctx: ForecastStepContext, asset: Asset): Forecast {
  const f = ctx.ws.project.forecasts.find((x) => x.name === asset.name);
  if (!f) throw new TributaryError(`no forecast ${asset.name}`, { code: 'NOT_FOUND' });
  return f;
}

/**
 * A forecast's inputs: its definition, what it writes (all tables, or the backtest only), and the
 * versions of what it reads. The same inputs give the same tables, so the step is skipped.
 */
async function fingerprint(
  ctx: ForecastStepContext,
  asset: Asset,
  forecast: Forecast,
  backtestOnly: boolean,
): Promise<string> {
  const { at: _at, ...definition } = forecast;
  const hash = createHash('sha256')
    .update(JSON.stringify(definition))
    .update(backtestOnly ? '\0backtest-only' : '\0all');
  for (const dep of [...asset.deps].sort()) {
    const [kind, name] = dep.split(/:(.*)/s) as [string, string];
    const version =
      kind === 'processed'
        ? (await readManifest<TableManifest>(ctx.ws.store, lakeKeys.processedManifest(name)))
            ?.version
        : await ctx.ws.state.getAssetVersion(dep);
    hash.update(`\0${dep}@${version ?? 'none'}`);
  }
  return hash.digest('hex');
}

/** What the step says it did, in one or two lines. */
function describeRun(forecast: Forecast, result: ForecastRunResult): string {
  const written = Object.entries(result.rows)
    .map(([t, n]) => `${t} ${n}`)
    .join(', ');
  const notes = [
    `${result.series} series (season ${result.seasonPeriods.join(', ') || 'none'}); rows: ${written}`,
    ...(result.fallbacks
      ? [
          `${result.fallbacks} series fell back to a simpler method (too short); see ${forecast.name}_methods.fallback_reason`,
        ]
      : []),
    ...(result.reconciliation
      ? [
          `reconciled ${result.reconciliation.method}${result.reconciliation.note ? ` (${result.reconciliation.note})` : ''}`,
        ]
      : []),
    ...(result.nullKeyRows
      ? [`${result.nullKeyRows} source row(s) with a NULL key were left out`]
      : []),
  ];
  return notes.join('\n');
}

/** Runs a forecast asset: up to date when nothing changed, else the whole forecast step. */
export async function runForecastAsset(
  ctx: ForecastStepContext,
  asset: Asset,
): Promise<ForecastStepOutcome> {
  const { ws } = ctx;
  const forecast = forecastOf(ctx, asset);
  const schema = ws.project.config.models.schema;
  const backtestOnly = Boolean(ctx.forecastBacktestOnly);
  const print = await fingerprint(ctx, asset, forecast, backtestOnly);
  const tables = [
    ...(backtestOnly ? [] : [forecast.name]),
    `${forecast.name}_backtest`,
    `${forecast.name}_methods`,
  ];
  const exist = await Promise.all(tables.map((t) => ctx.engine.describe(schema, t)));
  if (exist.every(Boolean) && (await ws.state.getAssetVersion(asset.key)) === print)
    return { status: 'up_to_date' };
  const refs = new Map<string, string>();
  for (const name of forecast.refs) {
    const node = refNode(ws.models, name)!;
    refs.set(name, ctx.engine.dialect.relation(node.schema, node.alias));
  }
  const label = `forecast ${forecast.name}`;
  const result = await runForecast({
    engine: ctx.engine,
    forecast,
    schema,
    refs,
    backtestOnly,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onProgress: (done, total) => ctx.progress.update({ label, done, total, unit: 'series' }),
  });
  const entries: Awaited<ReturnType<typeof warehouseEntry>>[] = [];
  for (const [table, rows] of Object.entries(result.rows))
    entries.push(
      await warehouseEntry(
        ctx.engine,
        schema,
        table,
        `${ws.project.config.warehouse.path}#${schema}.${table}`,
        rows,
      ),
    );
  ctx.later(
    ws.state.atomically(async (state) => {
      for (const entry of entries) if (entry) await state.upsertCatalogEntry(entry);
      await state.setAssetVersion(asset.key, print);
    }),
  );
  return {
    status: 'succeeded',
    rowsOut: result.rows[backtestOnly ? `${forecast.name}_backtest` : forecast.name] ?? 0,
    message: describeRun(forecast, result),
  };
}
