/**
 * Bulk reads from JetStream for the stream log: a short-lived, in-memory, no-ack consumer
 * filtered to one shard's subject, drained with raw `no_wait` pull requests. The client library's
 * ordered consumer is not used because it sends `filter_subjects` (a nats-server 2.10 field that
 * 2.9 ignores, reading every shard) and cannot tell "no more messages" from "wait for more"; a
 * `no_wait` pull ends with a 404/408 status as soon as the consumer has nothing pending, so a read
 * never waits for records that do not exist. nats-server 2.9 has no batched direct get (2.11), and
 * one direct get per record would cost a round trip each.
 */
import { createInbox, type Msg, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  type ConsumerConfig,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { randomUUID } from 'node:crypto';

/** One message as a consumer delivered it, with the metadata from its ack subject. */
export interface PulledMessage {
  streamSequence: number;
  /** When the server stored it, in milliseconds since the epoch. */
  storedMs: number;
  /** Messages the consumer still had after this one. */
  pending: number;
  msg: Msg;
}

/** Where a shard consumer starts. */
export type ConsumerStart = { seq: number } | { time: Date };

/** An ephemeral consumer of one subject, and how many messages it had at creation. */
export interface ShardConsumer {
  stream: string;
  name: string;
  pending: number;
}

/** How long a consumer lives on the server when a reader dies without deleting it. */
const INACTIVE_THRESHOLD_NS = 60_000_000_000;

/** Creates a no-ack, in-memory consumer of `subject` from `start` (headers only when asked). */
export async function createShardConsumer(
  jsm: JetStreamManager,
  stream: string,
  subject: string | undefined,
  start: ConsumerStart,
  headersOnly = false,
): Promise<ShardConsumer> {
  const config: Partial<ConsumerConfig> = {
    name: `tributary_read_${randomUUID().replaceAll('-', '')}`,
    ack_policy: AckPolicy.None,
    mem_storage: true,
    num_replicas: 1,
    inactive_threshold: INACTIVE_THRESHOLD_NS,
    ...(subject === undefined ? {} : { filter_subject: subject }),
    ...(headersOnly ? { headers_only: true } : {}),
    ...('seq' in start
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start.seq }
      : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: start.time.toISOString() }),
  };
  const info = await jsm.consumers.add(stream, config);
  return { stream, name: info.name, pending: info.num_pending };
}

/**
 * Asks the consumer for up to `batch` messages and gathers them: ends when `batch` arrived, or at
 * the server's status saying there are no more now, or after `idleTimeoutMs` of silence (an
 * error then: the server went away).
 */
export function pullBatch(
  nc: NatsConnection,
  consumer: ShardConsumer,
  batch: number,
  idleTimeoutMs: number,
): Promise<PulledMessage[]> {
  return new Promise((resolve, reject) => {
    const messages: PulledMessage[] = [];
    const inbox = createInbox();
    let timer: NodeJS.Timeout | undefined;
    let lastProgress = Date.now();
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      sub.unsubscribe();
      if (error) reject(error);
      else resolve(messages);
    };
    // One timer per pull, not one per message: it fails the pull only after a whole idle period.
    const check = (): void => {
      const idle = Date.now() - lastProgress;
      if (idle >= idleTimeoutMs) {
        finish(new Error(`no answer from JetStream for ${idleTimeoutMs}ms while reading`));
      } else {
        timer = setTimeout(check, idleTimeoutMs - idle);
      }
    };
    const sub = nc.subscribe(inbox, {
      callback: (err, msg) => {
        if (err) return finish(err);
        // Only an empty message can be a status; records' headers are decoded once, later.
        const status = msg.data.length === 0 ? (msg.headers?.code ?? 0) : 0;
        if (status !== 0) {
          // 404 No Messages / 408 Request Timeout end a no_wait pull; others are failures.
          if (status === 404 || status === 408) return finish();
          return finish(
            new Error(`JetStream pull ended with ${status} ${msg.headers?.description ?? ''}`),
          );
        }
        messages.push(parseDelivered(msg));
        if (messages.length >= batch) return finish();
        lastProgress = Date.now();
      },
    });
    timer = setTimeout(check, idleTimeoutMs);
    nc.publish(
      `$JS.API.CONSUMER.MSG.NEXT.${consumer.stream}.${consumer.name}`,
      JSON.stringify({ batch, no_wait: true }),
      { reply: inbox },
    );
  });
}

/**
 * Reads sequence, timestamp and pending count from a delivered message's ack subject:
 * `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<nanos>.<pending>` (nats-server 2.9),
 * or the newer form with domain and account hash before the stream.
 */
export function parseDelivered(msg: Msg): PulledMessage {
  const tokens = (msg.reply ?? '').split('.');
  const base = tokens.length === 9 ? 2 : tokens.length >= 11 ? 4 : -1;
  if (tokens[0] !== '$JS' || tokens[1] !== 'ACK' || base < 0) {
    throw new Error(`unexpected JetStream delivery subject "${msg.reply ?? ''}"`);
  }
  const nanos = tokens[base + 5] ?? '0';
  return {
    streamSequence: Number(tokens[base + 3]),
    storedMs: Number(nanos.slice(0, -6) || '0'),
    pending: Number(tokens[base + 6]),
    msg,
  };
}
