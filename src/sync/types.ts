/**
 * The shapes the sync (reverse ETL) modules agree on: a parsed `syncs/<name>.yml` (its zod
 * schema and TypeScript shape live in src/project/syncs, since project cannot import sync; they
 * are re-exported here), what one run of a sync is given, and what it reports. Kept stable: the project loader, the orchestrator's
 * executor, the CLI and lineage build on them.
 */
import type { ProgressReporter } from '../core/index.js';
import type { Engine } from '../engines/index.js';
import type { DeadLetterStore } from '../notify/index.js';
import type { SyncDefinition } from '../project/index.js';
import type { StateStore } from '../state/index.js';
import type { SyncDestination, SyncRecord, WaitListener } from './destination.js';

export {
  DEFAULT_FAILED_SHARE,
  FIELD_CASTS,
  FIELD_TRANSFORMS,
  SYNC_MODES,
  type FieldCast,
  type FieldTransform,
  type SyncDefinition,
  type SyncFieldMapping,
  type SyncLines,
  type SyncMode,
} from '../project/index.js';

export interface SyncRunInput {
  definition: SyncDefinition;
  /** The warehouse the source lives in; the sync's state goes to its `tributary_sync` schema. */
  warehouse: Engine;
  /** The state database (run history; the dead letters live beside it). */
  state: StateStore;
  destination: SyncDestination;
  /**
   * What the source resolves to in the warehouse: a SELECT statement (compiled SQL, or
   * `SELECT * FROM <relation>` for a ref), or a qualified relation name.
   */
  sourceRelation: string;
  runId: string;
  /** Compute what would be sent (counts and samples) and send nothing, write no state. */
  dryRun: boolean;
  /** Ignore the state: send every source row; mirror deletes every state key not in the source. */
  fullResync: boolean;
  /** The dead-letter store; opened on `state.engine` when not given. */
  deadLetters?: DeadLetterStore;
  signal?: AbortSignal;
  progress?: ProgressReporter;
  /** Rate-limit waits reported by the destination (the runner forwards them). */
  onWait?: WaitListener;
}

/** Up to five records of each operation a dry run would send. */
export interface SyncSamples {
  insert: SyncRecord[];
  update: SyncRecord[];
  delete: SyncRecord[];
}

export interface SyncOutcome {
  /** Records the destination accepted (or, dry run: would be sent), by operation. */
  inserted: number;
  updated: number;
  deleted: number;
  /** Records the destination refused (each is a dead letter). */
  rejected: number;
  /** Source rows whose hash matches the state: nothing sent. */
  unchanged: number;
  /** rejected / records sent (0 when nothing was sent). */
  failedShare: number;
  /** Dry run only. */
  samples?: SyncSamples;
  /** One line for logs and the CLI. */
  message: string;
}
