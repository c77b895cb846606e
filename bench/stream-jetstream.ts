/**
 * The JetStream stream log's append rate against raw JetStream in the same run: 1 KB records
 * appended through `JetStreamLog.append` (calls of 500 records, as PutRecords sends, several calls
 * in flight) and the same messages (payload and partition-key header) published with
 * `js.publish`, pipelined with the same number of messages in flight, to a plain file-storage
 * stream, over a connection with the same options (no async traces). Rounds alternate which side
 * goes first; prints each round's records/s and the median ratio log / raw (1.0 = no cost).
 * Then reads: every shard of the appended stream through `JetStreamLog.read` (pages of 10,000, as
 * the flusher reads) against a plain no-ack pull consumer per shard subject fetching them all with
 * the client library's `fetch`, on the raw stream.
 *   npm run build && node dist/bench/stream-jetstream.js --records 50000 --rounds 3
 * Uses the NATS server at TRIBUTARY_BENCH_NATS_URL (default nats://127.0.0.1:4222) and deletes
 * the streams it creates.
 */
import { benchArgs } from './args.js';
import { loadavg } from 'node:os';
import { connect, headers } from '@nats-io/transport-node';
import {
  AckPolicy,
  jetstream,
  jetstreamManager,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { JetStreamLog } from '../src/stream/jetstream/index.js';
import type { ReadPosition, RecordInput } from '../src/stream/log.js';
import { shardIdOf } from '../src/stream/shards.js';

const { values } = benchArgs(
  {
    options: {
      records: { type: 'string', default: '50000' },
      rounds: { type: 'string', default: '3' },
      'batch-size': { type: 'string', default: '500' },
      'calls-in-flight': { type: 'string', default: '8' },
      shards: { type: 'string', default: '2' },
    },
  },
  import.meta.url,
);
const RECORDS = Number(values.records);
const ROUNDS = Number(values.rounds);
const BATCH = Number(values['batch-size']);
const CALLS = Number(values['calls-in-flight']);
const SHARDS = Number(values.shards);
const url = process.env.TRIBUTARY_BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const prefix = `bench${Date.now().toString(36)}`;

/** 1 KB JSON events, each with its own partition key. */
function makeRecords(): RecordInput[] {
  const pad = 'x'.repeat(1024);
  return Array.from({ length: RECORDS }, (_, i) => {
    const head = JSON.stringify({ event_id: i, user: `u${i % 997}`, pad: '' });
    const data = Buffer.from(
      JSON.stringify({ event_id: i, user: `u${i % 997}`, pad: pad.slice(0, 1024 - head.length) }),
    );
    return { partitionKey: `u${i % 997}`, data };
  });
}

/** Runs `calls` of `work` over the batches with `CALLS` calls in flight; returns seconds. */
async function timed(
  batches: RecordInput[][],
  work: (batch: RecordInput[]) => Promise<void>,
): Promise<number> {
  const started = performance.now();
  let next = 0;
  const lanes = Array.from({ length: CALLS }, async () => {
    while (next < batches.length) await work(batches[next++]!);
  });
  await Promise.all(lanes);
  return (performance.now() - started) / 1000;
}

/** Reads every shard of `stream` through the log, page by page; returns seconds. */
async function readThroughLog(log: JetStreamLog, stream: string): Promise<number> {
  const started = performance.now();
  let count = 0;
  for (let shard = 0; shard < SHARDS; shard++) {
    let from: ReadPosition = { type: 'oldest' };
    for (;;) {
      const page = await log.read(stream, shardIdOf(shard), from, { maxRecords: 10_000 });
      if (page.records.length === 0) break;
      count += page.records.length;
      from = page.next;
    }
  }
  if (count !== RECORDS) throw new Error(`the log read ${count} records, not ${RECORDS}`);
  return (performance.now() - started) / 1000;
}

/** Reads every shard subject of the raw stream with a pull consumer's fetch; returns seconds. */
async function readRaw(
  jsm: JetStreamManager,
  js: JetStreamClient,
  stream: string,
): Promise<number> {
  const started = performance.now();
  let count = 0;
  for (let shard = 0; shard < SHARDS; shard++) {
    const info = await jsm.consumers.add(stream, {
      ack_policy: AckPolicy.None,
      filter_subject: `${prefix}.raw.${shard}`,
      mem_storage: true,
    });
    const consumer = await js.consumers.get(stream, info.name);
    let left = info.num_pending;
    while (left > 0) {
      const messages = await consumer.fetch({
        max_messages: Math.min(left, 10_000),
        expires: 5000,
      });
      for await (const message of messages) {
        // The same work a reader of these records does: the payload and the partition key.
        if (message.data.length > 0 && message.headers?.get('Tributary-Partition-Key')) count++;
        left--;
      }
    }
    await jsm.consumers.delete(stream, info.name);
  }
  if (count !== RECORDS) throw new Error(`the raw consumer read ${count} records, not ${RECORDS}`);
  return (performance.now() - started) / 1000;
}

/** Runs both sides once on a tenth of the records, untimed, so neither pays for a cold start. */
async function warmUp(
  log: JetStreamLog,
  jsm: JetStreamManager,
  js: JetStreamClient,
  batches: RecordInput[][],
): Promise<void> {
  await log.createStream('warmup', { shards: SHARDS, maxAgeMs: 60_000 });
  const warmName = `${prefix}_rawwarm`;
  await jsm.streams.add({
    name: warmName,
    subjects: [`${prefix}.rawwarm.>`],
    storage: StorageType.File,
  });
  try {
    for (const batch of batches) {
      await log.append('warmup', batch);
      await Promise.all(batch.map((record) => js.publish(`${prefix}.rawwarm.0`, record.data)));
    }
    for (let shard = 0; shard < SHARDS; shard++) {
      await log.read('warmup', shardIdOf(shard), { type: 'oldest' });
    }
  } finally {
    await log.deleteStream('warmup');
    await jsm.streams.delete(warmName);
  }
}

async function main(): Promise<void> {
  const records = makeRecords();
  const batches: RecordInput[][] = [];
  for (let at = 0; at < records.length; at += BATCH) batches.push(records.slice(at, at + BATCH));
  const log = await JetStreamLog.connect({ url, prefix, timeoutMs: 30_000 });
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc, { timeout: 30_000 });
  const rawName = `${prefix}_raw`;
  console.log(
    `${RECORDS} records of 1 KB, ${BATCH} per call, ${CALLS} calls (${BATCH * CALLS} records) in flight, ${SHARDS} shards; load ${loadavg()[0]!.toFixed(1)}`,
  );
  const ratios: number[] = [];
  const readRatios: number[] = [];
  try {
    await warmUp(log, jsm, js, batches.slice(0, Math.max(1, Math.ceil(batches.length / 10))));
    for (let round = 0; round < ROUNDS; round++) {
      await log.createStream(`round${round}`, { shards: SHARDS, maxAgeMs: 3_600_000 });
      await jsm.streams.add({
        name: rawName,
        subjects: [`${prefix}.raw.>`],
        storage: StorageType.File,
      });
      const adapter = async (): Promise<number> =>
        timed(batches, async (batch) => {
          const outcomes = await log.append(`round${round}`, batch);
          if (outcomes.some((outcome) => !outcome.ok)) throw new Error('an append failed');
        });
      const raw = async (): Promise<number> =>
        timed(batches, async (batch) => {
          await Promise.all(
            batch.map((record, i) => {
              // The same message the log stores: the payload and the partition-key header.
              const messageHeaders = headers();
              messageHeaders.set(
                'Tributary-Partition-Key',
                encodeURIComponent(record.partitionKey),
              );
              return js.publish(`${prefix}.raw.${i % SHARDS}`, record.data, {
                headers: messageHeaders,
              });
            }),
          );
        });
      const [first, second] = round % 2 === 0 ? [adapter, raw] : [raw, adapter];
      const a = await first();
      const b = await second();
      const [adapterSeconds, rawSeconds] = round % 2 === 0 ? [a, b] : [b, a];
      const ratio = rawSeconds / adapterSeconds;
      ratios.push(ratio);
      console.log(
        `round ${round + 1}: adapter ${(RECORDS / adapterSeconds).toFixed(0)} records/s, raw js.publish ${(RECORDS / rawSeconds).toFixed(0)} msgs/s, ratio ${ratio.toFixed(2)}`,
      );
      const logRead = await readThroughLog(log, `round${round}`);
      const rawRead = await readRaw(jsm, js, rawName);
      readRatios.push(rawRead / logRead);
      console.log(
        `         reads: log ${(RECORDS / logRead).toFixed(0)} records/s, raw fetch ${(RECORDS / rawRead).toFixed(0)} msgs/s, ratio ${(rawRead / logRead).toFixed(2)}`,
      );
      await log.deleteStream(`round${round}`);
      await jsm.streams.delete(rawName);
    }
  } finally {
    for (const name of await log.listStreams()) await log.deleteStream(name);
    await jsm.streams.delete(rawName).catch(() => undefined);
    await log.close();
    await nc.close();
  }
  const median = (values: number[]): string =>
    [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!.toFixed(2);
  console.log(
    `median ratio log / raw JetStream: appends ${median(ratios)}, reads ${median(readRatios)} (1.00 = no cost over raw JetStream)`,
  );
}

await main();
