/**
 * The source seam: a connector lands new data in the raw zone, unchanged, and commits the raw
 * manifest. What happens next (contracts, processed Parquet) is the same for every source.
 */
import type { ProgressReporter } from '../core/index.js';
import type { ObjectStore, RawBatch } from '../lake/index.js';

export interface LandContext {
  store: ObjectStore;
  progress: ProgressReporter;
  /** The day the batch lands, for the raw zone's ingest_date partition. */
  now: Date;
  /** Local folder for files being written before they enter the lake. */
  tmpDir: string;
  /** Cancels a long extraction (shutdown); connectors stop between pages or chunks. */
  signal?: AbortSignal;
}

export interface LandResult {
  /** Batches landed by this call (already committed to the raw manifest). */
  landed: RawBatch[];
  /** Batches seen again and skipped because their bytes were already landed. */
  unchanged: number;
  /** Warnings worth showing (e.g. nothing matched). */
  warnings: string[];
  /** Records the source knows it lost before landing them (a stream's retention removed them). */
  gaps?: LostRange[];
}

/** A range of a stream shard removed by retention before it was landed. */
export interface LostRange {
  stream: string;
  shardId: string;
  /** The last sequence number landed before the gap. */
  after: string;
  /** The oldest sequence number still there: everything between is lost. */
  before: string;
}

export interface Source {
  /** `<source>.<table>`. */
  readonly id: string;
  land(ctx: LandContext): Promise<LandResult>;
}
