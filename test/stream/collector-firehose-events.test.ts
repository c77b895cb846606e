/**
 * The collector's Firehose API through the real @aws-sdk/client-firehose, and POST /api/events
 * (NDJSON, JSON arrays, bad lines, content types, tokens) against a listening server on the real
 * local log; what is sent is read back from the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DescribeDeliveryStreamCommand,
  ListDeliveryStreamsCommand,
  PutRecordBatchCommand,
  PutRecordCommand,
  ResourceNotFoundException,
  ServiceUnavailableException,
  type FirehoseClient,
} from '@aws-sdk/client-firehose';
import type { AppendOutcome, LogRecord, RecordInput, StreamLog } from '../../src/stream/log.js';
import { BEARER, startCollector, type Collector } from './collector-harness.js';

let collector: Collector;
let firehose: FirehoseClient;
/** Record indexes the fault layer reports as not taken (the log "cannot take writes"). */
const refuse = new Set<number>();

/** Fails chosen records of a call without appending them, passing the rest to the real log. */
function refusing(log: StreamLog): StreamLog {
  return Object.assign(Object.create(log) as StreamLog, {
    append: async (stream: string, records: readonly RecordInput[]): Promise<AppendOutcome[]> => {
      const outcomes = await log.append(
        stream,
        records.filter((_, i) => !refuse.has(i)),
      );
      let k = 0;
      return records.map((_, i) =>
        refuse.has(i)
          ? { ok: false, code: 'UNAVAILABLE', message: 'disk full (test)' }
          : outcomes[k++]!,
      );
    },
  });
}

/** Every record of a stream, all shards, in sequence order per shard. */
async function records(stream: string): Promise<LogRecord[]> {
  const d = await collector.log.describeStream(stream);
  const out: LogRecord[] = [];
  for (const s of d!.shards)
    out.push(...(await collector.log.read(stream, s.shardId, { type: 'oldest' })).records);
  return out;
}

beforeAll(async () => {
  collector = await startCollector(refusing);
  firehose = collector.firehose();
  await collector.log.createStream('deliveries', { shards: 4, maxAgeMs: 3600_000 });
  await collector.log.createStream('events', { shards: 2, maxAgeMs: 3600_000 });
});
afterAll(async () => collector?.close());

describe('Firehose', () => {
  it('describes and lists delivery streams', async () => {
    const listed = await firehose.send(new ListDeliveryStreamsCommand({}));
    expect(listed.DeliveryStreamNames).toEqual(['deliveries', 'events']);
    const d = await firehose.send(
      new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'deliveries' }),
    );
    expect(d.DeliveryStreamDescription).toMatchObject({
      DeliveryStreamName: 'deliveries',
      DeliveryStreamStatus: 'ACTIVE',
    });
  });

  it('takes PutRecord and PutRecordBatch, one record each, spread over the shards by record id', async () => {
    const one = await firehose.send(
      new PutRecordCommand({
        DeliveryStreamName: 'deliveries',
        Record: { Data: Buffer.from('{"n":-1}\n') },
      }),
    );
    expect(one.RecordId).toMatch(/^[0-9a-f-]{36}$/);
    const batch = await firehose.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: 'deliveries',
        Records: Array.from({ length: 200 }, (_, i) => ({ Data: Buffer.from(`{"n":${i}}\n`) })),
      }),
    );
    expect(batch.FailedPutCount).toBe(0);
    expect(batch.RequestResponses).toHaveLength(200);
    const stored = await records('deliveries');
    expect(stored).toHaveLength(201);
    const byKey = new Map(stored.map((r) => [r.partitionKey, r.data.toString()]));
    expect(byKey.get(one.RecordId!)).toBe('{"n":-1}\n');
    expect(byKey.get(batch.RequestResponses![7]!.RecordId!)).toBe('{"n":7}\n');
    expect(new Set(stored.map((r) => r.shardId)).size).toBe(4);
  });

  it('reports records the log did not take per record, with FailedPutCount', async () => {
    refuse.add(0);
    try {
      const res = await firehose.send(
        new PutRecordBatchCommand({
          DeliveryStreamName: 'deliveries',
          Records: [{ Data: Buffer.from('lost') }, { Data: Buffer.from('kept') }],
        }),
      );
      expect(res.FailedPutCount).toBe(1);
      expect(res.RequestResponses![0]).toMatchObject({ ErrorCode: 'ServiceUnavailableException' });
      expect(res.RequestResponses![1]!.RecordId).toBeTruthy();
      const data = (await records('deliveries')).map((r) => r.data.toString());
      expect(data).toContain('kept');
      expect(data).not.toContain('lost');
      const single = await firehose
        .send(
          new PutRecordCommand({
            DeliveryStreamName: 'deliveries',
            Record: { Data: Buffer.from('x') },
          }),
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(single).toBeInstanceOf(ServiceUnavailableException);
    } finally {
      refuse.clear();
    }
  });

  it('refuses an unknown delivery stream, 501 records and a batch over 4 MiB', async () => {
    const missing = firehose.send(
      new PutRecordCommand({ DeliveryStreamName: 'nope', Record: { Data: Buffer.from('x') } }),
    );
    await expect(missing).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(missing).rejects.toThrow('Firehose nope under account 000000000000 not found.');
    const tooMany = await firehose
      .send(
        new PutRecordBatchCommand({
          DeliveryStreamName: 'deliveries',
          Records: Array.from({ length: 501 }, () => ({ Data: Buffer.from('x') })),
        }),
      )
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(tooMany?.name).toBe('ValidationException');
    const tooBig = await firehose
      .send(
        new PutRecordBatchCommand({
          DeliveryStreamName: 'deliveries',
          Records: Array.from({ length: 5 }, () => ({ Data: Buffer.alloc(1_000_000, 97) })),
        }),
      )
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(tooBig?.name).toBe('InvalidArgumentException');
  });
});

describe('POST /api/events', () => {
  const post = (path: string, body: string, contentType = 'application/x-ndjson', token = BEARER) =>
    fetch(`${collector.endpoint}${path}`, {
      method: 'POST',
      headers: { 'content-type': contentType, authorization: `Bearer ${token}` },
      body,
    });

  it('appends NDJSON lines and a JSON array, one record per event, keyed by a field when asked', async () => {
    const ndjson = await post(
      '/api/events/events?partition_key=user',
      '{"user":"u1","n":1}\r\n\n{"user":"u2","n":2}\n',
    );
    expect(ndjson.status).toBe(200);
    const body = (await ndjson.json()) as {
      accepted: number;
      failed: number;
      records: { sequenceNumber: string }[];
    };
    expect(body).toMatchObject({ stream: 'events', accepted: 2, failed: 0 });
    expect(body.records[0]!.sequenceNumber).toMatch(/^\d+$/);
    const array = await post(
      '/api/events?stream=events',
      JSON.stringify([{ n: 3 }, { n: 4 }, 5]),
      'application/json; charset=utf-8',
    );
    expect(array.status).toBe(200);
    const stored = await records('events');
    expect(stored.map((r) => r.data.toString()).sort()).toEqual(
      ['5', '{"n":3}', '{"n":4}', '{"user":"u1","n":1}', '{"user":"u2","n":2}'].sort(),
    );
    expect(stored.find((r) => r.data.toString().includes('"u1"'))?.partitionKey).toBe('u1');
    expect(stored.find((r) => r.data.toString().includes('"n":3'))?.partitionKey).toMatch(
      /^[0-9a-f-]{36}$/,
    );
  });

  it('refuses a line that is not JSON, naming it, and takes nothing of that request', async () => {
    const before = (await records('events')).length;
    const res = await post('/api/events/events', '{"n":10}\n{"n":11}\n{"n": oops}\n');
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('INPUT');
    expect(error.message).toMatch(/^line 3 is not JSON/);
    const missingKey = await post(
      '/api/events/events?partition_key=user',
      '{"user":"a"}\n{"other":1}\n',
    );
    expect(missingKey.status).toBe(400);
    expect(((await missingKey.json()) as { error: { message: string } }).error.message).toContain(
      'line 2 has no usable partition key field user',
    );
    expect(await records('events')).toHaveLength(before);
  });

  it('refuses a wrong content type (415), no or a bad token (401), an unknown stream (404)', async () => {
    const wrongType = await post('/api/events/events', '{"n":1}', 'text/plain');
    expect(wrongType.status).toBe(415);
    expect(((await wrongType.json()) as { error: { message: string } }).error.message).toContain(
      'text/plain is not accepted',
    );
    const badToken = await post(
      '/api/events/events',
      '{"n":1}',
      'application/x-ndjson',
      'trb_wrong',
    );
    expect(badToken.status).toBe(401);
    const noToken = await fetch(`${collector.endpoint}/api/events/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: '{"n":1}',
    });
    expect(noToken.status).toBe(401);
    const unknown = await post('/api/events/nope', '{"n":1}');
    expect(unknown.status).toBe(404);
    const empty = await post('/api/events/events', '\n\n');
    expect(empty.status).toBe(400);
  });
});
