/**
 * The forecast step of the pipeline: read a forecast's series through the Engine seam, run
 * `forecastSeries` (backtests, choice per series, reconciliation), and write `<name>`,
 * `<name>_backtest` and `<name>_methods` into the models' schema atomically. Works on every
 * engine: the SQL is portable and the differences are the engine's capability flags.
 */
import type { Engine } from '../engines/index.js';
import type { Forecast } from '../project/index.js';
import { forecastSeries } from './engine.js';
import { forecastSeriesParallel, parallelAvailable } from './parallel.js';
import { reconcileForecasts } from './reconcile.js';
import { defaultSeasonPeriods, periodText, periodsAfter } from './periods.js';
import { readSeries, sourceSelect } from './series.js';
import {
  backtestTable,
  forecastTable,
  methodsTable,
  replaceTables,
  type SeriesOutput,
  type TableData,
} from './tables.js';
import type { ForecastProgress, ForecastSpec, SeriesForecast, SeriesInput } from './types.js';

export interface ForecastRunInput {
  /** The warehouse session the step runs on. */
  engine: Engine;
  forecast: Forecast;
  /** The schema the tables are written in (the models' schema). */
  schema: string;
  /** The relation (as SQL, e.g. `"main"."fct_sales"`) of each model the source names. */
  refs: ReadonlyMap<string, string>;
  /** Write the backtest and methods tables only, leaving `<name>` as it is. */
  backtestOnly?: boolean;
  onProgress?: ForecastProgress;
  /** Stops the run between series (a step's timeout, a stopped run). */
  signal?: AbortSignal;
}

export interface ForecastRunResult {
  series: number;
  /** Series whose method is not the one chosen or asked for (too short), with why. */
  fallbacks: number;
  /** Source rows left out because a key column was NULL. */
  nullKeyRows: number;
  seasonPeriods: number[];
  /** Rows written to each table (the tables written, by name). */
  rows: Record<string, number>;
  /** The latest period in the data; forecasts start at the period after it. */
  lastPeriod?: string;
  /** A hierarchy's reconciliation, and why bottom-up was used when MinT was asked. */
  reconciliation?: { method: 'bottom_up' | 'mint_shrink'; note?: string };
}

/**
 * The spec handed to forecastSeries: the file's settings with the season defaults settled. No
 * `frequency`: the step names future periods itself (epoch arithmetic in periods.ts).
 */
export function forecastSpec(forecast: Forecast, longestSeries: number): ForecastSpec {
  const auto = forecast.methods.length === 1 && forecast.methods[0] === 'auto';
  return {
    horizon: forecast.horizon,
    seasonPeriods:
      forecast.seasonPeriods ?? defaultSeasonPeriods(forecast.frequency, longestSeries),
    levels: forecast.levels,
    methods: auto ? 'auto' : forecast.methods,
    backtest: forecast.backtest,
    nonNegative: forecast.nonNegative,
    keepAllMethods: forecast.keepAllMethods,
    ...(forecast.outliers !== undefined ? { outliers: forecast.outliers } : {}),
    ...(forecast.combineTop !== undefined ? { combineTop: forecast.combineTop } : {}),
    selection: forecast.selection,
    ...(forecast.hierarchy ? { hierarchy: forecast.hierarchy, reconcile: forecast.reconcile } : {}),
  };
}

/** How long forecasting may hold the event loop before it lets other work (a server's requests) in. */
const SLICE_MS = 50;

/** Series per worker message; fewer series than this are forecast on the calling thread. */
const PARALLEL_CHUNK = 8;

/**
 * forecastSeries over all series without holding the event loop (the API of a `serve` running the
 * step keeps answering): on worker threads when the compiled worker is there and there are
 * enough series, else a few at a time on this thread, yielding between slices of about 50 ms.
 * An abort stops the run between slices (or once the workers finish). A hierarchy is reconciled
 * once every series is forecast.
 */
async function forecastInSlices(
  inputs: readonly SeriesInput[],
  spec: ForecastSpec,
  onProgress?: ForecastProgress,
  signal?: AbortSignal,
): Promise<SeriesForecast[]> {
  if (parallelAvailable() && inputs.length > PARALLEL_CHUNK) {
    const results = await forecastSeriesParallel(inputs, spec, onProgress, {
      chunk: PARALLEL_CHUNK,
    });
    signal?.throwIfAborted();
    return results;
  }
  const { hierarchy: _hierarchy, ...flat } = spec;
  const out: SeriesForecast[] = [];
  let next = 0;
  while (next < inputs.length) {
    signal?.throwIfAborted();
    const started = performance.now();
    while (next < inputs.length && performance.now() - started < SLICE_MS) {
      out.push(...forecastSeries([inputs[next]!], flat));
      next++;
      onProgress?.(next, inputs.length);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return spec.hierarchy ? reconcileForecasts(out, spec) : out;
}

/** A series' identity: its key values, in a fixed order. */
export function seriesId(keys: Record<string, string>): string {
  return JSON.stringify(Object.entries(keys).sort(([a], [b]) => a.localeCompare(b)));
}

/** Runs one forecast end to end; the previous tables stay as they were if anything fails. */
export async function runForecast(input: ForecastRunInput): Promise<ForecastRunResult> {
  const { engine, forecast } = input;
  const read = await readSeries(engine, forecast, sourceSelect(forecast, input.refs));
  const longest = Math.max(0, ...read.series.map((s) => s.values.length));
  const spec = forecastSpec(forecast, longest);
  const inputs: SeriesInput[] = read.series.map((s) => ({
    keys: s.keys,
    periods: s.periods.map((p) => periodText(p, forecast.frequency)),
    values: s.values,
  }));
  const results = await forecastInSlices(inputs, spec, input.onProgress, input.signal);
  // Keys identify a series: each level has a different set of key columns.
  const byKeys = new Map(read.series.map((s) => [seriesId(s.keys), s]));
  const outputs: SeriesOutput[] = results.map((result) => {
    const s = byKeys.get(seriesId(result.keys))!;
    return {
      ...(s.level !== undefined ? { level: s.level } : {}),
      keys: s.keys,
      first: s.periods[0]!,
      last: s.periods[s.periods.length - 1]!,
      history: s.periods.length,
      future: periodsAfter(s.periods[s.periods.length - 1]!, forecast.horizon, forecast.frequency),
      periods: s.periods,
      result,
    };
  });
  const tables: TableData[] = [
    ...(input.backtestOnly ? [] : [forecastTable(forecast, outputs)]),
    backtestTable(forecast, outputs),
    methodsTable(forecast, outputs),
  ];
  await replaceTables(engine, input.schema, tables);
  return {
    series: outputs.length,
    fallbacks: outputs.filter((o) => o.result.chosen.fallbackReason).length,
    nullKeyRows: read.nullKeyRows,
    seasonPeriods: spec.seasonPeriods,
    rows: Object.fromEntries(tables.map((t) => [t.name, t.rows.length])),
    ...(outputs[0]?.result.reconciliation
      ? { reconciliation: outputs[0].result.reconciliation }
      : {}),
    ...(read.lastPeriod !== undefined
      ? { lastPeriod: periodText(read.lastPeriod, forecast.frequency) }
      : {}),
  };
}
