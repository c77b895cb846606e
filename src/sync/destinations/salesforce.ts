/**
 * Salesforce Bulk API 2.0 ingest as a sync destination
 * (https://developer.salesforce.com/docs/platform/api-asynch/guide/bulk-api-2-0-ingest.html).
 *
 * One write is one ingest job: `POST /services/data/vXX.X/jobs/ingest` (object, operation,
 * externalIdFieldName for upserts, contentType CSV, lineEnding LF), `PUT …/jobs/ingest/{id}/batches`
 * with the CSV, `PATCH …/jobs/ingest/{id}` state UploadComplete, then `GET …/jobs/ingest/{id}`
 * polled with backoff until JobComplete, Failed or Aborted, then the three result sets:
 * `successfulResults/` (sf__Id, sf__Created, the row), `failedResults/` (sf__Id, sf__Error, the
 * row) and `unprocessedrecords/` (the row). Each record's result is found by its key column in
 * those rows; a failed row keeps Salesforce's sf__Error as its message.
 *
 * - upsert: operation upsert by the match field, which must be an External ID field.
 * - update and delete need record Ids: a SOQL query (`/query?q=SELECT Id, <match> FROM <object>
 *   WHERE <match> IN (…)`) finds them; keys it does not find are rejected (update) or already gone
 *   (delete, ok).
 * - insert: the same query first; existing keys are rejected, the rest inserted.
 * - describe: `GET /services/data/vXX.X/sobjects/{object}/describe`.
 * - settle (before a crash recovery looks keys up): `GET …/jobs/ingest` lists the org's ingest
 *   jobs; those on the object that are closed but not finished (UploadComplete, InProgress) are
 *   polled until they end. A run killed after closing its job leaves the job running in
 *   Salesforce; looking its keys up before it ends would miss them and insert them a second time.
 * - Auth: an OAuth access token as `Authorization: Bearer`.
 * Salesforce documents a daily request allocation rather than a per-second rate; the adapter paces
 * to 25 requests a second unless configured, and polls count against it.
 */
import { parse } from 'csv-parse/sync';
import { TributaryError, toCsv } from '../../core/index.js';
import type {
  DestinationCapabilities,
  DestinationField,
  RecordResult,
  SyncDestination,
  SyncRecord,
  WaitListener,
  WriteBatch,
  WriteOperation,
} from '../destination.js';
import type { PacedHttpClient } from '../rate-limit.js';
import {
  destinationHttp,
  failedAnswer,
  requestsPerSecond,
  systemClock,
  type Clock,
  type HttpAnswer,
  type RateLimit,
} from '../rate-limit.js';

export interface SalesforceOptions {
  name: string;
  /** The org's instance URL, e.g. https://mydomain.my.salesforce.com. */
  instanceUrl: string;
  /** An OAuth access token. */
  token: string;
  /** Default 62.0. */
  apiVersion?: string;
  /** Default 25 requests per second. */
  rateLimit?: RateLimit;
  /** Records per job (default 10,000; Bulk API 2.0 takes up to 150 MB of CSV a job). */
  maxBatch?: number;
  /** First wait between job polls (default 500 ms), doubling up to `maxPollIntervalMs` (10 s). */
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
  /** Longest a job may take before the write fails (default 30 minutes). */
  jobTimeoutMs?: number;
  retries?: number;
  /** One request's longest wait for an answer (default 30 s). */
  timeoutMs?: number;
  onWait?: WaitListener;
  clock?: Clock;
}

export const SALESFORCE_DEFAULT_LIMIT: RateLimit = { requests: 25, perMs: 1000 };

interface JobInfo {
  id: string;
  state: string;
  object?: string;
  errorMessage?: string;
  numberRecordsProcessed?: number;
  numberRecordsFailed?: number;
}

interface JobResults {
  state: string;
  errorMessage?: string;
  successful: Record<string, string>[];
  failed: Record<string, string>[];
  unprocessed: Record<string, string>[];
}

const FINAL_STATES = new Set(['JobComplete', 'Failed', 'Aborted']);

/** Bulk API 2.0 sets a field to null with #N/A; an empty field leaves it as it is. */
function csvValue(value: SyncRecord['fields'][string] | undefined): string | number | boolean {
  return value === null || value === undefined ? '#N/A' : value;
}

/** SOQL string literal. */
function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export class SalesforceDestination implements SyncDestination {
  readonly type = 'salesforce';
  readonly capabilities: DestinationCapabilities;
  private readonly http: PacedHttpClient;
  private readonly base: string;
  private readonly clock: Clock;

  constructor(private readonly options: SalesforceOptions) {
    const limit = options.rateLimit ?? SALESFORCE_DEFAULT_LIMIT;
    this.clock = options.clock ?? systemClock;
    this.base = `${options.instanceUrl.replace(/\/+$/, '')}/services/data/v${options.apiVersion ?? '62.0'}`;
    this.capabilities = {
      maxBatch: options.maxBatch ?? 10_000,
      operations: ['upsert', 'update', 'insert', 'delete'],
      maxRequestsPerSecond: requestsPerSecond(limit),
    };
    this.http = destinationHttp('salesforce', options, limit);
  }

  setWaitListener(listener: WaitListener | undefined): void {
    this.http.setWaitListener(listener);
  }

  private get label(): string {
    return `salesforce destination ${this.options.name}`;
  }

  private call(
    method: string,
    path: string,
    body: { json: unknown } | { csv: string } | undefined,
    idempotent: boolean,
    signal?: AbortSignal,
  ): Promise<HttpAnswer> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.token}` };
    let text: string | undefined;
    if (body && 'json' in body) {
      headers['content-type'] = 'application/json';
      text = JSON.stringify(body.json);
    } else if (body) {
      headers['content-type'] = 'text/csv';
      text = body.csv;
    }
    const url = path.startsWith('/services/')
      ? `${new URL(this.base).origin}${path}`
      : `${this.base}${path}`;
    return this.http.send(url, { method, headers, body: text, idempotent, signal });
  }

  private expect(answer: HttpAnswer, ok: number[], what: string): HttpAnswer {
    if (!ok.includes(answer.status)) throw failedAnswer(this.label, what, answer);
    return answer;
  }

  async describe(object: string): Promise<DestinationField[]> {
    const answer = this.expect(
      await this.call('GET', `/sobjects/${encodeURIComponent(object)}/describe`, undefined, true),
      [200],
      `describing ${object}`,
    );
    const { fields } = JSON.parse(answer.body) as {
      fields: {
        name: string;
        type: string;
        unique?: boolean;
        externalId?: boolean;
        createable?: boolean;
        updateable?: boolean;
      }[];
    };
    return fields.map((f) => ({
      name: f.name,
      type: f.type,
      // An upsert key must be an External ID field; Id identifies every record.
      unique: f.externalId === true || f.name === 'Id',
      readOnly: f.createable === false && f.updateable === false,
    }));
  }

  async write(batch: WriteBatch): Promise<RecordResult[]> {
    if (batch.records.length > this.capabilities.maxBatch)
      throw new TributaryError(
        `${this.label}: a job holds at most ${this.capabilities.maxBatch} records (got ${batch.records.length})`,
        { code: 'INTERNAL' },
      );
    if (batch.records.length === 0) return [];
    if (batch.operation === 'upsert') return this.job(batch, batch.records, new Map());
    const keys = batch.records.map((r) => r.key);
    const ids = await this.lookup(batch.object, batch.matchField, keys, batch.signal);
    const results = new Map<string, RecordResult>();
    let send: SyncRecord[];
    if (batch.operation === 'insert') {
      send = batch.records.filter((r) => !ids.has(r.key));
      for (const r of batch.records)
        if (ids.has(r.key))
          results.set(r.key, {
            status: 'rejected',
            key: r.key,
            code: 'DUPLICATE_VALUE',
            message: `${batch.object} with ${batch.matchField} ${r.key} exists already (Id ${ids.get(r.key)}); insert mode does not change existing records`,
          });
    } else {
      send = batch.records.filter((r) => ids.has(r.key));
      for (const r of batch.records)
        if (!ids.has(r.key))
          results.set(
            r.key,
            batch.operation === 'delete'
              ? { status: 'ok', key: r.key }
              : {
                  status: 'rejected',
                  key: r.key,
                  code: 'NOT_FOUND',
                  message: `no ${batch.object} with ${batch.matchField} ${r.key}; update mode does not create records`,
                },
          );
    }
    const sent = send.length ? await this.job(batch, send, ids) : [];
    for (const r of sent) results.set(r.key, r);
    return batch.records.map((r) => results.get(r.key)!);
  }

  /** Runs one ingest job over `records` and maps its result rows back to them. */
  private async job(
    batch: WriteBatch,
    records: readonly SyncRecord[],
    ids: Map<string, string>,
  ): Promise<RecordResult[]> {
    const byId = batch.operation === 'update' || batch.operation === 'delete';
    const keyColumn = byId ? 'Id' : batch.matchField;
    const columns = [keyColumn];
    if (batch.operation !== 'delete') {
      if (batch.operation === 'update') columns.push(batch.matchField);
      for (const r of records)
        for (const name of Object.keys(r.fields)) if (!columns.includes(name)) columns.push(name);
    }
    const rows = records.map((r) => {
      const row: Record<string, unknown> = {};
      for (const c of columns)
        row[c] =
          c === 'Id' && byId
            ? ids.get(r.key)
            : c === batch.matchField
              ? r.key
              : csvValue(r.fields[c]);
      return row;
    });
    const outcome = await this.runJob(
      batch.object,
      batch.operation,
      batch.matchField,
      toCsv(columns, rows),
      batch.signal,
    );
    // Result rows echo the Id as sent; its 15-character form names the same record.
    const keyById = new Map<string, string>();
    for (const [key, id] of ids) keyById.set(id, key).set(id.slice(0, 15), key);
    const keyOf = (row: Record<string, string>) => {
      const value = row[keyColumn] ?? '';
      return byId ? (keyById.get(value) ?? keyById.get(value.slice(0, 15)) ?? value) : value;
    };
    const found = new Map<string, RecordResult>();
    for (const row of outcome.successful)
      found.set(keyOf(row), {
        status: 'ok',
        key: keyOf(row),
        destinationId: row.sf__Id || undefined,
      });
    for (const row of outcome.failed)
      found.set(keyOf(row), {
        status: 'rejected',
        key: keyOf(row),
        message: row.sf__Error ?? 'failed without sf__Error',
        code: row.sf__Error?.split(':')[0],
      });
    const why = `the ${batch.operation} job ended ${outcome.state}${outcome.errorMessage ? `: ${outcome.errorMessage}` : ''} before processing this record`;
    return records.map(
      (r): RecordResult =>
        found.get(r.key) ??
        found.get(r.key.toLowerCase()) ?? {
          status: 'rejected',
          key: r.key,
          message: why,
          code: outcome.state,
        },
    );
  }

  private async runJob(
    object: string,
    operation: WriteOperation,
    matchField: string,
    csv: string,
    signal?: AbortSignal,
  ): Promise<JobResults> {
    const created = this.expect(
      await this.call(
        'POST',
        '/jobs/ingest',
        {
          json: {
            object,
            operation,
            ...(operation === 'upsert' ? { externalIdFieldName: matchField } : {}),
            contentType: 'CSV',
            columnDelimiter: 'COMMA',
            lineEnding: 'LF',
          },
        },
        // A job created twice is harmless: the spare stays Open, empty, and expires.
        true,
        signal,
      ),
      [200, 201],
      `creating a ${operation} job on ${object}`,
    );
    const job = JSON.parse(created.body) as JobInfo;
    const path = `/jobs/ingest/${job.id}`;
    // One upload per job: sending it twice could double the rows, so it is not retried blindly.
    this.expect(
      await this.call('PUT', `${path}/batches`, { csv }, false, signal),
      [201, 200],
      `uploading job ${job.id}'s CSV`,
    );
    this.expect(
      await this.call('PATCH', path, { json: { state: 'UploadComplete' } }, true, signal),
      [200],
      `closing job ${job.id}`,
    );
    const final = await this.poll(path, job.id, signal);
    const read = async (kind: string) => {
      const answer = this.expect(
        await this.call('GET', `${path}/${kind}/`, undefined, true, signal),
        [200],
        `reading job ${job.id}'s ${kind}`,
      );
      return answer.body.trim()
        ? (parse(answer.body, {
            columns: true,
            skip_empty_lines: true,
            relax_column_count: true,
          }) as Record<string, string>[])
        : [];
    };
    return {
      state: final.state,
      errorMessage: final.errorMessage,
      successful: await read('successfulResults'),
      failed: await read('failedResults'),
      unprocessed: await read('unprocessedrecords'),
    };
  }

  private async poll(path: string, id: string, signal?: AbortSignal): Promise<JobInfo> {
    const first = this.options.pollIntervalMs ?? 500;
    const max = this.options.maxPollIntervalMs ?? 10_000;
    const deadline = this.clock.now() + (this.options.jobTimeoutMs ?? 30 * 60_000);
    for (let wait = first; ; wait = Math.min(max, wait * 2)) {
      const info = JSON.parse(
        this.expect(
          await this.call('GET', path, undefined, true, signal),
          [200],
          `polling job ${id}`,
        ).body,
      ) as JobInfo;
      if (FINAL_STATES.has(info.state)) return info;
      if (this.clock.now() + wait > deadline)
        throw new TributaryError(
          `${this.label}: job ${id} is still ${info.state} after ${Math.round((this.options.jobTimeoutMs ?? 1_800_000) / 1000)} s`,
          {
            code: 'UNAVAILABLE',
            transient: true,
            hint: 'the job keeps running in Salesforce; the next run finds its records through lookup',
          },
        );
      if (wait >= 2000) this.http.reportWait(wait, `${this.label}: job ${id} is ${info.state}`);
      await this.clock.sleep(wait, signal);
    }
  }

  async settle(object: string, signal?: AbortSignal): Promise<void> {
    let next: string | null | undefined = '/jobs/ingest';
    const running: string[] = [];
    while (next) {
      const page = JSON.parse(
        this.expect(
          await this.call('GET', next, undefined, true, signal),
          [200],
          'listing ingest jobs',
        ).body,
      ) as { records?: JobInfo[]; nextRecordsUrl?: string | null };
      for (const job of page.records ?? [])
        if (job.object === object && (job.state === 'UploadComplete' || job.state === 'InProgress'))
          running.push(job.id);
      next = page.nextRecordsUrl;
    }
    for (const id of running) await this.poll(`/jobs/ingest/${id}`, id, signal);
  }

  async lookup(
    object: string,
    matchField: string,
    keys: readonly string[],
    signal?: AbortSignal,
  ): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const wanted = new Map(keys.map((k) => [k.toLowerCase(), k]));
    for (let start = 0; start < keys.length; start += 100) {
      const chunk = keys.slice(start, start + 100);
      const soql = `SELECT Id, ${matchField} FROM ${object} WHERE ${matchField} IN (${chunk.map(soqlString).join(', ')})`;
      let next: string | undefined = `/query?q=${encodeURIComponent(soql)}`;
      while (next) {
        const answer = this.expect(
          await this.call('GET', next, undefined, true, signal),
          [200],
          `looking up ${object} by ${matchField}`,
        );
        const page = JSON.parse(answer.body) as {
          records: Record<string, unknown>[];
          nextRecordsUrl?: string;
        };
        for (const record of page.records) {
          const value = String(record[matchField] ?? '');
          const key = chunk.includes(value) ? value : wanted.get(value.toLowerCase());
          if (key !== undefined) found.set(key, String(record.Id));
        }
        next = page.nextRecordsUrl;
      }
    }
    return found;
  }

  async close(): Promise<void> {}
}
