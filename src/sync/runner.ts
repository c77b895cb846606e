/**
 * Running one sync: diff the source against the sync's state in the warehouse, send what changed
 * in batches, record what the destination accepted, dead-letter what it refused.
 */
import { TributaryError } from '../core/index.js';
import type { SyncOutcome, SyncRunInput } from './types.js';

/** Runs one sync to completion (or until `signal` aborts it) and reports what it did. */
export async function runSync(input: SyncRunInput): Promise<SyncOutcome> {
  throw new TributaryError(`sync ${input.definition.name}: the runner is not written yet`, {
    code: 'INTERNAL',
  });
}
