/**
 * PutRecords through the columns path (put-records-scan.ts → LocalSegmentLog.appendColumns →
 * put-records-columns.ts) answers what the general path answers: the same JSON bytes, the shard
 * Kinesis would choose, sequence numbers the log reads back with the records' keys and data; a
 * shard whose write fails (a full disk, through the log's real file operations) fails exactly its
 * records as ProvisionedThroughputExceededException; a record the log refuses is InternalFailure.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { putColumns } from '../../src/stream/collector/put-records-columns.js';
import { scanPutRecords } from '../../src/stream/collector/put-records-scan.js';
import {
  LocalSegmentLog,
  hashKeyOf,
  nodeSegmentIo,
  shardForHashKey,
  type SegmentIo,
} from '../../src/stream/index.js';
import { tempDir } from '../helpers.js';

const DAY = 24 * 3_600_000;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function openLog(shards: number, io?: SegmentIo): Promise<LocalSegmentLog> {
  const dir = tempDir('trib-columns-');
  const log = await LocalSegmentLog.open(dir, { retentionIntervalMs: 0, ...(io ? { io } : {}) });
  cleanups.push(async () => {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await log.createStream('clicks', { shards, maxAgeMs: DAY });
  return log;
}

interface Entry {
  key: string;
  data: Buffer;
}

function entries(n: number): Entry[] {
  return Array.from({ length: n }, (_, i) => ({
    // Short ASCII keys, keys past MD5's one block, non-ASCII keys.
    key: i % 5 === 4 ? `клиент-${i}` : i % 7 === 6 ? `k${'x'.repeat(60)}${i}` : `user-${i % 11}`,
    data: Buffer.from(JSON.stringify({ event: 'view', i, pad: 'p'.repeat(i % 300) })),
  }));
}

function bodyOf(records: Entry[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      StreamName: 'clicks',
      Records: records.map((r) => ({ PartitionKey: r.key, Data: r.data.toString('base64') })),
    }),
  );
}

/** The answer as the plugin sends it: bytes, or an object it would JSON-encode. */
async function put(log: LocalSegmentLog, records: Entry[]) {
  const scanned = scanPutRecords(bodyOf(records), 500);
  expect(scanned).toBeDefined();
  const answer = await putColumns(
    (stream, columns) => log.appendColumns(stream, columns),
    'clicks',
    scanned!,
    (bytes) => Buffer.alloc(bytes),
  );
  return answer;
}

interface Answer {
  FailedRecordCount: number;
  Records: {
    SequenceNumber?: string;
    ShardId?: string;
    ErrorCode?: string;
    ErrorMessage?: string;
  }[];
  EncryptionType: string;
}

describe('PutRecords through appendColumns', () => {
  it('answers the bytes JSON.stringify gives, with the shards and sequence numbers the log reads back', async () => {
    const log = await openLog(3);
    const records = entries(120);
    const answer = await put(log, records);
    expect(Buffer.isBuffer(answer)).toBe(true);
    const text = (answer as Buffer).toString();
    const parsed = JSON.parse(text) as Answer;
    expect(text).toBe(JSON.stringify(parsed));
    expect(Object.keys(parsed)).toEqual(['FailedRecordCount', 'Records', 'EncryptionType']);
    expect(parsed.FailedRecordCount).toBe(0);
    expect(parsed.Records).toHaveLength(records.length);
    for (const [i, entry] of parsed.Records.entries()) {
      expect(Object.keys(entry)).toEqual(['SequenceNumber', 'ShardId']);
      const shard = shardForHashKey(hashKeyOf(records[i]!.key), 3);
      expect(entry.ShardId).toBe(`shardId-${String(shard).padStart(12, '0')}`);
      const read = await log.read('clicks', entry.ShardId!, {
        type: 'at',
        sequenceNumber: entry.SequenceNumber!,
      });
      expect(read.records[0]).toMatchObject({
        sequenceNumber: entry.SequenceNumber,
        partitionKey: records[i]!.key,
      });
      expect(read.records[0]!.data.equals(records[i]!.data)).toBe(true);
    }
    // Numbers keep increasing across calls, as append's do.
    const more = JSON.parse((await put(log, records.slice(0, 1))).toString()) as Answer;
    const sameShard = parsed.Records.filter((r) => r.ShardId === more.Records[0]!.ShardId);
    expect(BigInt(more.Records[0]!.SequenceNumber!)).toBeGreaterThan(
      BigInt(sameShard.at(-1)!.SequenceNumber!),
    );
  });

  it("fails exactly the records of a shard whose write fails, as Kinesis's throughput error", async () => {
    // The first write of the first group fails half way (ENOSPC): one shard of the two.
    let writes = 0;
    const io: SegmentIo = {
      ...nodeSegmentIo,
      async write(fd, bytes, position) {
        if (++writes !== 1) return nodeSegmentIo.write(fd, bytes, position);
        await nodeSegmentIo.write(fd, bytes.subarray(0, bytes.length >> 1), position);
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      },
    };
    const log = await openLog(2, io);
    const records = entries(40);
    const answer = (await put(log, records)) as Answer;
    expect(Buffer.isBuffer(answer)).toBe(false);
    const failedShards = new Set<number>();
    records.forEach((r, i) => {
      const shard = shardForHashKey(hashKeyOf(r.key), 2);
      const entry = answer.Records[i]!;
      if (entry.ErrorCode) failedShards.add(shard);
    });
    expect(failedShards.size).toBe(1);
    const failed = [...failedShards][0]!;
    let count = 0;
    records.forEach((r, i) => {
      const entry = answer.Records[i]!;
      if (shardForHashKey(hashKeyOf(r.key), 2) === failed) {
        count++;
        expect(entry.ErrorCode).toBe('ProvisionedThroughputExceededException');
        expect(entry.ErrorMessage).toContain(`shard shardId-00000000000${failed} in stream clicks`);
        expect(entry.ErrorMessage).toContain('the disk is full');
      } else expect(entry).toMatchObject({ ShardId: `shardId-00000000000${1 - failed}` });
    });
    expect(answer.FailedRecordCount).toBe(count);
    // The log keeps working: the same records land on a retry.
    const retried = JSON.parse((await put(log, records)).toString()) as Answer;
    expect(retried.FailedRecordCount).toBe(0);
  });

  it('answers InternalFailure for a record the log refuses, and takes the others', async () => {
    const log = await openLog(2);
    const body = bodyOf(entries(3));
    const scanned = scanPutRecords(body, 500)!;
    // A data range over the 1 MiB limit: the scanner would never let it through; the log still
    // refuses it on its own rather than writing it.
    const spans = Int32Array.from(scanned.columns.spans);
    spans[4 + 3] = spans[4 + 2]! + 1024 * 1024 + 1;
    const big = Buffer.alloc(spans[4 + 3]! + 1, body);
    const answer = (await putColumns(
      (stream, columns) => log.appendColumns(stream, columns),
      'clicks',
      { ...scanned, columns: { count: 3, bytes: big, spans } },
      (bytes) => Buffer.alloc(bytes),
    )) as Answer;
    expect(answer.FailedRecordCount).toBe(1);
    expect(answer.Records[1]).toMatchObject({ ErrorCode: 'InternalFailure' });
    expect(answer.Records[1]!.ErrorMessage).toContain('at most 1048576 are allowed');
    expect(answer.Records[0]!.SequenceNumber).toBeTruthy();
    expect(answer.Records[2]!.SequenceNumber).toBeTruthy();
  });

  it("answers an unknown stream with Kinesis's ResourceNotFoundException", async () => {
    const log = await openLog(1);
    const scanned = scanPutRecords(bodyOf(entries(2)), 500)!;
    const err = await putColumns(
      (stream, columns) => log.appendColumns(stream, columns),
      'nope',
      scanned,
      (bytes) => Buffer.alloc(bytes),
    ).catch((e: unknown) => e);
    expect((err as { type?: string }).type).toBe('ResourceNotFoundException');
  });
});
