/**
 * The shapes the sync (reverse ETL) modules agree on: a parsed `syncs/<name>.yml` (sy-project
 * owns its zod schema in src/project; this is the TypeScript shape it produces), what one run of
 * a sync is given, and what it reports. Kept stable: the project loader, the orchestrator's
 * executor, the CLI and lineage build on them.
 */
import type { ProgressReporter } from '../core/index.js';
import type { Engine } from '../engines/index.js';
import type { DeadLetterStore } from '../notify/index.js';
import type { StateStore } from '../state/index.js';
import type { SyncDestination, SyncRecord, WaitListener } from './destination.js';

/**
 * - `upsert`: new and changed keys are upserted.
 * - `update`: new and changed keys are sent as updates; the destination rejects unknown ones per
 *   record (they go to dead letters).
 * - `insert`: only keys never synced are sent, as inserts.
 * - `mirror`: upsert, and delete keys that left the source.
 */
export type SyncMode = 'upsert' | 'update' | 'insert' | 'mirror';

export const SYNC_MODES: readonly SyncMode[] = ['upsert', 'update', 'insert', 'mirror'];

/** `cast:` targets. `date` sends an ISO date (YYYY-MM-DD) as text. */
export type FieldCast = 'string' | 'number' | 'boolean' | 'date';

export const FIELD_CASTS: readonly FieldCast[] = ['string', 'number', 'boolean', 'date'];

/** Text transforms, applied after the cast, in the order listed. */
export type FieldTransform = 'lower' | 'upper' | 'trim';

export const FIELD_TRANSFORMS: readonly FieldTransform[] = ['lower', 'upper', 'trim'];

/** One mapped destination field: from a source column, or a constant. */
export interface SyncFieldMapping {
  /** The source column (absent when `constant` is given). */
  source?: string;
  /** The destination field it fills. */
  destination: string;
  cast?: FieldCast;
  /** One transform or several, applied in order. */
  transform?: FieldTransform | readonly FieldTransform[];
  /** A fixed value for every record (instead of `source`). */
  constant?: string | number | boolean | null;
  /** Line in the sync file, for errors. */
  line: number;
}

export interface SyncDefinition {
  /** The sync's name (the file name without `.yml`): `[a-z][a-z0-9_]*`. */
  name: string;
  /** The file it was read from, relative to the project root. */
  file: string;
  /** What the sync reads: a model (`ref`) or a SELECT (`sql`). Exactly one is set. */
  source: { ref?: string; sql?: string };
  /** The destination's name under `destinations:` in tributary.yml. */
  destination: string;
  /** The destination's object: `contacts`, `Contact`, a table name. */
  object: string;
  mode: SyncMode;
  /** The match key: source column -> destination identifier field (e.g. email -> email). */
  match: { source: string; destination: string };
  fields: SyncFieldMapping[];
  /** Most records a batch; the destination's `maxBatch` caps it. */
  batchSize?: number;
  /** Alert when the rejected share of a run's records passes `failedShare` (default 0.1). */
  alert: { failedShare?: number };
}

/** The default of `alert.failed_share`. */
export const DEFAULT_FAILED_SHARE = 0.1;

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
