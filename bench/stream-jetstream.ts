/**
 * The JetStream stream log's append rate against raw JetStream in the same run: 1 KB records
 * appended through `JetStreamLog.append` (calls of 500 records, as PutRecords sends, several calls
 * in flight) and the same payloads published with `js.publish`, pipelined with the same number of
 * messages in flight, to a plain file-storage stream. Rounds alternate which side goes first;
 * prints each round's records/s and the median ratio adapter / raw (1.0 = no cost over JetStream).
 *   npm run build && node dist/bench/stream-jetstream.js -- --records 50000 --rounds 3
 * Uses the NATS server at TRIBUTARY_BENCH_NATS_URL (default nats://127.0.0.1:4222) and deletes
 * the streams it creates.
 */
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { JetStreamLog } from '../src/stream/jetstream/index.js';
import type { RecordInput } from '../src/stream/log.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '3' },
    'batch-size': { type: 'string', default: '500' },
    'calls-in-flight': { type: 'string', default: '8' },
    shards: { type: 'string', default: '2' },
  },
});
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

async function main(): Promise<void> {
  const records = makeRecords();
  const batches: RecordInput[][] = [];
  for (let at = 0; at < records.length; at += BATCH) batches.push(records.slice(at, at + BATCH));
  const log = await JetStreamLog.connect({ url, prefix, timeoutMs: 30_000 });
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc, { timeout: 30_000 });
  const rawName = `${prefix}_raw`;
  console.log(
    `${RECORDS} records of 1 KB, ${BATCH} per call, ${CALLS} calls (${BATCH * CALLS} records) in flight, ${SHARDS} shards; load ${loadavg()[0]!.toFixed(1)}`,
  );
  const ratios: number[] = [];
  try {
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
            batch.map((record, i) => js.publish(`${prefix}.raw.${i % SHARDS}`, record.data)),
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
      await log.deleteStream(`round${round}`);
      await jsm.streams.delete(rawName);
    }
  } finally {
    for (const name of await log.listStreams()) await log.deleteStream(name);
    await jsm.streams.delete(rawName).catch(() => undefined);
    await log.close();
    await nc.close();
  }
  const median = [...ratios].sort((x, y) => x - y)[Math.floor(ratios.length / 2)]!;
  console.log(
    `median ratio adapter / raw JetStream: ${median.toFixed(2)} (1.00 = no cost over raw publishes)`,
  );
}

await main();
