/**
 * HubSpot CRM v3 objects API as a sync destination
 * (https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/).
 *
 * - upsert: `POST /crm/v3/objects/{object}/batch/upsert`, inputs `{idProperty, id, properties}`
 *   keyed by the match field (a property with unique values, e.g. `email`).
 * - update: `batch/update` with `idProperty`, so an unknown key is that record's
 *   OBJECT_NOT_FOUND, never a new record.
 * - insert: a `batch/read` by `idProperty` first (existing keys are rejected as already there),
 *   then `batch/create` of the rest.
 * - delete: `batch/read` to find the object ids, then `batch/archive` (a key already gone is ok).
 * - Answers: 200/201 all done; 207 Multi-Status with `errors[]`, each naming its inputs in
 *   `context.ids` — those records are rejected with HubSpot's message (VALIDATION_ERROR keeps the
 *   per-property detail), the others are ok. A whole-batch 400 or 409 (HubSpot validates some
 *   requests all-or-nothing) is split in halves and re-sent until the bad inputs stand alone, so
 *   one bad record never fails its batch's good ones.
 * - At most 100 inputs a request; 190 requests per 10 s (a private app's limit) unless configured.
 * Results are matched to records by the match field's value, not by position: HubSpot does not
 * promise to answer in input order. It lower-cases emails, so `email` keys compare lower-cased.
 */
import { TributaryError } from '../../core/index.js';
import type {
  DestinationCapabilities,
  DestinationField,
  RecordResult,
  SyncDestination,
  SyncRecord,
  WaitListener,
  WriteBatch,
} from '../destination.js';
import type { PacedHttpClient } from '../rate-limit.js';
import {
  destinationHttp,
  failedAnswer,
  requestsPerSecond,
  type Clock,
  type HttpAnswer,
  type RateLimit,
} from '../rate-limit.js';

export interface HubSpotOptions {
  /** The destination's name in tributary.yml, for messages. */
  name: string;
  /** Default https://api.hubapi.com. */
  baseUrl?: string;
  /** A private app's access token (or an OAuth access token). */
  token: string;
  /** Default 190 requests per 10 s. */
  rateLimit?: RateLimit;
  retries?: number;
  /** One request's longest wait for an answer (default 30 s). */
  timeoutMs?: number;
  onWait?: WaitListener;
  clock?: Clock;
  /** The fetch to send with (default the global one); the benchmark wraps it to time requests. */
  fetch?: typeof fetch;
}

export const HUBSPOT_DEFAULT_LIMIT: RateLimit = { requests: 190, perMs: 10_000 };
const MAX_BATCH = 100;

interface HubSpotObject {
  id: string;
  properties?: Record<string, string | null>;
}

interface HubSpotBatchError {
  category?: string;
  subCategory?: string | Record<string, unknown>;
  message?: string;
  context?: { ids?: string[] };
}

interface HubSpotBatchBody {
  results?: HubSpotObject[];
  errors?: HubSpotBatchError[];
}

interface HubSpotProperty {
  name: string;
  type: string;
  hasUniqueValue?: boolean;
  modificationMetadata?: { readOnlyValue?: boolean };
}

/** How HubSpot compares a match field's values: emails case-insensitively. */
function comparable(matchField: string, value: string): string {
  return matchField === 'email' ? value.trim().toLowerCase() : value;
}

function propertyValues(fields: SyncRecord['fields']): Record<string, string> {
  const out: Record<string, string> = {};
  // HubSpot clears a property given an empty string; null means "no value" in the warehouse.
  for (const [name, value] of Object.entries(fields))
    out[name] = value === null ? '' : String(value);
  return out;
}

/**
 * HubSpot's daily limit: a 429 whose body names policyName DAILY. Waiting minutes will not help
 * (it resets at midnight in the account's time zone), so the run stops with this message.
 */
function dailyLimitReached(answer: HttpAnswer): string | undefined {
  let body: { policyName?: string; message?: string };
  try {
    body = JSON.parse(answer.body) as typeof body;
  } catch {
    return undefined;
  }
  if (body.policyName !== 'DAILY') return undefined;
  const limit = answer.headers.get('x-hubspot-ratelimit-daily');
  return `HubSpot's daily API limit${limit ? ` (${limit} requests)` : ''} is used up: ${body.message ?? '429 DAILY'}; it resets at midnight in the HubSpot account's time zone`;
}

export class HubSpotDestination implements SyncDestination {
  readonly type = 'hubspot';
  readonly capabilities: DestinationCapabilities;
  private readonly http: PacedHttpClient;
  private readonly baseUrl: string;

  constructor(private readonly options: HubSpotOptions) {
    const limit = options.rateLimit ?? HUBSPOT_DEFAULT_LIMIT;
    this.baseUrl = (options.baseUrl ?? 'https://api.hubapi.com').replace(/\/+$/, '');
    this.capabilities = {
      maxBatch: MAX_BATCH,
      operations: ['upsert', 'update', 'insert', 'delete'],
      maxRequestsPerSecond: requestsPerSecond(limit),
    };
    this.http = destinationHttp('hubspot', options, limit, dailyLimitReached);
  }

  setWaitListener(listener: WaitListener | undefined): void {
    this.http.setWaitListener(listener);
  }

  private get label(): string {
    return `hubspot destination ${this.options.name}`;
  }

  private call(
    method: string,
    path: string,
    body: unknown,
    idempotent: boolean,
    signal?: AbortSignal,
  ): Promise<HttpAnswer> {
    return this.http.send(`${this.baseUrl}${path}`, {
      method,
      idempotent,
      signal,
      headers: {
        authorization: `Bearer ${this.options.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async describe(object: string): Promise<DestinationField[]> {
    const answer = await this.call(
      'GET',
      `/crm/v3/properties/${encodeURIComponent(object)}`,
      undefined,
      true,
    );
    if (answer.status !== 200) throw failedAnswer(this.label, `describing ${object}`, answer);
    const { results } = JSON.parse(answer.body) as { results: HubSpotProperty[] };
    return results.map((p) => ({
      name: p.name,
      type: p.type,
      unique: p.hasUniqueValue === true,
      readOnly: p.modificationMetadata?.readOnlyValue === true,
    }));
  }

  async write(batch: WriteBatch): Promise<RecordResult[]> {
    if (batch.records.length > MAX_BATCH)
      throw new TributaryError(
        `${this.label}: a batch holds at most ${MAX_BATCH} records (got ${batch.records.length})`,
        { code: 'INTERNAL' },
      );
    if (batch.records.length === 0) return [];
    switch (batch.operation) {
      case 'upsert':
      case 'update':
        return this.sendInPieces(batch, batch.records);
      case 'insert':
        return this.insert(batch);
      case 'delete':
        return this.remove(batch);
    }
  }

  /**
   * Sends records as one request; a whole-batch 400/409 is split in halves until the records it
   * was about stand alone and take the message themselves.
   */
  private async sendInPieces(
    batch: WriteBatch,
    records: readonly SyncRecord[],
  ): Promise<RecordResult[]> {
    const { object, matchField, operation, signal } = batch;
    const action = operation === 'insert' ? 'create' : operation;
    const inputs = records.map((r) =>
      operation === 'insert'
        ? { properties: { ...propertyValues(r.fields), [matchField]: r.key } }
        : { idProperty: matchField, id: r.key, properties: propertyValues(r.fields) },
    );
    const path = `/crm/v3/objects/${encodeURIComponent(object)}/batch/${action}`;
    // A create sent twice could make the record twice; every other call here is idempotent.
    const answer = await this.call('POST', path, { inputs }, operation !== 'insert', signal);
    if (answer.status === 400 || answer.status === 409) {
      if (records.length === 1) {
        const error = JSON.parse(answer.body) as HubSpotBatchError;
        return [
          {
            status: 'rejected',
            key: records[0]!.key,
            message: error.message ?? `HTTP ${answer.status}`,
            code: error.category,
          },
        ];
      }
      const half = Math.ceil(records.length / 2);
      return [
        ...(await this.sendInPieces(batch, records.slice(0, half))),
        ...(await this.sendInPieces(batch, records.slice(half))),
      ];
    }
    if (answer.status !== 200 && answer.status !== 201 && answer.status !== 207)
      throw failedAnswer(this.label, `batch ${action} of ${object}`, answer);
    return this.perRecord(matchField, records, JSON.parse(answer.body) as HubSpotBatchBody);
  }

  /** One result per record, in input order, from a batch answer's results and errors. */
  private perRecord(
    matchField: string,
    records: readonly SyncRecord[],
    body: HubSpotBatchBody,
  ): RecordResult[] {
    const ids = new Map<string, string>();
    for (const result of body.results ?? []) {
      const value = result.properties?.[matchField];
      if (value) ids.set(comparable(matchField, value), result.id);
    }
    const errors = new Map<string, HubSpotBatchError>();
    for (const error of body.errors ?? [])
      for (const id of error.context?.ids ?? []) errors.set(comparable(matchField, id), error);
    return records.map((record): RecordResult => {
      const key = comparable(matchField, record.key);
      const error = errors.get(key);
      if (error) {
        const sub = typeof error.subCategory === 'string' ? `.${error.subCategory}` : '';
        return {
          status: 'rejected',
          key: record.key,
          message: error.message ?? 'rejected without a message',
          code: `${error.category ?? 'ERROR'}${sub}`,
        };
      }
      const id = ids.get(key);
      if (id !== undefined) return { status: 'ok', key: record.key, destinationId: id };
      return {
        status: 'rejected',
        key: record.key,
        message: `HubSpot's answer names neither a result nor an error for ${matchField} ${record.key}`,
      };
    });
  }

  private async insert(batch: WriteBatch): Promise<RecordResult[]> {
    const existing = await this.lookup(
      batch.object,
      batch.matchField,
      batch.records.map((r) => r.key),
      batch.signal,
    );
    const fresh = batch.records.filter((r) => !existing.has(r.key));
    const created = fresh.length ? await this.sendInPieces(batch, fresh) : [];
    const byKey = new Map(created.map((r) => [r.key, r]));
    return batch.records.map(
      (r): RecordResult =>
        byKey.get(r.key) ?? {
          status: 'rejected',
          key: r.key,
          code: 'CONFLICT',
          message: `${batch.object} with ${batch.matchField} ${r.key} exists already (id ${existing.get(r.key)}); insert mode does not change existing records`,
        },
    );
  }

  private async remove(batch: WriteBatch): Promise<RecordResult[]> {
    const existing = await this.lookup(
      batch.object,
      batch.matchField,
      batch.records.map((r) => r.key),
      batch.signal,
    );
    if (existing.size > 0) {
      const inputs = [...existing.values()].map((id) => ({ id }));
      const path = `/crm/v3/objects/${encodeURIComponent(batch.object)}/batch/archive`;
      const answer = await this.call('POST', path, { inputs }, true, batch.signal);
      if (answer.status !== 204 && answer.status !== 200)
        throw failedAnswer(this.label, `batch archive of ${batch.object}`, answer);
    }
    return batch.records.map((r) => ({
      status: 'ok',
      key: r.key,
      destinationId: existing.get(r.key),
    }));
  }

  async lookup(
    object: string,
    matchField: string,
    keys: readonly string[],
    signal?: AbortSignal,
  ): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const path = `/crm/v3/objects/${encodeURIComponent(object)}/batch/read`;
    for (let start = 0; start < keys.length; start += MAX_BATCH) {
      const chunk = keys.slice(start, start + MAX_BATCH);
      const body = {
        idProperty: matchField,
        properties: [matchField],
        inputs: chunk.map((id) => ({ id })),
      };
      const answer = await this.call('POST', path, body, true, signal);
      if (answer.status !== 200 && answer.status !== 207)
        throw failedAnswer(this.label, `batch read of ${object} by ${matchField}`, answer);
      const ids = new Map<string, string>();
      for (const result of (JSON.parse(answer.body) as HubSpotBatchBody).results ?? []) {
        const value = result.properties?.[matchField];
        if (value) ids.set(comparable(matchField, value), result.id);
      }
      for (const key of chunk) {
        const id = ids.get(comparable(matchField, key));
        if (id !== undefined) found.set(key, id);
      }
    }
    return found;
  }

  async close(): Promise<void> {}
}
