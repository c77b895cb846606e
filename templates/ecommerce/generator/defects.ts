// Defect bookkeeping for the sample data: which defect kinds each table gets, where they go,
// the quarantine reason each maps to, and tallies of the expected processing outcome.

import type { Rng } from './prng.js';

/** Reason codes a processing engine records for a quarantined row (first failure only). */
export type Reason =
  'required' | 'type' | 'range' | 'allowed_values' | 'foreign_key' | 'duplicate_key';

/** Defect kinds per table, with the reason code a row carrying that defect fails with. */
export const DEFECT_KINDS = {
  customers: { missing_email: 'required', duplicate_record: 'duplicate_key' },
  products: { unparseable_price: 'type' },
  stores: {},
  orders: {
    missing_customer_id: 'required',
    unparseable_date: 'type',
    unknown_customer: 'foreign_key',
    duplicate_id: 'duplicate_key',
    invalid_status: 'allowed_values',
  },
  order_lines: {
    unparseable_quantity: 'type',
    unparseable_price: 'type',
    negative_quantity: 'range',
    unknown_product: 'foreign_key',
    missing_product_id: 'required',
  },
  payments: { missing_order_id: 'required' },
  clickstream: { invalid_event_type: 'allowed_values', unparseable_timestamp: 'type' },
} as const satisfies Record<string, Record<string, Reason>>;

export type TableName = keyof typeof DEFECT_KINDS;

/** Share of a table's rows that get each defect kind. */
export const DEFECT_RATE = 0.002;

/** How many rows of an `n`-row table get one defect kind (at least one). */
export function defectCount(n: number): number {
  return Math.max(1, Math.round(n * DEFECT_RATE));
}

/**
 * Marks `counts[k]` distinct rows of `n` with code k + 1 (0 = clean), drawing positions from
 * `rng`; `eligible` can exclude rows. Every marked row carries exactly one defect.
 */
export function placeDefects(
  n: number,
  counts: readonly number[],
  rng: Rng,
  eligible: (row: number) => boolean = () => true,
): Uint8Array {
  const marks = new Uint8Array(n);
  const wanted = counts.reduce((a, b) => a + b, 0);
  if (wanted > n) throw new RangeError(`cannot place ${wanted} defects in ${n} rows`);
  counts.forEach((count, k) => {
    for (let placed = 0, tries = 0; placed < count; tries++) {
      if (tries > 100 * n + 1000) throw new RangeError(`no room for defect kind ${k + 1}`);
      const row = rng.int(n);
      if (marks[row] !== 0 || !eligible(row)) continue;
      marks[row] = k + 1;
      placed++;
    }
  });
  return marks;
}

/** Expected processing outcome of one table. */
export class Tally {
  records = 0;
  readonly quarantined: Partial<Record<Reason, number>> = {};

  /** Counts one row that either passes (`null`) or fails with `reason`. */
  add(reason: Reason | null): void {
    this.records++;
    if (reason !== null) this.quarantined[reason] = (this.quarantined[reason] ?? 0) + 1;
  }

  /** Rows that pass. */
  get valid(): number {
    let bad = 0;
    for (const n of Object.values(this.quarantined)) bad += n;
    return this.records - bad;
  }
}
