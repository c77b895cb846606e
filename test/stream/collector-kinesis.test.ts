/**
 * The collector's Kinesis API through the real @aws-sdk/client-kinesis (over h2c, as the SDK
 * speaks to an http:// endpoint) against a listening server: the stream calls producers make
 * first, PutRecord(s) read back with GetShardIterator/GetRecords, partial failures, Kinesis's
 * limits and errors as the SDK's own exception classes, and SigV4 refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  InvalidArgumentException,
  KinesisServiceException,
  ListShardsCommand,
  ListStreamsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  ProvisionedThroughputExceededException,
  ResourceInUseException,
  ResourceNotFoundException,
  ValidationException,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { TributaryError } from '../../src/core/index.js';
import type { AppendOutcome, RecordInput, StreamLog } from '../../src/stream/log.js';
import { hashKeyOf, shardForHashKey, shardIdOf } from '../../src/stream/shards.js';
import {
  KEY_ID,
  REGION,
  signedFetch,
  startCollector,
  type Collector,
} from './collector-harness.js';

const MiB = 1024 * 1024;
let collector: Collector;
let kinesis: KinesisClient;
/** Record indexes the fault layer reports as not taken (the log "cannot take writes"). */
const refuse = new Set<number>();

/**
 * Fails chosen records of a call without appending them, passing the rest to the real log. It
 * has no `appendColumns`, so PutRecords takes `append` here (put-records-columns.test.ts fails
 * the columns path with a disk that fills).
 */
function refusing(log: StreamLog): StreamLog {
  return Object.assign(Object.create(log) as StreamLog, {
    appendColumns: undefined,
    append: async (stream: string, records: readonly RecordInput[]): Promise<AppendOutcome[]> => {
      if (stream === 'clicks' && refuse.has(-1))
        throw new TributaryError('the disk is full (test)', { code: 'UNAVAILABLE' });
      if (stream === 'clicks' && refuse.has(-2)) throw new Error('a bug (test)');
      const kept = records.filter((_, i) => !refuse.has(i));
      const outcomes = await log.append(stream, kept);
      let k = 0;
      return records.map((_, i) =>
        refuse.has(i)
          ? { ok: false, code: 'UNAVAILABLE', message: 'disk full (test)' }
          : outcomes[k++]!,
      );
    },
  });
}

const text = (data: Uint8Array | undefined) => Buffer.from(data ?? []).toString('utf8');

async function readAll(
  stream: string,
  shardId: string,
  type: 'TRIM_HORIZON' | 'LATEST' = 'TRIM_HORIZON',
) {
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ShardIteratorType: type }),
  );
  return kinesis.send(new GetRecordsCommand({ ShardIterator }));
}

beforeAll(async () => {
  collector = await startCollector(refusing);
  kinesis = collector.kinesis();
  await kinesis.send(new CreateStreamCommand({ StreamName: 'clicks', ShardCount: 2 }));
});
afterAll(async () => collector?.close());

describe('stream calls producers make first', () => {
  it('lists, describes and lists the shards of a created stream', async () => {
    const listed = await kinesis.send(new ListStreamsCommand({}));
    expect(listed.StreamNames).toContain('clicks');
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'clicks' }));
    expect(summary.StreamDescriptionSummary).toMatchObject({
      StreamName: 'clicks',
      StreamStatus: 'ACTIVE',
      OpenShardCount: 2,
      StreamARN: `arn:aws:kinesis:${REGION}:000000000000:stream/clicks`,
    });
    expect(summary.StreamDescriptionSummary?.StreamCreationTimestamp).toBeInstanceOf(Date);
    const shards = await kinesis.send(new ListShardsCommand({ StreamName: 'clicks' }));
    expect(shards.Shards?.map((s) => s.ShardId)).toEqual([
      'shardId-000000000000',
      'shardId-000000000001',
    ]);
    expect(shards.Shards?.[1]?.HashKeyRange?.EndingHashKey).toBe(((1n << 128n) - 1n).toString());
    const described = await kinesis.send(
      new DescribeStreamCommand({ StreamName: 'clicks', Limit: 1 }),
    );
    expect(described.StreamDescription?.Shards).toHaveLength(1);
    expect(described.StreamDescription?.HasMoreShards).toBe(true);
  });

  it('refuses a second CreateStream and calls on unknown streams in the SDK classes', async () => {
    await expect(
      kinesis.send(new CreateStreamCommand({ StreamName: 'clicks', ShardCount: 1 })),
    ).rejects.toBeInstanceOf(ResourceInUseException);
    const missing = kinesis.send(
      new PutRecordCommand({ StreamName: 'nope', PartitionKey: 'k', Data: Buffer.from('{}') }),
    );
    await expect(missing).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(missing).rejects.toThrow('Stream nope under account 000000000000 not found.');
    await expect(
      kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'nope' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      kinesis.send(new DeleteStreamCommand({ StreamName: 'nope' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('deletes a stream', async () => {
    await kinesis.send(new CreateStreamCommand({ StreamName: 'short-lived', ShardCount: 1 }));
    await kinesis.send(new DeleteStreamCommand({ StreamName: 'short-lived' }));
    expect((await kinesis.send(new ListStreamsCommand({}))).StreamNames).not.toContain(
      'short-lived',
    );
  });
});

describe('records round trip', () => {
  it('reads back PutRecord and PutRecords in order, in the shard the MD5 of the key chooses', async () => {
    const one = await kinesis.send(
      new PutRecordCommand({
        StreamName: 'clicks',
        PartitionKey: 'user-1',
        Data: Buffer.from('{"n":0}'),
      }),
    );
    const many = await kinesis.send(
      new PutRecordsCommand({
        StreamName: 'clicks',
        Records: Array.from({ length: 20 }, (_, i) => ({
          PartitionKey: 'user-1',
          Data: Buffer.from(JSON.stringify({ n: i + 1 })),
        })),
      }),
    );
    expect(many.FailedRecordCount).toBe(0);
    const shardId = one.ShardId!;
    expect(shardId).toBe(shardIdOf(shardForHashKey(hashKeyOf('user-1'), 2)));
    expect(new Set(many.Records?.map((r) => r.ShardId))).toEqual(new Set([shardId]));
    const read = await readAll('clicks', shardId);
    const mine = read.Records!.filter((r) => r.PartitionKey === 'user-1');
    expect(mine.map((r) => JSON.parse(text(r.Data)).n)).toEqual(
      Array.from({ length: 21 }, (_, i) => i),
    );
    expect(mine[0]?.SequenceNumber).toBe(one.SequenceNumber);
    expect(mine.map((r) => r.SequenceNumber)).toEqual([
      one.SequenceNumber,
      ...many.Records!.map((r) => r.SequenceNumber),
    ]);
    expect(mine[0]?.ApproximateArrivalTimestamp).toBeInstanceOf(Date);
    expect(read.NextShardIterator).toBeTruthy();
    expect(read.MillisBehindLatest).toBe(0);
  });

  it('starts iterators at and after a sequence number, at the latest record and at a time', async () => {
    const put = await kinesis.send(
      new PutRecordsCommand({
        StreamName: 'clicks',
        Records: ['a', 'b', 'c'].map((v) => ({ PartitionKey: 'iter', Data: Buffer.from(v) })),
      }),
    );
    const [a, b] = put.Records!;
    const shard = a!.ShardId!;
    const from = async (type: 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER', seq: string) => {
      const it = await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: 'clicks',
          ShardId: shard,
          ShardIteratorType: type,
          StartingSequenceNumber: seq,
        }),
      );
      const got = await kinesis.send(
        new GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 2 }),
      );
      return got.Records!.map((r) => text(r.Data));
    };
    expect(await from('AT_SEQUENCE_NUMBER', b!.SequenceNumber!)).toEqual(['b', 'c']);
    expect(await from('AFTER_SEQUENCE_NUMBER', a!.SequenceNumber!)).toEqual(['b', 'c']);

    const latest = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: 'clicks',
        ShardId: shard,
        ShardIteratorType: 'LATEST',
      }),
    );
    const before = new Date(Date.now() - 1);
    await kinesis.send(
      new PutRecordCommand({ StreamName: 'clicks', PartitionKey: 'iter', Data: Buffer.from('d') }),
    );
    const afterLatest = await kinesis.send(
      new GetRecordsCommand({ ShardIterator: latest.ShardIterator }),
    );
    expect(afterLatest.Records!.map((r) => text(r.Data))).toEqual(['d']);
    // The next iterator continues after what was read: nothing new yet.
    const again = await kinesis.send(
      new GetRecordsCommand({ ShardIterator: afterLatest.NextShardIterator }),
    );
    expect(again.Records).toEqual([]);

    const atTime = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: 'clicks',
        ShardId: shard,
        ShardIteratorType: 'AT_TIMESTAMP',
        Timestamp: before,
      }),
    );
    const timed = await kinesis.send(
      new GetRecordsCommand({ ShardIterator: atTime.ShardIterator }),
    );
    expect(timed.Records!.map((r) => text(r.Data))).toContain('d');
  });

  it('refuses a bad iterator, a shard that does not exist and a bad sequence number', async () => {
    await expect(
      kinesis.send(new GetRecordsCommand({ ShardIterator: 'not-an-iterator' })),
    ).rejects.toBeInstanceOf(InvalidArgumentException);
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: 'clicks',
        ShardId: 'shardId-000000000000',
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const [payload, mac] = ShardIterator!.split('.');
    const altered = `${payload}x.${mac}`;
    await expect(
      kinesis.send(new GetRecordsCommand({ ShardIterator: altered })),
    ).rejects.toBeInstanceOf(ExpiredIteratorException);
    await expect(
      kinesis.send(
        new GetShardIteratorCommand({
          StreamName: 'clicks',
          ShardId: 'shardId-000000000009',
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      kinesis.send(
        new GetShardIteratorCommand({
          StreamName: 'clicks',
          ShardId: 'shardId-000000000000',
          ShardIteratorType: 'AT_SEQUENCE_NUMBER',
          StartingSequenceNumber: 'abc',
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidArgumentException);
  });
});

describe('partial failures', () => {
  it('reports records the log did not take per record, with FailedRecordCount, and keeps the rest', async () => {
    refuse.add(1).add(3);
    try {
      const res = await kinesis.send(
        new PutRecordsCommand({
          StreamName: 'clicks',
          Records: Array.from({ length: 5 }, (_, i) => ({
            PartitionKey: 'partial',
            Data: Buffer.from(`p${i}`),
          })),
        }),
      );
      expect(res.FailedRecordCount).toBe(2);
      expect(res.Records![1]).toMatchObject({
        ErrorCode: 'ProvisionedThroughputExceededException',
      });
      expect(res.Records![1]!.ErrorMessage).toMatch(
        /^Rate exceeded for shard shardId-00000000000\d in stream clicks under account 000000000000\./,
      );
      expect(res.Records![1]!.SequenceNumber).toBeUndefined();
      expect(res.Records![0]!.SequenceNumber).toBeTruthy();
      const read = await readAll('clicks', res.Records![0]!.ShardId!);
      expect(
        read.Records!.filter((r) => r.PartitionKey === 'partial').map((r) => text(r.Data)),
      ).toEqual(['p0', 'p2', 'p4']);
    } finally {
      refuse.clear();
    }
  });

  it('answers a PutRecord the log did not take with ProvisionedThroughputExceededException', async () => {
    refuse.add(0);
    try {
      const err = await kinesis
        .send(
          new PutRecordCommand({ StreamName: 'clicks', PartitionKey: 'k', Data: Buffer.from('x') }),
        )
        .catch((e: unknown) => e);
      expect((err as Error).name).toBe('ProvisionedThroughputExceededException');
    } finally {
      refuse.clear();
    }
  });
});

describe('a log that cannot take writes', () => {
  it('answers ProvisionedThroughputExceededException, and InternalFailure (500) for a failure of its own', async () => {
    const put = () =>
      kinesis.send(
        new PutRecordsCommand({
          StreamName: 'clicks',
          Records: [{ PartitionKey: 'k', Data: Buffer.from('x') }],
        }),
      );
    refuse.add(-1);
    try {
      const err = await put().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ProvisionedThroughputExceededException);
      expect((err as Error).message).toContain('the disk is full (test)');
    } finally {
      refuse.clear();
    }
    refuse.add(-2);
    try {
      const err = await put().then(
        () => undefined,
        (e: unknown) => e as KinesisServiceException,
      );
      expect(err?.name).toBe('InternalFailure');
      expect(err?.$metadata.httpStatusCode).toBe(500);
    } finally {
      refuse.clear();
    }
    // The collector keeps serving.
    expect((await put()).FailedRecordCount).toBe(0);
  });
});

describe('limits', () => {
  const put = (records: { PartitionKey: string; Data: Uint8Array }[]) =>
    kinesis.send(new PutRecordsCommand({ StreamName: 'clicks', Records: records }));

  it('refuses 501 records, a 1 MiB + 1 record, a batch over 5 MiB and an empty partition key', async () => {
    const small = { PartitionKey: 'k', Data: Buffer.from('x') };
    const tooMany = put(Array.from({ length: 501 }, () => small));
    await expect(tooMany).rejects.toBeInstanceOf(ValidationException);
    await expect(tooMany).rejects.toThrow('Member must have length less than or equal to 500');

    const big = put([small, { PartitionKey: 'k', Data: Buffer.alloc(MiB + 1, 97) }]);
    await expect(big).rejects.toBeInstanceOf(ValidationException);
    await expect(big).rejects.toThrow("'records.2.member.data'");

    const batch = put(
      Array.from({ length: 6 }, () => ({ PartitionKey: 'k', Data: Buffer.alloc(MiB - 10, 98) })),
    );
    await expect(batch).rejects.toBeInstanceOf(InvalidArgumentException);
    await expect(batch).rejects.toThrow('Records size exceeds 5 MB limit');

    const emptyKey = put([{ PartitionKey: '', Data: Buffer.from('x') }]);
    await expect(emptyKey).rejects.toBeInstanceOf(ValidationException);
    await expect(emptyKey).rejects.toThrow("'records.1.member.partitionKey'");

    const longKey = kinesis.send(
      new PutRecordCommand({
        StreamName: 'clicks',
        PartitionKey: 'k'.repeat(257),
        Data: Buffer.from('x'),
      }),
    );
    await expect(longKey).rejects.toBeInstanceOf(ValidationException);
    // Nothing of a refused request was appended.
    const read = await readAll('clicks', 'shardId-000000000001');
    expect(read.Records!.some((r) => r.Data?.length === MiB - 10)).toBe(false);
  });

  it('takes a full 5 MiB batch of 500 records', async () => {
    const data = Buffer.alloc(Math.floor((5 * MiB) / 500) - 2, 99);
    const res = await put(
      Array.from({ length: 500 }, (_, i) => ({ PartitionKey: `k${i % 10}`, Data: data })),
    );
    expect(res.FailedRecordCount).toBe(0);
    expect(res.Records).toHaveLength(500);
  });

  it('refuses bad base64 and a wrong content type in Kinesis shapes (raw requests)', async () => {
    const bad = await signedFetch(
      collector.endpoint,
      'Kinesis_20131202.PutRecord',
      JSON.stringify({ StreamName: 'clicks', PartitionKey: 'k', Data: 'not*base64!' }),
    );
    expect(bad.status).toBe(400);
    expect(bad.json.__type).toBe('SerializationException');
    expect(bad.json.message).toContain("'data' is not valid base64");
    const wrongType = await signedFetch(
      collector.endpoint,
      'Kinesis_20131202.ListStreams',
      '{}',
      'text/plain',
    );
    expect(wrongType.status).toBe(415);
    expect(wrongType.json.__type).toBe('SerializationException');
    const unknownOp = await signedFetch(collector.endpoint, 'Kinesis_20131202.SplitShard', '{}');
    expect(unknownOp.json.__type).toBe('UnknownOperationException');
    const notJson = await signedFetch(
      collector.endpoint,
      'Kinesis_20131202.ListStreams',
      '{"StreamName":',
    );
    expect(notJson.json.__type).toBe('SerializationException');
  });
});

describe('signatures', () => {
  const refusedName = async (client: KinesisClient) => {
    const err = await client.send(new ListStreamsCommand({})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KinesisServiceException);
    expect((err as KinesisServiceException).$metadata.httpStatusCode).toBe(400);
    return (err as Error).name;
  };

  it('refuses a wrong secret, an unknown key id and a date more than 15 minutes off', async () => {
    expect(
      await refusedName(collector.kinesis({ accessKeyId: KEY_ID, secretAccessKey: 'wrong' })),
    ).toBe('InvalidSignatureException');
    expect(
      await refusedName(collector.kinesis({ accessKeyId: 'TRBUNKNOWN', secretAccessKey: 'x' })),
    ).toBe('UnrecognizedClientException');
    const stale = collector.kinesis(undefined, -16 * 60_000);
    const err = await stale.send(new ListStreamsCommand({})).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.name).toBe('InvalidSignatureException');
    expect(err?.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than/);
    // Within the skew is fine.
    await expect(
      collector.kinesis(undefined, -10 * 60_000).send(new ListStreamsCommand({})),
    ).resolves.toBeTruthy();
  });

  it('refuses a signature that does not cover the body', async () => {
    const body = JSON.stringify({ StreamName: 'clicks' });
    const unsignedBody = await signedFetch(
      collector.endpoint,
      'Kinesis_20131202.DescribeStreamSummary',
      body,
      undefined,
      'UNSIGNED-PAYLOAD',
    );
    expect(unsignedBody.status).toBe(400);
    expect(unsignedBody.json.__type).toBe('InvalidSignatureException');
    const wrongHash = await signedFetch(
      collector.endpoint,
      'Kinesis_20131202.DescribeStreamSummary',
      body,
      undefined,
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(wrongHash.json.__type).toBe('InvalidSignatureException');
    expect(wrongHash.json.message).toContain('x-amz-content-sha256');
    const signed = await signedFetch(
      collector.endpoint,
      'Kinesis_20131202.DescribeStreamSummary',
      body,
    );
    expect(signed.status).toBe(200);
  });

  it('refuses an unsigned request and a body changed after signing', async () => {
    const unsigned = await fetch(`${collector.endpoint}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'Kinesis_20131202.ListStreams',
      },
      body: '{}',
    });
    expect(unsigned.status).toBe(400);
    expect(((await unsigned.json()) as { __type: string }).__type).toBe(
      'MissingAuthenticationTokenException',
    );
    // The SDK's middleware stack lets a test change the body after it was signed.
    const client = collector.kinesis();
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body: Uint8Array | string };
        request.body = Buffer.from(
          Buffer.from(request.body).toString('utf8').replace('clicks', 'click2'),
        );
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'tamper' },
    );
    const err = await client.send(new DescribeStreamSummaryCommand({ StreamName: 'clicks' })).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.name).toBe('InvalidSignatureException');
  });
});
