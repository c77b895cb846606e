/**
 * The main thread's ledger of shared staging memory (flush/shared-staging.ts): each buffer goes
 * to the flusher thread once, groups after it by id; memory comes back by id once; a forgotten
 * buffer is sent again; a thread that ended holds nothing and its memory is free again.
 */
import { describe, expect, it } from 'vitest';
import { SharedStagingLedger } from '../../src/stream/flush/shared-staging.js';

const shared = (bytes: number) =>
  Buffer.from(new SharedArrayBuffer(bytes)) as Buffer & {
    buffer: SharedArrayBuffer;
  };

describe('shared staging memory between the collector and its flusher thread', () => {
  it('sends each buffer once, then groups by id and range', () => {
    const ledger = new SharedStagingLedger();
    const a = shared(1024);
    const first = ledger.lend(a.subarray(0, 100) as typeof a);
    expect(first).toMatchObject({ offset: 0, length: 100 });
    expect(first.memory).toBe(a.buffer);
    expect(ledger.takeBack(first.id)).toBe(a.buffer);
    const again = ledger.lend(a.subarray(0, 300) as typeof a);
    expect(again).toEqual({ id: first.id, offset: 0, length: 300 });
    const b = shared(2048);
    const other = ledger.lend(b.subarray(16, 48) as typeof b);
    expect(other.id).not.toBe(first.id);
    expect(other).toMatchObject({ offset: 16, length: 32, memory: b.buffer });
  });

  it('gives memory back once, sends forgotten memory again, and frees what an ended thread held', () => {
    const ledger = new SharedStagingLedger();
    const a = shared(1024);
    const b = shared(1024);
    const lentA = ledger.lend(a);
    const lentB = ledger.lend(b);
    expect(ledger.takeBack(lentA.id)).toBe(a.buffer);
    expect(ledger.takeBack(lentA.id)).toBeUndefined(); // not lent twice
    ledger.forget(lentA.id);
    expect(ledger.lend(a).memory).toBe(a.buffer); // the thread dropped it: sent again
    // The thread ends holding a (lent again) and b: both are free, and every buffer is sent anew.
    expect(ledger.reset().sort((x, y) => x.byteLength - y.byteLength)).toHaveLength(2);
    expect(ledger.takeBack(lentB.id)).toBeUndefined();
    expect(ledger.lend(b).memory).toBe(b.buffer);
  });
});
