/**
 * Bad input through the whole stack: a running `tributary collect` (real process, local segment
 * log, flusher) is sent what producers get wrong — an oversized record, a request over Kinesis's
 * 5 MiB, Data that is not base64, an unknown stream (Kinesis and Firehose), the wrong content
 * type (AWS JSON and /api/events), a bad signature, records that are not JSON or not an object,
 * and a disk that fills under the log. Each gets the error the AWS SDK raises for it (or, for
 * records the log takes, a quarantined row carrying the record's sequence number and the reason),
 * and after each one a good record is acknowledged: the collector keeps serving. At the end every
 * good record is in the processed table exactly once.
 *
 * The full disk is a real tmpfs filled to ENOSPC when the test may mount one (root); otherwise a
 * fault that fails the log's writes with ENOSPC (see disk-full.ts); the test's name says which.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { FirehoseClient, PutRecordCommand as FirehosePutRecord } from '@aws-sdk/client-firehose';
import {
  PutRecordCommand,
  PutRecordsCommand,
  type KinesisClient,
  type PutRecordsCommandOutput,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { killLeftovers, runTributary } from '../e2e/crash-campaign/processes.js';
import { prepareFullDisk, type FullDisk } from './disk-full.js';
import {
  REGION,
  createProducerKey,
  freePort,
  kinesisClient,
  putRecordsBody,
  readLanded,
  sendRaw,
  signRequest,
  startCollector,
  stopCollector,
  streamProjectFiles,
  writeProjectFiles,
  type Collector,
  type ProducerKey,
} from './harness.js';

const STREAM = 'events';
const MiB = 1024 * 1024;

/** A good event with id `id` (valid under the harness's contract). */
function good(id: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      event_id: id,
      user_id: 7,
      event_type: 'page_view',
      event_ts: '2026-01-01T00:00:00Z',
      url: '/',
    }),
  );
}

/** What an SDK call threw: the exception's name and HTTP status. */
async function refusal(
  call: Promise<unknown>,
): Promise<{ name: string; status?: number; message: string }> {
  try {
    await call;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('the call was accepted');
}

describe('bad input through a running collector', () => {
  const project = tempDir('trib-stream-bad-');
  let port: number;
  let key: ProducerKey;
  let collector: Collector;
  let client: KinesisClient;
  // Prepared now (it is synchronous) so the test's name can say which kind of full disk it is.
  const disk: FullDisk = prepareFullDisk(join(project, '.tributary', 'stream'));
  /** Good records acknowledged (event ids), and the records that must be quarantined. */
  const goodAcked: string[] = [];
  const poison = new Map<string, { reason: string; shardId: string; sequenceNumber: string }>();
  let goodCount = 0;

  /** A good record is acknowledged right after the bad input: the collector still serves. */
  async function stillServing(): Promise<void> {
    const id = `good-${goodCount++}`;
    const out = await client.send(
      new PutRecordCommand({ StreamName: STREAM, PartitionKey: id, Data: good(id) }),
    );
    expect(out.SequenceNumber).toMatch(/^\d+$/);
    expect(collector.proc.done()).toBe(false);
    goodAcked.push(id);
  }

  beforeAll(async () => {
    port = await freePort();
    writeProjectFiles(project, streamProjectFiles({ port, maxAge: '200ms' }));
    key = await createProducerKey(project);
    collector = await startCollector(project, port, disk.env);
    client = kinesisClient(collector.url, key);
  }, 120_000);

  afterAll(async () => {
    client?.destroy();
    if (collector) await stopCollector(collector).catch(() => undefined);
    killLeftovers();
    disk.cleanup();
    rmSync(project, { recursive: true, force: true });
  });

  it('refuses a record over 1 MiB with ValidationException, and the whole request with it', async () => {
    const big = Buffer.alloc(MiB + 1, 'a');
    const one = await refusal(
      client.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: 'k', Data: big })),
    );
    expect(one).toMatchObject({
      name: expect.stringMatching(/ValidationException|InvalidArgumentException/),
      status: 400,
    });
    const mixed = await refusal(
      client.send(
        new PutRecordsCommand({
          StreamName: STREAM,
          Records: [
            { PartitionKey: 'a', Data: good('never-1') },
            { PartitionKey: 'b', Data: big },
          ],
        }),
      ),
    );
    expect(mixed.status).toBe(400);
    await stillServing();
  });

  it('refuses a PutRecords request over 5 MiB', async () => {
    const records = Array.from({ length: 6 }, (_, i) => ({
      PartitionKey: `p${i}`,
      Data: Buffer.alloc(MiB - 100, 'b'),
    }));
    const out = await refusal(
      client.send(new PutRecordsCommand({ StreamName: STREAM, Records: records })),
    );
    expect(out.status).toBeGreaterThanOrEqual(400);
    expect(out.status).toBeLessThan(500);
    await stillServing();
  });

  it('refuses Data that is not base64 with SerializationException', async () => {
    const body = JSON.stringify({
      StreamName: STREAM,
      Records: [{ PartitionKey: 'k', Data: 'not base64 at all!!' }],
    });
    const res = await sendRaw(
      port,
      await signRequest(key, port, body, 'Kinesis_20131202.PutRecords'),
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({
      __type: 'SerializationException',
      message: expect.stringMatching(/base64/i),
    });
    await stillServing();
  });

  it('answers ResourceNotFoundException for an unknown stream (Kinesis and Firehose)', async () => {
    const kinesis = await refusal(
      client.send(
        new PutRecordCommand({ StreamName: 'no_such_stream', PartitionKey: 'k', Data: good('x') }),
      ),
    );
    expect(kinesis).toMatchObject({ name: 'ResourceNotFoundException', status: 400 });
    expect(kinesis.message).toContain('no_such_stream');
    const firehose = new FirehoseClient({
      endpoint: collector.url,
      region: REGION,
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
      maxAttempts: 1,
    });
    try {
      const out = await refusal(
        firehose.send(
          new FirehosePutRecord({
            DeliveryStreamName: 'no_such_stream',
            Record: { Data: good('y') },
          }),
        ),
      );
      expect(out).toMatchObject({ name: 'ResourceNotFoundException', status: 400 });
    } finally {
      firehose.destroy();
    }
    await stillServing();
  });

  it('refuses the wrong content type: 415 on the AWS API and on /api/events', async () => {
    const body = putRecordsBody(STREAM, [{ data: good('never-2'), partitionKey: 'k' }]);
    const res = await sendRaw(
      port,
      await signRequest(key, port, body, 'Kinesis_20131202.PutRecords', {
        headers: { 'content-type': 'text/plain' },
      }),
    );
    expect(res.status).toBe(415);
    expect(JSON.parse(res.body)).toMatchObject({ __type: 'SerializationException' });
    const events = await fetch(`${collector.url}/api/events/${STREAM}`, {
      method: 'POST',
      headers: {
        'content-type': 'text/csv',
        ...(key.token ? { authorization: `Bearer ${key.token}` } : {}),
      },
      body: 'a,b\n1,2\n',
    });
    expect(events.status).toBe(415);
    expect(((await events.json()) as { error: { message: string } }).error.message).toMatch(
      /content-type/i,
    );
    await stillServing();
  });

  it('refuses a request signed with the wrong secret, in the SDK error shape', async () => {
    const forged = kinesisClient(collector.url, { ...key, secretAccessKey: 'wrong-secret' });
    try {
      const out = await refusal(
        forged.send(
          new PutRecordCommand({ StreamName: STREAM, PartitionKey: 'k', Data: good('never-3') }),
        ),
      );
      expect(out.name).toMatch(/InvalidSignatureException|UnrecognizedClientException/);
      expect(out.status).toBe(400);
    } finally {
      forged.destroy();
    }
    await stillServing();
  });

  it('takes records that are not JSON or not an object, to quarantine them with their reason', async () => {
    const bad = [
      { id: 'text', data: Buffer.from('this is not json {'), reason: 'not_json' },
      { id: 'utf8', data: Buffer.from([0xff, 0xfe, 0x00, 0x41]), reason: 'not_json' },
      { id: 'array', data: Buffer.from('[1, 2, 3]'), reason: 'not_object' },
      { id: 'number', data: Buffer.from('42'), reason: 'not_object' },
    ];
    const out: PutRecordsCommandOutput = await client.send(
      new PutRecordsCommand({
        StreamName: STREAM,
        Records: [
          ...bad.map((b) => ({ PartitionKey: b.id, Data: b.data })),
          { PartitionKey: 'good', Data: good('between-poison') },
        ],
      }),
    );
    expect(out.FailedRecordCount ?? 0).toBe(0);
    bad.forEach((b, i) =>
      poison.set(b.id, {
        reason: b.reason,
        shardId: out.Records![i]!.ShardId!,
        sequenceNumber: out.Records![i]!.SequenceNumber!,
      }),
    );
    goodAcked.push('between-poison');
    await stillServing();
  });

  it(`refuses records while the disk is full (${disk.mode === 'tmpfs' ? 'a real tmpfs filled to ENOSPC' : 'writes failed with ENOSPC by a fault'}), and takes them once there is room`, async () => {
    disk.fill();
    let out: PutRecordsCommandOutput | undefined;
    let thrown: { name: string; status?: number } | undefined;
    try {
      out = await client.send(
        new PutRecordsCommand({
          StreamName: STREAM,
          Records: [1, 2, 3].map((i) => ({
            PartitionKey: `full${i}`,
            Data: Buffer.alloc(64 * 1024, 'x'),
          })),
        }),
      );
    } catch (err) {
      thrown = {
        name: (err as Error).name,
        status: (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode,
      };
    } finally {
      disk.free();
    }
    if (out) {
      // Kinesis's shape: each record refused with a retryable code and a message naming the disk.
      expect(out.FailedRecordCount).toBe(3);
      for (const r of out.Records ?? []) {
        expect(r.ErrorCode).toMatch(/ProvisionedThroughputExceededException|InternalFailure/);
        expect(r.ErrorMessage).toMatch(/disk is full|no space/i);
        expect(r.SequenceNumber).toBeUndefined();
      }
    } else {
      expect(thrown!.status).toBeGreaterThanOrEqual(500);
    }
    expect(collector.proc.done()).toBe(false);
    await stillServing();
  });

  it('lands every good record exactly once and quarantines each poison record with its sequence number and reason', async () => {
    await stopCollector(collector);
    await runTributary(project, ['run']);
    const landed = await readLanded(project, STREAM);
    const ids = landed.processed.map((r) => r.eventId).sort();
    expect(ids).toEqual([...goodAcked].sort());
    for (const [id, expected] of poison) {
      const row = landed.quarantined.find(
        (q) =>
          String(q._sequence_number) === expected.sequenceNumber &&
          String(q._shard_id) === expected.shardId,
      );
      expect(row, `quarantined row of ${id}`).toBeDefined();
      expect(row).toMatchObject({ _reason: expected.reason, _partition_key: id });
    }
  }, 120_000);
});
