/**
 * The PutRecords answer written as bytes (answerBytes) is exactly JSON.stringify of the answer
 * object the general path sends, and is not used when a record failed.
 */
import { describe, expect, it } from 'vitest';
import { answerBytes } from '../../src/stream/collector/kinesis.js';
import type { AppendOutcome } from '../../src/stream/log.js';

const taken = (i: number): AppendOutcome => ({
  ok: true,
  shardId: `shardId-${String(i % 4).padStart(12, '0')}`,
  sequenceNumber: `1764806400000${String(i + 1).padStart(20, '0')}`,
});
const asObject = (outcomes: AppendOutcome[]) =>
  JSON.stringify({
    FailedRecordCount: 0,
    Records: outcomes.map((o) =>
      o.ok ? { SequenceNumber: o.sequenceNumber, ShardId: o.shardId } : {},
    ),
    EncryptionType: 'NONE',
  });

describe('answerBytes', () => {
  it('writes the same bytes as JSON.stringify of the answer object', () => {
    for (const n of [1, 2, 7, 500]) {
      const outcomes = Array.from({ length: n }, (_, i) => taken(i));
      const bytes = answerBytes(outcomes)!;
      expect(bytes.toString('utf8')).toBe(asObject(outcomes));
      expect(bytes.length).toBe(Buffer.byteLength(asObject(outcomes)));
      expect(JSON.parse(bytes.toString('utf8'))).toEqual(JSON.parse(asObject(outcomes)));
    }
  });

  it('leaves an answer with a failed record, or a value JSON would escape, to the object', () => {
    const failed: AppendOutcome = { ok: false, code: 'UNAVAILABLE', message: 'disk full' };
    expect(answerBytes([taken(0), failed, taken(2)])).toBeUndefined();
    for (const odd of ['a"b', 'a\\b', 'a\nb', 'é', '\u007f'])
      expect(
        answerBytes([taken(0), { ok: true, shardId: odd, sequenceNumber: '1' }]),
      ).toBeUndefined();
  });
});
