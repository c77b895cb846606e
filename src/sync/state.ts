/**
 * A sync's state, kept in the warehouse beside the data it describes (as Census and Hightouch
 * keep theirs), in schema `tributary_sync`:
 * - `<sync>__state(key, hash, destination_id, synced_at)`: what the destination holds, by match
 *   key: the hash of the record last accepted. The diff is one query between the source and this.
 * - `<sync>__inflight(key, op, hash)`: the batch being sent. Written before the send and cleared
 *   in the same transaction that records the accepted keys, so a leftover row means the process
 *   died between sending and recording; the next run resolves it before diffing.
 * - `<sync>__pending`: the current run's diff (scratch; rebuilt by every run).
 * Losing the warehouse loses the state: the next run is then a full resync.
 */
import type { Engine } from '../engines/types.js';
import type { WriteOperation } from './destination.js';

export const SYNC_SCHEMA = 'tributary_sync';

export interface SyncTables {
  state: string;
  inflight: string;
  pending: string;
  /** Unquoted names inside SYNC_SCHEMA. */
  names: { state: string; inflight: string; pending: string };
}

/** The qualified, quoted names of a sync's tables in this warehouse. */
export function syncTables(engine: Engine, sync: string): SyncTables {
  const names = {
    state: `${sync}__state`,
    inflight: `${sync}__inflight`,
    pending: `${sync}__pending`,
  };
  const rel = (n: string) => engine.dialect.relation(SYNC_SCHEMA, n);
  return {
    state: rel(names.state),
    inflight: rel(names.inflight),
    pending: rel(names.pending),
    names,
  };
}

/** Creates the schema and the state and in-flight tables when missing. */
export async function ensureSyncTables(engine: Engine, tables: SyncTables): Promise<void> {
  await engine.ensureSchema(SYNC_SCHEMA);
  const text = engine.dialect.typeName('string');
  await engine.exec(
    `CREATE TABLE IF NOT EXISTS ${tables.state} (key ${text} PRIMARY KEY, hash ${text} NOT NULL,
       destination_id ${text}, synced_at ${engine.dialect.typeName('timestamp')} NOT NULL)`,
  );
  await engine.exec(
    `CREATE TABLE IF NOT EXISTS ${tables.inflight} (key ${text} NOT NULL, op ${text} NOT NULL,
       hash ${text})`,
  );
}

/** Whether the state table exists (a dry run of a sync never run reads no state). */
export async function stateExists(engine: Engine, tables: SyncTables): Promise<boolean> {
  return (await engine.describe(SYNC_SCHEMA, tables.names.state)) !== undefined;
}

export interface InflightRow {
  key: string;
  op: WriteOperation;
  hash: string | null;
}

/** The in-flight marker left by a run that died mid-batch (empty after a clean run). */
export async function readInflight(engine: Engine, tables: SyncTables): Promise<InflightRow[]> {
  const { rows } = await engine.query(`SELECT key, op, hash FROM ${tables.inflight} ORDER BY key`);
  return rows.map((r) => ({
    key: String(r.key),
    op: String(r.op) as WriteOperation,
    hash: r.hash === null ? null : String(r.hash),
  }));
}

/** Writes the marker for a batch about to be sent (committed before the send). */
export async function markInflight(
  engine: Engine,
  tables: SyncTables,
  rows: readonly InflightRow[],
): Promise<void> {
  if (!rows.length) return;
  await engine.insertRows(
    SYNC_SCHEMA,
    tables.names.inflight,
    ['key', 'op', 'hash'],
    rows.map((r) => [r.key, r.op, r.hash]),
  );
}

/** A key the destination accepted: its new hash (upsert/update/insert) or gone (delete). */
export interface AcceptedKey {
  key: string;
  op: WriteOperation;
  hash: string | null;
  destinationId?: string;
}

/** Rows of `$n` placeholders for a multi-row VALUES list. */
function placeholders(rows: number, width: number, offset = 0): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    for (let c = 1; c <= width; c++) cells.push(`$${offset + r * width + c}`);
    out.push(`(${cells.join(', ')})`);
  }
  return out.join(', ');
}

/**
 * In one warehouse transaction: records the accepted keys (their hash and destination id, or
 * removes deleted ones), marks `resend` keys' state as stale so the next diff sends them again
 * (creating their state row when missing: the destination may hold such a key now, and a mirror
 * sync must be able to delete it), removes `forget` keys' state (the destination does not hold
 * them), and clears the in-flight marker of `clear`, so the state and the marker never disagree
 * about a batch. Rejected keys keep their old state (tried again next run).
 */
export async function recordBatch(
  engine: Engine,
  tables: SyncTables,
  change: {
    accepted: readonly AcceptedKey[];
    resend?: readonly string[];
    forget?: readonly string[];
    clear: readonly string[];
  },
): Promise<void> {
  const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
  const written = change.accepted.filter((a) => a.op !== 'delete');
  const deleted = change.accepted.filter((a) => a.op === 'delete').map((a) => a.key);
  const inList = (n: number, offset = 0) =>
    Array.from({ length: n }, (_, i) => `$${offset + i + 1}`).join(', ');
  await engine.transaction(async (tx) => {
    if (written.length) {
      const params: unknown[] = [];
      for (const a of written) params.push(a.key, a.hash, a.destinationId ?? null, now);
      await tx.query(
        `INSERT INTO ${tables.state} (key, hash, destination_id, synced_at)
         SELECT v.k, v.h, v.d, CAST(v.t AS ${engine.dialect.typeName('timestamp')})
           FROM (VALUES ${placeholders(written.length, 4)}) AS v(k, h, d, t)
         ON CONFLICT (key) DO UPDATE SET hash = excluded.hash,
           destination_id = COALESCE(excluded.destination_id, ${tables.state}.destination_id),
           synced_at = excluded.synced_at`,
        params,
      );
    }
    if (deleted.length)
      await tx.query(
        `DELETE FROM ${tables.state} WHERE key IN (${inList(deleted.length)})`,
        deleted,
      );
    if (change.resend?.length)
      await tx.query(
        `INSERT INTO ${tables.state} (key, hash, destination_id, synced_at)
         SELECT v.k, $1, NULL, CAST($2 AS ${engine.dialect.typeName('timestamp')})
           FROM (VALUES ${placeholders(change.resend.length, 1, 2)}) AS v(k)
         ON CONFLICT (key) DO UPDATE SET hash = excluded.hash`,
        [STALE_HASH, now, ...change.resend],
      );
    if (change.forget?.length)
      await tx.query(
        `DELETE FROM ${tables.state} WHERE key IN (${inList(change.forget.length)})`,
        change.forget,
      );
    if (change.clear.length)
      await tx.query(
        `DELETE FROM ${tables.inflight} WHERE key IN (${inList(change.clear.length)})`,
        change.clear,
      );
  });
}

/** A hash no record has: the state of a key whose last send is unknown, so it is sent again. */
export const STALE_HASH = 'stale';

/** Drops the sync's state, marker and scratch tables (the sync was removed, or a test). */
export async function dropSyncTables(engine: Engine, tables: SyncTables): Promise<void> {
  for (const name of Object.values(tables.names)) await engine.dropRelation(SYNC_SCHEMA, name);
}
