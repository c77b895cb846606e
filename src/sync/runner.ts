/**
 * Running one sync: diff the source against the sync's state in the warehouse, send what changed
 * in batches, record what the destination accepted, dead-letter what it refused.
 *
 * Crash safety, batch by batch: (1) the batch's keys are written to the in-flight marker and
 * committed; (2) the batch is sent; (3) one warehouse transaction records the accepted keys'
 * hashes and clears the marker. A process killed anywhere leaves either nothing, or a marker
 * whose batch may or may not have reached the destination. The next run resolves such a marker
 * before diffing: its keys are looked up in the destination. An insert found there is recorded as
 * synced, so it is never inserted twice; other operations are idempotent, so a key found there is
 * marked stale (its state row created if missing, so mirror mode can still delete it) and the
 * diff sends it again, and a key not found there loses its state (see recoverInflight).
 */
import { TributaryError, describeError, faultPoint } from '../core/index.js';
import type { Row } from '../engines/types.js';
import { DeadLetterStore } from '../notify/index.js';
import type { RecordResult, SyncRecord, WriteOperation } from './destination.js';
import {
  changesSent,
  dryRunDiff,
  materializeDiff,
  operationFor,
  operationsOf,
  pendingRecord,
  readPending,
  type Change,
  type DiffCounts,
  type DuplicateKeys,
} from './diff.js';
import { compileMapping, type CompiledMapping } from './mapping.js';
import {
  SYNC_SCHEMA,
  ensureSyncTables,
  markInflight,
  readInflight,
  recordBatch,
  stateExists,
  syncTables,
  type AcceptedKey,
  type SyncTables,
} from './state.js';
import type { SyncOutcome, SyncRunInput } from './types.js';

/** Batches in flight at once by default: enough to fill a rate limit despite each batch's commits. */
const DEFAULT_CONCURRENCY = 4;

/** Rows read from the pending diff at a time (split into destination batches in memory). */
const PAGE_ROWS = 10_000;

/** What a sync dead letter holds: enough to send the record again. */
export interface SyncRecordPayload {
  sync: string;
  destination: string;
  object: string;
  operation: WriteOperation;
  matchField: string;
  record: SyncRecord;
  /** The hash recorded in the state once the destination accepts the record. */
  hash: string | null;
  runId: string;
}

interface RunContext {
  input: SyncRunInput;
  mapping: CompiledMapping;
  tables: SyncTables;
  batchSize: number;
  concurrency: number;
  deadLetters?: DeadLetterStore;
  totals: { inserted: number; updated: number; deleted: number; rejected: number };
}

/** The batch size: the sync's, capped by what the destination takes in one write. */
function batchSizeOf(input: SyncRunInput): number {
  const max = input.destination.capabilities.maxBatch;
  const wanted = input.definition.batchSize ?? max;
  return Math.max(1, Math.min(max, wanted));
}

/** Refuses a mode whose operations the destination cannot do. */
function checkOperations(input: SyncRunInput): void {
  const { definition: def, destination } = input;
  const missing = operationsOf(def.mode).filter(
    (op) => !destination.capabilities.operations.includes(op),
  );
  if (missing.length)
    throw new TributaryError(
      `sync ${def.name} (${def.file}): mode ${def.mode} needs ${missing.join(', ')}, which destination ${def.destination} (${destination.type}) cannot do`,
      {
        code: 'CONFIG',
        location: { file: def.file },
        hint: `use one of the modes its operations allow (${destination.capabilities.operations.join(', ')})`,
      },
    );
}

/** Runs one sync to completion (or until `signal` aborts it) and reports what it did. */
export async function runSync(input: SyncRunInput): Promise<SyncOutcome> {
  checkOperations(input);
  const mapping = compileMapping(input.definition, input.warehouse.dialect);
  const tables = syncTables(input.warehouse, input.definition.name);
  const ctx: RunContext = {
    input,
    mapping,
    tables,
    batchSize: batchSizeOf(input),
    concurrency: Math.max(1, Math.floor(input.concurrency ?? DEFAULT_CONCURRENCY)),
    totals: { inserted: 0, updated: 0, deleted: 0, rejected: 0 },
  };
  if (input.dryRun) return dryRun(ctx);
  if (input.onWait) input.destination.setWaitListener?.(input.onWait);
  ctx.deadLetters = input.deadLetters ?? (await DeadLetterStore.open(input.state.engine));
  await ensureSyncTables(input.warehouse, tables);
  const recovered = await recoverInflight(ctx);
  const counts = await withSourceContext(ctx, () =>
    materializeDiff(input.warehouse, tables, mapping, input.sourceRelation, diffOptions(ctx, true)),
  );
  const total = changesSent(input.definition.mode).reduce((n, c) => n + counts[c], 0);
  const progress = { done: 0, total };
  for (const change of changesSent(input.definition.mode)) await sendChange(ctx, change, progress);
  await input.warehouse.dropRelation(SYNC_SCHEMA, tables.names.pending);
  return outcome(ctx, counts.same, recovered, counts.duplicates);
}

/**
 * Sends every pending row of one change, up to `concurrency` batches in flight (the destination
 * paces them to its rate limit; each batch has its own marker rows and its own recording
 * transaction, so any subset of them may be cut short by a crash). On an error or an abort no
 * further batch starts, the ones in flight finish and are recorded, then the error is thrown.
 */
async function sendChange(
  ctx: RunContext,
  change: Change,
  progress: { done: number; total: number },
): Promise<void> {
  const { input, tables, mapping } = ctx;
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const launch = (rows: Row[]) => {
    const task = sendBatch(
      ctx,
      change,
      rows.map((r) => pendingRecord(mapping, r)),
      rows.map((r) => (r.hash === null ? null : String(r.hash))),
    )
      .then(() => {
        progress.done += rows.length;
        input.progress?.update({
          label: `sync ${input.definition.name}`,
          done: progress.done,
          total: progress.total,
          unit: 'records',
        });
      })
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  };
  try {
    let after: string | undefined;
    while (!failure) {
      input.signal?.throwIfAborted();
      const page = await readPending(input.warehouse, tables, change, after, PAGE_ROWS);
      if (!page.length) break;
      after = String(page[page.length - 1]!.key);
      for (let i = 0; i < page.length && !failure; i += ctx.batchSize) {
        while (inFlight.size >= ctx.concurrency) await Promise.race(inFlight);
        if (failure) break;
        input.signal?.throwIfAborted();
        launch(page.slice(i, i + ctx.batchSize));
      }
    }
  } finally {
    await Promise.all(inFlight);
  }
  if (failure) throw failure.error;
}

function diffOptions(ctx: RunContext, stateAvailable: boolean) {
  return {
    mode: ctx.input.definition.mode,
    fullResync: ctx.input.fullResync,
    stateAvailable,
  };
}

/** Runs a query over the source, naming the sync and its casts when the warehouse refuses it. */
async function withSourceContext<T>(ctx: RunContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const def = ctx.input.definition;
    const casts = def.fields.filter((f) => f.cast).map((f) => `${f.destination} (line ${f.line})`);
    throw new TributaryError(
      `sync ${def.name} (${def.file}): reading the source and diffing it failed: ${describeError(err)}`,
      {
        code: 'INPUT',
        location: { file: def.file },
        cause: err,
        hint: casts.length
          ? `a value may not fit its cast: ${casts.join(', ')}`
          : 'check that the source still has the mapped columns',
      },
    );
  }
}

async function dryRun(ctx: RunContext): Promise<SyncOutcome> {
  const { input, tables, mapping } = ctx;
  const available = await stateExists(input.warehouse, tables);
  const { counts, samples } = await withSourceContext(ctx, () =>
    dryRunDiff(input.warehouse, tables, mapping, input.sourceRelation, diffOptions(ctx, available)),
  );
  const t = countsAsTotals(input.definition.mode, counts);
  return {
    ...t,
    rejected: 0,
    unchanged: counts.same,
    failedShare: 0,
    samples,
    message: `dry run of sync ${input.definition.name}: would insert ${t.inserted}, update ${t.updated}, delete ${t.deleted}; ${counts.same} unchanged; nothing sent`,
  };
}

/** Diff counts as outcome counts: update mode sends new keys as updates. */
function countsAsTotals(mode: SyncRunInput['definition']['mode'], counts: DiffCounts) {
  return mode === 'update'
    ? { inserted: 0, updated: counts.new + counts.changed, deleted: counts.gone }
    : { inserted: counts.new, updated: counts.changed, deleted: counts.gone };
}

function outcome(
  ctx: RunContext,
  unchanged: number,
  recovered: number,
  duplicates: DuplicateKeys,
): SyncOutcome {
  const { inserted, updated, deleted, rejected } = ctx.totals;
  const sent = inserted + updated + deleted + rejected;
  const failedShare = sent === 0 ? 0 : rejected / sent;
  const parts = [
    `sync ${ctx.input.definition.name}: inserted ${inserted}, updated ${updated}, deleted ${deleted}, rejected ${rejected}; ${unchanged} unchanged`,
  ];
  if (recovered) parts.push(`resolved ${recovered} records left in flight by an interrupted run`);
  if (rejected)
    parts.push(`rejected records are dead letters (source sync:${ctx.input.definition.name})`);
  if (duplicates.count) {
    const def = ctx.input.definition;
    const more = duplicates.count > duplicates.sample.length ? ', …' : '';
    parts.push(
      `${duplicates.count} keys appear on more than one source row and were not sent (${duplicates.sample.join(', ')}${more}): ${def.match.source} must be unique (${def.file})`,
    );
    ctx.input.progress?.log(parts.at(-1)!);
  }
  return {
    inserted,
    updated,
    deleted,
    rejected,
    unchanged,
    failedShare,
    message: parts.join('; '),
  };
}

/**
 * Resolves a marker left by a run that died between sending and recording. Its keys are looked
 * up in the destination: an insert found there is recorded as synced (never inserted twice); any
 * other key found there gets a stale state (created when missing, so a mirror sync deletes it
 * once it leaves the source) and the diff sends it again; one not found there loses its state
 * (an interrupted delete went through; an upsert never arrived and is new again). When the
 * destination cannot look keys up (a webhook whose receiver does not answer lookups), non-insert
 * keys all get a stale state: sending them again is harmless. Returns how many keys it held.
 */
async function recoverInflight(ctx: RunContext): Promise<number> {
  const { input, tables } = ctx;
  const rows = await readInflight(input.warehouse, tables);
  if (!rows.length) return 0;
  const def = input.definition;
  // A write the dead run started may still be running in the destination: wait for it first.
  await input.destination.settle?.(def.object, input.signal);
  const accepted: AcceptedKey[] = [];
  const inserts = rows.filter((r) => r.op === 'insert');
  const found = await lookUpKeys(
    ctx,
    inserts.map((r) => r.key),
  );
  for (const r of inserts) {
    const id = found.get(r.key);
    if (id !== undefined)
      accepted.push({ key: r.key, op: 'insert', hash: r.hash, destinationId: id });
  }
  const others = [...new Set(rows.filter((r) => r.op !== 'insert').map((r) => r.key))];
  let held: Map<string, string> | undefined;
  try {
    held = await lookUpKeys(ctx, others);
  } catch (err) {
    if (!(err instanceof TributaryError) || err.code !== 'CONFIG') throw err;
    input.progress?.log(`sync ${def.name}: ${err.message}; sending the interrupted keys again`);
  }
  await recordBatch(input.warehouse, tables, {
    accepted,
    resend: held ? others.filter((k) => held.has(k)) : others,
    forget: held ? others.filter((k) => !held.has(k)) : [],
    clear: rows.map((r) => r.key),
  });
  input.progress?.log(
    `sync ${def.name}: resolved ${rows.length} records left in flight by an interrupted run`,
  );
  return rows.length;
}

/** Which of `keys` the destination holds, with their ids, asked a batch at a time. */
async function lookUpKeys(ctx: RunContext, keys: readonly string[]): Promise<Map<string, string>> {
  const { definition: def, destination } = ctx.input;
  const found = new Map<string, string>();
  for (let i = 0; i < keys.length; i += ctx.batchSize) {
    const chunk = keys.slice(i, i + ctx.batchSize);
    for (const [key, id] of await destination.lookup(def.object, def.match.destination, chunk))
      found.set(key, id);
  }
  return found;
}

/** Sends one batch of one change and records the outcome (see the file comment for the order). */
async function sendBatch(
  ctx: RunContext,
  change: Change,
  batch: SyncRecord[],
  hashes: (string | null)[],
): Promise<void> {
  const { input, tables } = ctx;
  const def = input.definition;
  const operation = operationFor(def.mode, change);
  const hashOf = new Map(batch.map((r, i) => [r.key, hashes[i] ?? null]));
  let records = batch;
  const accepted: AcceptedKey[] = [];
  if (operation === 'insert' && input.fullResync) {
    // A full resync in insert mode has no state to trust: keys the destination has are recorded
    // as synced instead of being inserted a second time.
    const found = await input.destination.lookup(
      def.object,
      def.match.destination,
      batch.map((r) => r.key),
    );
    for (const [key, id] of found)
      if (hashOf.has(key))
        accepted.push({ key, op: operation, hash: hashOf.get(key)!, destinationId: id });
    records = batch.filter((r) => !found.has(r.key));
  }
  const keys = records.map((r) => r.key);
  await markInflight(
    input.warehouse,
    tables,
    records.map((r) => ({ key: r.key, op: operation, hash: hashOf.get(r.key) ?? null })),
  );
  faultPoint(`sync-marked:${def.name}`);
  const results = records.length
    ? await input.destination.write({
        object: def.object,
        operation,
        matchField: def.match.destination,
        records,
        ...(input.signal ? { signal: input.signal } : {}),
      })
    : [];
  faultPoint(`sync-sent:${def.name}`);
  checkResults(ctx, records, results);
  const rejected: { record: SyncRecord; result: Extract<RecordResult, { status: 'rejected' }> }[] =
    [];
  results.forEach((result, i) => {
    if (result.status === 'ok')
      accepted.push({
        key: result.key,
        op: operation,
        hash: hashOf.get(result.key) ?? null,
        ...(result.destinationId !== undefined ? { destinationId: result.destinationId } : {}),
      });
    else rejected.push({ record: records[i]!, result });
  });
  await recordBatch(input.warehouse, tables, { accepted, clear: keys });
  faultPoint(`sync-recorded:${def.name}`);
  count(ctx, change, accepted.length, rejected.length);
  for (const { record, result } of rejected)
    await deadLetter(ctx, operation, record, hashOf.get(record.key) ?? null, result);
}

function count(ctx: RunContext, change: Change, ok: number, rejected: number): void {
  const t = ctx.totals;
  if (change === 'gone') t.deleted += ok;
  else if (change === 'changed' || ctx.input.definition.mode === 'update') t.updated += ok;
  else t.inserted += ok;
  t.rejected += rejected;
}

/** The destination must answer one result per record, in order (the seam's contract). */
function checkResults(ctx: RunContext, records: SyncRecord[], results: RecordResult[]): void {
  const bad =
    results.length !== records.length || results.some((r, i) => r.key !== records[i]!.key);
  if (bad)
    throw new TributaryError(
      `sync ${ctx.input.definition.name}: destination ${ctx.input.definition.destination} answered ${results.length} results for ${records.length} records, not one per record in order`,
      { code: 'INTERNAL', hint: 'this is a bug in the destination adapter' },
    );
}

async function deadLetter(
  ctx: RunContext,
  operation: WriteOperation,
  record: SyncRecord,
  hash: string | null,
  result: Extract<RecordResult, { status: 'rejected' }>,
): Promise<void> {
  const def = ctx.input.definition;
  const payload: SyncRecordPayload = {
    sync: def.name,
    destination: def.destination,
    object: def.object,
    operation,
    matchField: def.match.destination,
    record,
    hash,
    runId: ctx.input.runId,
  };
  await ctx.deadLetters!.add({
    kind: 'record',
    source: `sync:${def.name}`,
    payload,
    error: `${operation} ${def.match.destination}=${record.key} refused by ${def.destination}: ${result.code ? `${result.code}: ` : ''}${result.message}`,
    attempts: 1,
    // One entry per sync and key: a record refused every run stays one entry (attempts grow).
    dedupeKey: `sync:${def.name}:${record.key}`,
  });
}
