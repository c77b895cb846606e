/**
 * `forecastSeriesParallel`: the same work as `forecastSeries`, spread over worker threads (series
 * are independent, so chunks of them go to whichever thread is free; reconciliation, which needs
 * every series, runs on the calling thread at the end). The result is identical to
 * `forecastSeries`'s, in the input order. Runs on the calling thread when one worker is asked
 * for, when the input is small, or when the compiled worker file is not there (running from
 * TypeScript sources, as the unit tests do).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { TributaryError } from '../core/errors.js';
import { checkForecastInput, forecastSeries } from './engine.js';
import type { ChunkRequest } from './parallel-worker.js';
import { reconcileForecasts } from './reconcile.js';
import type { ForecastProgress, ForecastSpec, SeriesForecast, SeriesInput } from './types.js';

export interface ParallelOptions {
  /** Worker threads (default: the machine's parallelism, at most 2). */
  workers?: number;
  /** Series per message (default 8): small enough to balance, large enough to amortize. */
  chunk?: number;
}

const WORKER_URL = new URL('./parallel-worker.js', import.meta.url);

/** Whether the compiled worker can be started (false when running from .ts sources). */
export function parallelAvailable(): boolean {
  return existsSync(fileURLToPath(WORKER_URL));
}

interface ChunkReply {
  index: number;
  results?: SeriesForecast[];
  error?: string;
}

/** Runs chunks on `count` workers, pulling the next chunk when one answers. */
function runChunks(
  chunks: SeriesInput[][],
  spec: ForecastSpec,
  count: number,
  onChunk: (index: number, results: SeriesForecast[]) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let finished = 0;
    let failed = false;
    const workers: Worker[] = [];
    const stopAll = (): void => {
      for (const w of workers) void w.terminate();
    };
    const feed = (w: Worker): void => {
      if (next < chunks.length) {
        const request: ChunkRequest = { index: next, series: chunks[next]! };
        next++;
        w.postMessage(request);
      }
    };
    for (let i = 0; i < count; i++) {
      const w = new Worker(WORKER_URL, { workerData: { spec } });
      workers.push(w);
      w.on('message', (reply: ChunkReply) => {
        if (failed) return;
        if (reply.error !== undefined) {
          failed = true;
          stopAll();
          reject(new TributaryError(reply.error));
          return;
        }
        onChunk(reply.index, reply.results!);
        finished++;
        if (finished === chunks.length) {
          stopAll();
          resolve();
        } else feed(w);
      });
      w.on('error', (err) => {
        if (failed) return;
        failed = true;
        stopAll();
        reject(err);
      });
      feed(w);
    }
  });
}

/** See the module comment. `onProgress(done, total)` is called as chunks come back. */
export async function forecastSeriesParallel(
  series: readonly SeriesInput[],
  spec: ForecastSpec,
  onProgress?: ForecastProgress,
  options: ParallelOptions = {},
): Promise<SeriesForecast[]> {
  const workers = options.workers ?? Math.min(2, availableParallelism());
  const chunk = options.chunk ?? 8;
  if (workers <= 1 || series.length <= chunk || !parallelAvailable()) {
    return forecastSeries(series, spec, onProgress);
  }
  checkForecastInput(series, spec);
  const chunks: SeriesInput[][] = [];
  for (let i = 0; i < series.length; i += chunk) chunks.push(series.slice(i, i + chunk));
  const out: SeriesForecast[] = new Array<SeriesForecast>(series.length);
  let done = 0;
  await runChunks(chunks, spec, Math.min(workers, chunks.length), (index, results) => {
    results.forEach((r, j) => (out[index * chunk + j] = r));
    done += results.length;
    onProgress?.(done, series.length);
  });
  return spec.hierarchy ? reconcileForecasts(out, spec) : out;
}
