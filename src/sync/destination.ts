/**
 * The sync destination seam (reverse ETL). A destination is where warehouse rows go: a
 * HubSpot-shaped CRM, a Salesforce-shaped Bulk API 2.0, a signed webhook, a PostgreSQL table.
 * The sync runner (diffing, state, dead letters, retries of whole requests) talks to destinations
 * only through this interface; one conformance suite (test/sync/destination-conformance.test.ts)
 * runs every adapter against it, HTTP ones against local stand-ins of the real APIs.
 *
 * Contract, for every destination:
 * - `describe(object)` returns the object's fields as the destination's schema API reports them,
 *   so a sync mapping a field that does not exist fails at compile time, naming the line.
 * - `write(batch)` sends at most `capabilities.maxBatch` records of one operation and returns one
 *   `RecordResult` per input record, in input order. A record the destination refuses (validation
 *   error, missing object on update, duplicate on insert) is `rejected` with the destination's own
 *   message: it never fails the batch's other records. `write` throws only when the whole request
 *   failed and nothing can be known per record (network down, 5xx after retries, auth refused);
 *   the runner then retries or fails the step, and a retry must be harmless (see `lookup`).
 * - Rate limits are the adapter's job: it paces requests to the destination's documented limit,
 *   honours 429 + Retry-After, and reports waits through `onWait` so long runs show progress.
 * - `lookup(object, matchField, keys)` says which match keys already exist and their destination
 *   ids. The runner calls it after a crash for batches it sent but did not record, so `insert`
 *   mode never creates a record twice. `delete` of a key that is already gone is `ok`.
 * - `settle(object)` (optional) waits until writes that may still be running in the destination
 *   after their client died are finished (Salesforce's ingest jobs run on after the upload is
 *   closed), so the lookups of a crash recovery see what those writes made. A destination whose
 *   writes are done when their request is answered needs none.
 * - An adapter holds no state between calls other than connections and its rate-limit clock;
 *   `close()` releases them.
 */
export type WriteOperation = 'upsert' | 'update' | 'insert' | 'delete';

export interface SyncRecord {
  /** The match key's value (e.g. the email), as text. */
  key: string;
  /** Destination field name -> value, after mapping and transforms. Empty for deletes. */
  fields: Record<string, string | number | boolean | null>;
}

export interface WriteBatch {
  object: string;
  operation: WriteOperation;
  /** The destination field that identifies a record (e.g. `email`). */
  matchField: string;
  records: readonly SyncRecord[];
  signal?: AbortSignal;
}

export type RecordResult =
  | { status: 'ok'; key: string; destinationId?: string }
  | { status: 'rejected'; key: string; message: string; code?: string };

export interface DestinationField {
  name: string;
  /** The destination's own type name (string, number, date, enumeration, bool…). */
  type: string;
  /** Usable as a match key (unique identifier property). */
  unique: boolean;
  readOnly: boolean;
}

export interface DestinationCapabilities {
  /** Most records one `write` accepts (HubSpot batch: 100). */
  maxBatch: number;
  /** Operations the destination can do; a sync asking for another is a compile error. */
  operations: readonly WriteOperation[];
  /** Most requests per second the documented limit allows, for pacing and the benchmark. */
  maxRequestsPerSecond: number;
  /**
   * (Optional addition.) True when the destination has no schema API and takes any field (a
   * webhook without a declared field list): `describe` then returns [] and a compile-time check
   * of destination fields has nothing to check against.
   */
  openSchema?: boolean;
}

export interface SyncDestination {
  readonly type: string;
  readonly capabilities: DestinationCapabilities;
  describe(object: string): Promise<DestinationField[]>;
  write(batch: WriteBatch): Promise<RecordResult[]>;
  lookup(object: string, matchField: string, keys: readonly string[]): Promise<Map<string, string>>;
  /** (Optional addition.) See the contract above: called before a crash recovery's lookups. */
  settle?(object: string, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
  /**
   * (Optional addition.) Where rate-limit and Retry-After waits are reported from now on; HTTP
   * adapters have it, so the runner can hand over its `onWait` after opening the destination.
   */
  setWaitListener?(listener: WaitListener | undefined): void;
}

/** Called when the adapter waits for its rate limit or a Retry-After (ms to wait, why). */
export type WaitListener = (ms: number, reason: string) => void;
