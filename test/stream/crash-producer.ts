/**
 * The fault test's producer: the real `@aws-sdk/client-kinesis` sending PutRecords of new events
 * (each with a unique `event_id`, the contract's key) to a collector that is killed and restarted
 * under it. It records exactly which records were acknowledged (a 200 answer with a sequence
 * number for the record) and sends every other one again, as a producer following Kinesis's
 * advice does: a record refused in a partial failure, or in a call that failed or never got an
 * answer (the collector died), is retried until acknowledged. A retried record may land twice
 * (its first try was durable but the answer was lost); the contract's key settles that.
 */
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';

/** Where an acknowledged record went. */
export interface Acked {
  shardId: string;
  sequenceNumber: string;
  /** How many tries it took. */
  attempts: number;
}

/** The clickstream-shaped event with id `id`, valid under the harness's contract. */
export function eventOf(id: string, n: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      event_id: id,
      user_id: 1 + (n % 997),
      event_type: ['page_view', 'add_to_cart', 'purchase'][n % 3],
      event_ts: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
      url: `/p/${n % 101}`,
    }),
  );
}

export class RetryingProducer {
  /** event_id → where it was acknowledged. */
  readonly acked = new Map<string, Acked>();
  /** Every id ever sent (acknowledged or not). */
  readonly sent = new Set<string>();
  /** Calls that failed outright (no answer: the collector was killed or down). */
  failedCalls = 0;
  /** Records refused inside a 200 answer (partial failures), by error code. */
  readonly refused = new Map<string, number>();
  /** Calls answered while at least one other was in flight when a kill came. */
  private readonly retry: string[] = [];
  private readonly attempts = new Map<string, number>();
  private next = 0;
  private producingNew = true;
  private stopped = false;
  private inFlight = 0;
  private lanes: Promise<void>[] = [];

  constructor(
    private readonly client: KinesisClient,
    private readonly stream: string,
    private readonly options: { lanes: number; batch: number; prefix: string },
  ) {}

  /** Starts `lanes` loops of PutRecords calls. */
  start(): void {
    this.lanes = Array.from({ length: this.options.lanes }, () => this.lane());
  }

  /** Records sent but not acknowledged yet (waiting for a retry or in flight). */
  get unacknowledged(): number {
    return this.sent.size - this.acked.size;
  }

  /** Stops making new events; retries go on until everything sent is acknowledged. */
  stopNew(): void {
    this.producingNew = false;
  }

  /** Resolves once every record sent has been acknowledged (after stopNew), or the timeout. */
  async settled(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.unacknowledged > 0 || this.inFlight > 0) {
      if (Date.now() > deadline) return false;
      await sleep(50);
    }
    return true;
  }

  /** Stops every loop. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.lanes);
  }

  private take(): string[] {
    const ids = this.retry.splice(0, this.options.batch);
    while (this.producingNew && ids.length < this.options.batch)
      ids.push(`${this.options.prefix}${this.next++}`);
    return ids;
  }

  private async lane(): Promise<void> {
    while (!this.stopped) {
      const ids = this.take();
      if (ids.length === 0) {
        await sleep(20);
        continue;
      }
      this.inFlight++;
      try {
        await this.send(ids);
      } finally {
        this.inFlight--;
      }
    }
  }

  private async send(ids: string[]): Promise<void> {
    for (const id of ids) {
      this.sent.add(id);
      this.attempts.set(id, (this.attempts.get(id) ?? 0) + 1);
    }
    try {
      const out = await this.client.send(
        new PutRecordsCommand({
          StreamName: this.stream,
          Records: ids.map((id) => ({
            PartitionKey: id,
            Data: eventOf(id, Number(id.slice(this.options.prefix.length))),
          })),
        }),
      );
      const records = out.Records ?? [];
      if (records.length !== ids.length)
        throw new Error(`PutRecords answered ${records.length} records for ${ids.length}`);
      ids.forEach((id, i) => {
        const r = records[i]!;
        if (r.ErrorCode || !r.SequenceNumber || !r.ShardId) {
          this.refused.set(
            r.ErrorCode ?? 'none',
            (this.refused.get(r.ErrorCode ?? 'none') ?? 0) + 1,
          );
          this.retry.push(id);
        } else {
          this.acked.set(id, {
            shardId: r.ShardId,
            sequenceNumber: r.SequenceNumber,
            attempts: this.attempts.get(id)!,
          });
        }
      });
    } catch {
      // No answer (killed mid-call, refused while down): none of these is acknowledged.
      this.failedCalls++;
      this.retry.push(...ids);
      await sleep(100);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
