/**
 * Replaying one sync dead letter: the refused record alone is sent again, as the run that refused
 * it would have sent it (its operation, fields and hash are in the letter), under the same crash
 * discipline as a batch: in-flight marker, send, then one transaction that records the key's new
 * state and clears the marker. Refused again, the key keeps its old state and the error carries
 * the destination's new message, so the letter stays pending with it.
 */
import { TributaryError, faultPoint } from '../core/index.js';
import type { Engine } from '../engines/types.js';
import type { SyncDestination } from './destination.js';
import type { SyncRecordPayload } from './runner.js';
import { ensureSyncTables, markInflight, recordBatch, syncTables } from './state.js';
import type { SyncDefinition } from './types.js';

export interface ResendInput {
  definition: SyncDefinition;
  warehouse: Engine;
  destination: SyncDestination;
  payload: SyncRecordPayload;
  signal?: AbortSignal;
}

/** Reads a dead letter's payload as a sync record, or says what is wrong with it. */
export function syncRecordPayload(payload: unknown, id: string): SyncRecordPayload {
  const p = payload as Partial<SyncRecordPayload> | null;
  if (
    !p ||
    typeof p.sync !== 'string' ||
    typeof p.operation !== 'string' ||
    typeof p.matchField !== 'string' ||
    typeof p.record?.key !== 'string'
  )
    throw new TributaryError(`dead letter ${id} does not hold a sync record`, {
      code: 'INPUT',
      hint: 'it was written by another version; purge it, the next run of its sync sends the key again',
    });
  return p as SyncRecordPayload;
}

/** Sends the letter's record once; resolves when the destination accepted it (state recorded). */
export async function resendSyncRecord(input: ResendInput): Promise<{ destinationId?: string }> {
  const { definition: def, warehouse, destination, payload } = input;
  const { record, operation } = payload;
  if (payload.destination !== def.destination || payload.object !== def.object)
    throw new TributaryError(
      `the record was refused by ${payload.destination} (${payload.object}); sync ${def.name} now sends to ${def.destination} (${def.object})`,
      {
        code: 'CONFLICT',
        hint: `purge the letter; the next run of ${def.name} sends the key to its current destination`,
      },
    );
  const tables = syncTables(warehouse, def.name);
  await ensureSyncTables(warehouse, tables);
  await markInflight(warehouse, tables, [{ key: record.key, op: operation, hash: payload.hash }]);
  faultPoint(`sync-replay-marked:${def.name}`);
  const [result] = await destination.write({
    object: def.object,
    operation,
    matchField: payload.matchField,
    records: [record],
    ...(input.signal ? { signal: input.signal } : {}),
  });
  if (!result || result.key !== record.key)
    throw new TributaryError(
      `sync ${def.name}: destination ${def.destination} did not answer for ${record.key}`,
      { code: 'INTERNAL', hint: 'this is a bug in the destination adapter' },
    );
  if (result.status === 'rejected') {
    await recordBatch(warehouse, tables, { accepted: [], clear: [record.key] });
    throw new TributaryError(
      `${operation} ${payload.matchField}=${record.key} refused by ${def.destination} again: ${result.code ? `${result.code}: ` : ''}${result.message}`,
      { code: 'INPUT', hint: 'fix the source row (or the destination), then replay it again' },
    );
  }
  // An accepted delete removes the key's state; anything else records the letter's hash.
  await recordBatch(warehouse, tables, {
    accepted: [
      {
        key: record.key,
        op: operation,
        hash: payload.hash,
        ...(result.destinationId !== undefined ? { destinationId: result.destinationId } : {}),
      },
    ],
    clear: [record.key],
  });
  return result.destinationId !== undefined ? { destinationId: result.destinationId } : {};
}
