/**
 * A worker thread of `forecastSeriesParallel` (parallel.ts): forecasts the chunks of series it is
 * sent with the spec it was started with, and answers each chunk with its results (or the error
 * message, which the main thread rethrows).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { describeError } from '../core/errors.js';
import { forecastWithPeriods } from './engine.js';
import type { ForecastSpec, SeriesInput } from './types.js';

export interface ChunkRequest {
  index: number;
  series: SeriesInput[];
}

const spec = (workerData as { spec: ForecastSpec }).spec;

parentPort?.on('message', (request: ChunkRequest) => {
  try {
    const results = request.series.map((s) => forecastWithPeriods(s, spec));
    parentPort!.postMessage({ index: request.index, results });
  } catch (err) {
    parentPort!.postMessage({ index: request.index, error: describeError(err) });
  }
});
