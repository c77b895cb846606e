/**
 * A generic HTTP webhook as a sync destination: each batch is one signed JSON POST.
 *
 * Request (documented in docs/sync-destinations.md):
 *   POST <url>
 *   Content-Type: application/json
 *   X-Tributary-Timestamp: <unix seconds>
 *   X-Tributary-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with the secret>
 *   X-Tributary-Batch-Id: <id, the same when the batch is sent again>
 *   {"object": "contacts", "operation": "upsert", "match_field": "email",
 *    "records": [{"key": "a@example.com", "fields": {...}}]}
 * The timestamp is inside the signed text so a captured request cannot be replayed later: the
 * receiver refuses timestamps more than 5 minutes away from its clock.
 *
 * Answer: a 2xx with `{"results": [{"key", "status": "ok"|"rejected", "message"?, "id"?}]}` gives
 * per-record results; a 2xx without them means every record is ok; a 4xx (other than 401, 403,
 * 429) rejects every record of the batch with the receiver's message; 429 and 5xx are retried
 * (rate-limit.ts), then the write fails. `operation: "lookup"` asks which keys the receiver holds
 * (`status: "ok"` with an `id`, or `"missing"`); a receiver that does not answer lookups cannot
 * make insert mode safe after a crash, and the adapter says so.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { TributaryError } from '../../core/index.js';
import type {
  DestinationCapabilities,
  DestinationField,
  RecordResult,
  SyncDestination,
  WaitListener,
  WriteBatch,
} from '../destination.js';
import type { PacedHttpClient } from '../rate-limit.js';
import {
  destinationHttp,
  excerpt,
  failedAnswer,
  requestsPerSecond,
  type Clock,
  type HttpAnswer,
  type RateLimit,
} from '../rate-limit.js';

export interface WebhookField {
  name: string;
  type?: string;
  unique?: boolean;
}

export interface WebhookOptions {
  name: string;
  url: string;
  /** The HMAC signing secret shared with the receiver. */
  secret: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  token?: string;
  /** More headers sent with every request (an API key the receiver wants, say). */
  headers?: Record<string, string>;
  /** Default 10 requests per second. */
  rateLimit?: RateLimit;
  /** Records per POST (default 100). */
  maxBatch?: number;
  /** The receiver's fields, when declared; without them any field goes (openSchema). */
  fields?: (string | WebhookField)[];
  retries?: number;
  /** One request's longest wait for an answer (default 30 s). */
  timeoutMs?: number;
  onWait?: WaitListener;
  clock?: Clock;
}

export const WEBHOOK_DEFAULT_LIMIT: RateLimit = { requests: 10, perMs: 1000 };
export const SIGNATURE_HEADER = 'x-tributary-signature';
export const TIMESTAMP_HEADER = 'x-tributary-timestamp';
export const BATCH_ID_HEADER = 'x-tributary-batch-id';

/** The signature header's value for a timestamp (unix seconds) and raw body. */
export function signWebhook(secret: string, timestamp: number | string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

interface ReceiverResult {
  key?: unknown;
  status?: unknown;
  message?: unknown;
  id?: unknown;
}

export class WebhookDestination implements SyncDestination {
  readonly type = 'webhook';
  readonly capabilities: DestinationCapabilities;
  private readonly http: PacedHttpClient;
  private readonly clock: Clock | undefined;

  constructor(private readonly options: WebhookOptions) {
    const limit = options.rateLimit ?? WEBHOOK_DEFAULT_LIMIT;
    this.clock = options.clock;
    this.capabilities = {
      maxBatch: options.maxBatch ?? 100,
      operations: ['upsert', 'update', 'insert', 'delete'],
      maxRequestsPerSecond: requestsPerSecond(limit),
      openSchema: !options.fields?.length,
    };
    this.http = destinationHttp('webhook', options, limit);
  }

  setWaitListener(listener: WaitListener | undefined): void {
    this.http.setWaitListener(listener);
  }

  private get label(): string {
    return `webhook destination ${this.options.name}`;
  }

  async describe(_object: string): Promise<DestinationField[]> {
    return (this.options.fields ?? []).map((f) => {
      const field = typeof f === 'string' ? { name: f } : f;
      return {
        name: field.name,
        type: field.type ?? 'string',
        unique: field.unique ?? false,
        readOnly: false,
      };
    });
  }

  /** One signed POST; the batch id stays the same across the client's retries. */
  private post(payload: unknown, signal?: AbortSignal): Promise<HttpAnswer> {
    const body = JSON.stringify(payload);
    const batchId = randomUUID();
    return this.http.send(this.options.url, {
      method: 'POST',
      // The receiver sees the batch id and can drop a repeat; every operation is a replace.
      idempotent: true,
      signal,
      // Signed afresh for each try: a retry after a long Retry-After must not look like a replay.
      headers: () => {
        const timestamp = Math.floor((this.clock?.now() ?? Date.now()) / 1000);
        return {
          ...this.options.headers,
          'content-type': 'application/json',
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signWebhook(this.options.secret, timestamp, body),
          [BATCH_ID_HEADER]: batchId,
          ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
        };
      },
      body,
    });
  }

  async write(batch: WriteBatch): Promise<RecordResult[]> {
    if (batch.records.length > this.capabilities.maxBatch)
      throw new TributaryError(
        `${this.label}: a batch holds at most ${this.capabilities.maxBatch} records (got ${batch.records.length})`,
        { code: 'INTERNAL' },
      );
    if (batch.records.length === 0) return [];
    const answer = await this.post(
      {
        object: batch.object,
        operation: batch.operation,
        match_field: batch.matchField,
        records: batch.records.map((r) => ({ key: r.key, fields: r.fields })),
      },
      batch.signal,
    );
    const keys = batch.records.map((r) => r.key);
    if (answer.status === 401 || answer.status === 403 || answer.status === 404)
      throw failedAnswer(this.label, `POST of a ${batch.operation} batch`, answer);
    if (answer.status >= 400 && answer.status < 500) {
      const message = `the receiver refused the whole batch with HTTP ${answer.status}: ${excerpt(answer.body)}`;
      return keys.map((key) => ({
        status: 'rejected',
        key,
        message,
        code: `HTTP_${answer.status}`,
      }));
    }
    if (answer.status < 200 || answer.status >= 300)
      throw failedAnswer(this.label, `POST of a ${batch.operation} batch`, answer);
    const results = this.results(answer);
    if (!results) return keys.map((key) => ({ status: 'ok', key }));
    return keys.map((key): RecordResult => {
      const result = results.get(key);
      if (!result)
        return { status: 'rejected', key, message: `the receiver's results do not mention ${key}` };
      if (result.status === 'ok')
        return {
          status: 'ok',
          key,
          destinationId: result.id == null ? undefined : String(result.id),
        };
      return {
        status: 'rejected',
        key,
        message:
          typeof result.message === 'string' ? result.message : `status ${String(result.status)}`,
      };
    });
  }

  /** The answer's per-record results by key, or undefined when it has none. */
  private results(answer: HttpAnswer): Map<string, ReceiverResult> | undefined {
    let parsed: unknown;
    try {
      parsed = answer.body ? JSON.parse(answer.body) : undefined;
    } catch {
      return undefined;
    }
    const list = (parsed as { results?: unknown })?.results;
    if (!Array.isArray(list)) return undefined;
    return new Map((list as ReceiverResult[]).map((r) => [String(r.key), r]));
  }

  async lookup(
    object: string,
    matchField: string,
    keys: readonly string[],
  ): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (let start = 0; start < keys.length; start += this.capabilities.maxBatch) {
      const chunk = keys.slice(start, start + this.capabilities.maxBatch);
      const answer = await this.post({
        object,
        operation: 'lookup',
        match_field: matchField,
        records: chunk.map((key) => ({ key, fields: {} })),
      });
      if (answer.status < 200 || answer.status >= 300)
        throw failedAnswer(this.label, 'lookup', answer);
      const results = this.results(answer);
      if (!results)
        throw new TributaryError(
          `${this.label}: the receiver does not answer lookups (no "results" in its answer), so a batch interrupted by a crash cannot be checked`,
          {
            code: 'CONFIG',
            hint: 'make the receiver answer operation "lookup" (docs/sync-destinations.md), or sync in upsert mode, which is safe to send again',
          },
        );
      for (const key of chunk) {
        const result = results.get(key);
        if (result?.status === 'ok') found.set(key, result.id == null ? key : String(result.id));
      }
    }
    return found;
  }

  async close(): Promise<void> {}
}
