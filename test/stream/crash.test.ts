/**
 * Issue 15's fault test: a real `tributary collect` (local segment log with fsync, flusher into
 * the lake) takes PutRecords from the real Kinesis SDK while it is killed again and again: by
 * SIGKILL at a random moment (seeded), or by a crash at one of the flusher's fault points
 * (`TRIBUTARY_FAULT=crash:flush-before-store|flush-before-commit|flush-after-commit:<table>`:
 * after the batch file is written but before it is stored, after it is stored but before the
 * manifest swap that commits batch and cursor together, and just after that swap). After each
 * kill the collector is started again and the producer retries every record it had no
 * acknowledgement for. At the end everything is flushed and processed, and the lake must hold:
 * every acknowledged record, at the shard and sequence number it was acknowledged with, exactly
 * once in the processed table (a record retried after a lost answer lands twice in the raw zone
 * and its second copy goes to quarantine by the contract's key, event_id); no log record (shard +
 * sequence number) twice in the raw zone; nothing that was never sent.
 *
 * `STREAM_CRASH_TRIALS` (default 5: every kind of kill at least once, about a minute here)
 * and `STREAM_CRASH_SEED` (default 15) set the campaign; the full one is
 * `STREAM_CRASH_TRIALS=20 npx vitest run test/stream/crash.test.ts`. Needs the built CLI
 * (`npm run build`), as the other process tests.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { seededRandom as prng } from '../../src/core/index.js';
import { killLeftovers, runTributary } from '../e2e/crash-campaign/processes.js';
import { RetryingProducer } from './crash-producer.js';
import {
  createProducerKey,
  freePort,
  kinesisClient,
  readLanded,
  startCollector,
  stopCollector,
  streamProjectFiles,
  writeProjectFiles,
  type Landed,
} from './harness.js';

const TRIALS = Number(process.env.STREAM_CRASH_TRIALS ?? 5);
const SEED = Number(process.env.STREAM_CRASH_SEED ?? 15);
const TABLE = 'events';

/** The kinds of kill, in the order trials take them. */
const KINDS = [
  'sigkill',
  'crash:flush-before-commit',
  'sigkill',
  'crash:flush-after-commit',
  'crash:flush-before-store',
  'sigkill',
] as const;
type Kind = (typeof KINDS)[number];

interface Trial {
  kind: Kind;
  /** For sigkill: ms after the collector listened. */
  delayMs?: number;
  /** How the collector ended (signal or exit code) and what it printed last. */
  ended: string;
  /** Records acknowledged during this trial, and calls that got no answer. */
  acked: number;
  failedCalls: number;
  faultHit: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`the collector killed ${TRIALS} times under load (seed ${SEED})`, () => {
  const project = tempDir('trib-stream-crash-');
  const trials: Trial[] = [];
  let producer: RetryingProducer;
  let landed: Landed;

  beforeAll(async () => {
    const port = await freePort();
    // Small, frequent micro-batches: random kills land inside flushes, not only between them.
    writeProjectFiles(project, streamProjectFiles({ port, maxBytes: '256KB', maxAge: '300ms' }));
    const key = await createProducerKey(project);
    const client = kinesisClient(`http://127.0.0.1:${port}`, key);
    producer = new RetryingProducer(client, TABLE, { lanes: 4, batch: 50, prefix: 'ev-' });
    const random = prng(SEED);
    let collector = await startCollector(project, port);
    producer.start();
    for (let i = 0; i < TRIALS; i++) {
      const kind = KINDS[i % KINDS.length]!;
      const ackedBefore = producer.acked.size;
      const failedBefore = producer.failedCalls;
      const trial: Trial = { kind, ended: '', acked: 0, failedCalls: 0, faultHit: false };
      if (kind === 'sigkill') {
        trial.delayMs = Math.round(300 + random() * 2700);
        await sleep(trial.delayMs);
        collector.proc.kill();
      }
      // A fault trial's collector crashes itself at the fault point (it has records to flush).
      const timer = setTimeout(() => collector.proc.kill(), 60_000);
      const exit = await collector.proc.exited;
      clearTimeout(timer);
      trial.ended = exit.signal ?? `exit ${exit.code}`;
      trial.faultHit = /fault injection: crashing at flush-/.test(collector.proc.output());
      trial.acked = producer.acked.size - ackedBefore;
      trial.failedCalls = producer.failedCalls - failedBefore;
      trials.push(trial);
      // The next trial's collector: with the next fault point armed, or none.
      const nextKind = KINDS[(i + 1) % KINDS.length]!;
      const fault =
        i + 1 < TRIALS && nextKind !== 'sigkill' ? `crash:${nextKind.slice(6)}:${TABLE}` : '';
      collector = await startCollector(
        project,
        port,
        { TRIBUTARY_FAULT: fault },
        { mayExit: true },
      );
    }
    // The last collector runs clean: every record sent is retried until acknowledged.
    producer.stopNew();
    const settled = await producer.settled(60_000);
    await producer.stop();
    client.destroy();
    await stopCollector(collector);
    if (!settled) throw new Error(`${producer.unacknowledged} records never acknowledged`);
    // Flush what the log still holds and process every raw batch.
    await runTributary(project, ['run']);
    landed = await readLanded(project, TABLE);
    console.log(
      trials
        .map(
          (t, i) =>
            `trial ${i + 1}: ${t.kind}${t.delayMs !== undefined ? ` after ${t.delayMs} ms` : ''} → ${t.ended}${t.faultHit ? ' (at the fault point)' : ''}; ${t.acked} acked, ${t.failedCalls} calls unanswered`,
        )
        .join('\n') +
        `\n${producer.acked.size} records acknowledged, ${producer.sent.size} sent, refused in partial failures: ${JSON.stringify(Object.fromEntries(producer.refused))}; processed ${landed.processed.length}, quarantined ${landed.quarantined.length}, raw lines ${landed.raw.length}`,
    );
  }, 5 * 60_000);

  afterAll(() => {
    killLeftovers();
    rmSync(project, { recursive: true, force: true });
  });

  it('killed the collector as planned, under load, and at every fault point asked for', () => {
    expect(trials).toHaveLength(TRIALS);
    for (const t of trials) {
      if (t.kind === 'sigkill') expect(t.ended).toBe('SIGKILL');
      else expect(t, `${t.kind} was not reached`).toMatchObject({ faultHit: true });
    }
    // Load was on: records were acknowledged, and kills cut calls off mid-flight.
    expect(trials.reduce((n, t) => n + t.acked, 0)).toBeGreaterThan(TRIALS * 50);
    expect(trials.reduce((n, t) => n + t.failedCalls, 0)).toBeGreaterThan(0);
  });

  it('has every acknowledged record in the processed table exactly once', () => {
    const count = new Map<string, number>();
    for (const row of landed.processed) count.set(row.eventId, (count.get(row.eventId) ?? 0) + 1);
    const lost = [...producer.acked.keys()].filter((id) => !count.has(id));
    const doubled = [...count].filter(([, n]) => n > 1).map(([id, n]) => `${id} ×${n}`);
    const ghosts = [...count.keys()].filter((id) => !producer.sent.has(id));
    expect(lost.slice(0, 20), `${lost.length} acknowledged records lost`).toEqual([]);
    expect(doubled.slice(0, 20), `${doubled.length} records doubled`).toEqual([]);
    expect(ghosts.slice(0, 20), 'records never sent').toEqual([]);
    expect(producer.acked.size).toBeGreaterThan(0);
  });

  it('keeps each acknowledged record at the shard and sequence number it was acknowledged with', () => {
    const at = new Set(
      landed.raw.map((line) => {
        const l = line as Record<string, unknown>;
        return `${String(l.event_id)}@${String(l._shard_id)}/${String(l._sequence_number)}`;
      }),
    );
    const missing = [...producer.acked]
      .filter(([id, a]) => !at.has(`${id}@${a.shardId}/${a.sequenceNumber}`))
      .map(([id, a]) => `${id}@${a.shardId}/${a.sequenceNumber}`);
    expect(
      missing.slice(0, 20),
      `${missing.length} acknowledged positions not in the raw zone`,
    ).toEqual([]);
  });

  it('lands no log record twice, and every raw line is processed or quarantined', () => {
    const positions = new Map<string, number>();
    for (const line of landed.raw) {
      const l = line as Record<string, unknown>;
      const key = `${String(l._shard_id)}/${String(l._sequence_number)}`;
      positions.set(key, (positions.get(key) ?? 0) + 1);
    }
    const twice = [...positions].filter(([, n]) => n > 1).map(([k, n]) => `${k} ×${n}`);
    expect(twice.slice(0, 20), `${twice.length} log records landed more than once`).toEqual([]);
    expect(landed.processed.length + landed.quarantined.length).toBe(landed.raw.length);
    // A second copy in the raw zone is a retried record whose first answer was lost: quarantined.
    const rawIds = new Set(landed.raw.map((l) => String((l as Record<string, unknown>).event_id)));
    expect(rawIds.size).toBe(landed.processed.length);
  });
});
