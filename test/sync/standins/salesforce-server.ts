/**
 * A test-only stand-in for Salesforce's Bulk API 2.0 ingest, describe and query endpoints (the
 * real org cannot be reached here). Jobs run asynchronously as in Salesforce: Open -> (upload) ->
 * UploadComplete -> InProgress -> JobComplete, a few timer ticks apart, so clients must poll.
 * Rows are checked like an org would: an unknown column fails the whole job
 * (`InvalidBatch : Field name not found`), an invalid email is `INVALID_EMAIL_ADDRESS`, a missing
 * LastName on create `REQUIRED_FIELD_MISSING`, a second record with an External ID value
 * `DUPLICATE_VALUE`, an update or delete of an unknown Id `ENTITY_IS_DELETED` — each in the
 * failedResults CSV's sf__Error column. `#N/A` sets a field to null. Requests over the configured
 * limit get Salesforce's 403 REQUEST_LIMIT_EXCEEDED and are counted. `GET /jobs/ingest` lists the
 * jobs (id, object, operation, state), as Salesforce's "Get All Jobs" does; `processDelayMs` sets
 * how long a closed job takes, and `onJobClosed` tells a test the moment a job is closed (the
 * crash test kills its client then, leaving the job running).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'csv-parse/sync';
import { toCsv } from '../../../src/core/csv.js';

export const SALESFORCE_TEST_TOKEN = '00Dlocal!tributary-test-token';

interface FieldDef {
  name: string;
  type: 'id' | 'email' | 'string' | 'double' | 'date';
  externalId?: boolean;
  required?: boolean;
  readOnly?: boolean;
}

const CONTACT: FieldDef[] = [
  { name: 'Id', type: 'id', readOnly: true },
  { name: 'Email', type: 'email', externalId: true },
  { name: 'FirstName', type: 'string' },
  { name: 'LastName', type: 'string', required: true },
  { name: 'Lifetime_Value__c', type: 'double' },
  { name: 'Last_Order_Date__c', type: 'date' },
  { name: 'Segment__c', type: 'string' },
];

interface Job {
  id: string;
  object: string;
  operation: string;
  externalIdFieldName?: string;
  state: string;
  errorMessage?: string;
  csv: string;
  successful: Record<string, string>[];
  failed: Record<string, string>[];
  unprocessed: Record<string, string>[];
  columns: string[];
}

export interface SalesforceStandIn {
  url: string;
  records(object: string): Map<string, Record<string, string | null>>;
  stats: { requests: number; refused: number; jobs: number; polls: number };
  close(): Promise<void>;
}

type Row = Record<string, string>;

function rowProblem(fields: FieldDef[], row: Row, creating: boolean): string | undefined {
  for (const [name, value] of Object.entries(row)) {
    const def = fields.find((f) => f.name === name)!;
    if (value === '' || value === '#N/A') continue;
    if (def.type === 'email' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value))
      return `INVALID_EMAIL_ADDRESS:${name}: invalid email address: ${value}:${name} --`;
    if (def.type === 'double' && !Number.isFinite(Number(value)))
      return `INVALID_TYPE_ON_FIELD_IN_RECORD:${name}: value not of required type: ${value}:${name} --`;
    if (def.type === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(value))
      return `INVALID_TYPE_ON_FIELD_IN_RECORD:${name}: value not of required type: ${value}:${name} --`;
  }
  for (const def of fields)
    if (creating && def.required && !(row[def.name] && row[def.name] !== '#N/A'))
      return `REQUIRED_FIELD_MISSING:Required fields are missing: [${def.name}]:${def.name} --`;
  return undefined;
}

/** Applies one row; an sf__Error text when it fails, else the record id and whether it was new. */
function applyRow(
  job: Job,
  fields: FieldDef[],
  store: Map<string, Record<string, string | null>>,
  row: Row,
  newId: () => string,
): { error: string } | { id: string; created: boolean } {
  const ext = job.operation === 'upsert' ? job.externalIdFieldName! : 'Email';
  const findBy = (name: string, value: string) =>
    [...store.entries()].find(
      ([, r]) => (r[name] ?? '').toLowerCase() === value.toLowerCase(),
    )?.[0];
  const assign = (id: string) => {
    const record = store.get(id) ?? { Id: id };
    for (const [name, value] of Object.entries(row)) {
      if (name === 'Id' || value === '') continue;
      record[name] = value === '#N/A' ? null : value;
    }
    store.set(id, record);
  };
  if (job.operation === 'delete' || job.operation === 'update') {
    if (!row.Id || !store.has(row.Id)) return { error: 'ENTITY_IS_DELETED:entity is deleted:--' };
    if (job.operation === 'delete') {
      store.delete(row.Id);
      return { id: row.Id, created: false };
    }
  }
  const existing =
    job.operation === 'update' ? row.Id : row[ext] ? findBy(ext, row[ext]!) : undefined;
  const problem = rowProblem(
    fields,
    Object.fromEntries(Object.entries(row).filter(([k]) => k !== 'Id')),
    !existing,
  );
  if (problem) return { error: problem };
  if (job.operation === 'insert' && existing)
    return {
      error: `DUPLICATE_VALUE:duplicate value found: ${ext} duplicates value on record with id: ${existing}:--`,
    };
  const clash = row[ext] && row[ext] !== '#N/A' ? findBy(ext, row[ext]!) : undefined;
  if (clash && existing && clash !== existing)
    return {
      error: `DUPLICATE_VALUE:duplicate value found: ${ext} duplicates value on record with id: ${clash}:--`,
    };
  const id = existing ?? newId();
  assign(id);
  return { id, created: !existing };
}

function processJob(
  job: Job,
  objects: Map<string, Map<string, Record<string, string | null>>>,
  newId: () => string,
): void {
  const fields = CONTACT;
  const rows = parse(job.csv, { columns: true, skip_empty_lines: true }) as Row[];
  job.columns = job.csv.split('\n')[0]!.split(',');
  const unknown = job.columns.find((c) => !fields.some((f) => f.name === c));
  if (unknown) {
    job.state = 'Failed';
    job.errorMessage = `InvalidBatch : Field name not found : ${unknown}`;
    job.unprocessed = rows;
    return;
  }
  const store = objects.get(job.object)!;
  for (const row of rows) {
    const outcome = applyRow(job, fields, store, row, newId);
    if ('error' in outcome) job.failed.push({ sf__Id: '', sf__Error: outcome.error, ...row });
    else job.successful.push({ sf__Id: outcome.id, sf__Created: String(outcome.created), ...row });
  }
  job.state = 'JobComplete';
}

export interface SalesforceStandInOptions {
  rateLimit?: { requests: number; perMs: number };
  /** How long a closed job waits in each of UploadComplete and InProgress (default 15 ms). */
  processDelayMs?: number;
  /** Called when a client closes a job (state UploadComplete). */
  onJobClosed?: (jobId: string) => void;
}

export async function startSalesforceStandIn(
  opts: SalesforceStandInOptions = {},
): Promise<SalesforceStandIn> {
  const objects = new Map([['Contact', new Map<string, Record<string, string | null>>()]]);
  const jobs = new Map<string, Job>();
  const stats = { requests: 0, refused: 0, jobs: 0, polls: 0 };
  const arrivals: number[] = [];
  const limit = opts.rateLimit ?? { requests: 1000, perMs: 1000 };
  let serial = 0;
  // 18-character ids: a 15-character case-sensitive id and a 3-character checksum suffix.
  const newId = () => `003${String(++serial).padStart(12, '0')}AAA`;
  const send = (res: ServerResponse, status: number, body?: unknown, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type });
    res.end(
      body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    );
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    stats.requests++;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    if (req.headers.authorization !== `Bearer ${SALESFORCE_TEST_TOKEN}`)
      return send(res, 401, [
        { message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' },
      ]);
    const now = Date.now();
    while (arrivals.length && arrivals[0]! <= now - limit.perMs) arrivals.shift();
    if (arrivals.length >= limit.requests) {
      stats.refused++;
      return send(res, 403, [
        { message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' },
      ]);
    }
    arrivals.push(now);
    const path = url.pathname.replace(/^\/services\/data\/v\d+\.\d+/, '');
    const describe = /^\/sobjects\/(\w+)\/describe$/.exec(path);
    if (describe && req.method === 'GET') {
      if (!objects.has(describe[1]!))
        return send(res, 404, [
          { errorCode: 'NOT_FOUND', message: `The requested resource does not exist` },
        ]);
      return send(res, 200, {
        name: describe[1],
        fields: CONTACT.map((f) => ({
          name: f.name,
          type: f.type,
          externalId: !!f.externalId,
          unique: false,
          createable: !f.readOnly,
          updateable: !f.readOnly,
          nillable: !f.required,
        })),
      });
    }
    if (path === '/query' && req.method === 'GET')
      return query(url.searchParams.get('q') ?? '', objects, res, send);
    return routeJob(req.method ?? 'GET', path, raw, res, {
      objects,
      jobs,
      stats,
      newId,
      send,
      delayMs: opts.processDelayMs ?? 15,
      onJobClosed: opts.onJobClosed,
    });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) =>
      send(res, 500, [{ errorCode: 'UNKNOWN_EXCEPTION', message: String(err) }]),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    records: (object) => objects.get(object) ?? new Map(),
    stats,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** The one SOQL shape the adapter sends: SELECT Id, F FROM O WHERE F IN ('a', 'b'). */
function query(
  soql: string,
  objects: Map<string, Map<string, Record<string, string | null>>>,
  res: ServerResponse,
  send: (res: ServerResponse, status: number, body?: unknown) => void,
): void {
  const m = /^SELECT Id, (\w+) FROM (\w+) WHERE (\w+) IN \((.*)\)$/s.exec(soql.trim());
  if (!m || m[1] !== m[3] || !objects.has(m[2]!))
    return send(res, 400, [
      { errorCode: 'MALFORMED_QUERY', message: `the stand-in cannot read this query: ${soql}` },
    ]);
  const values = [...m[4]!.matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((v) =>
    v[1]!.replace(/\\(.)/g, '$1').toLowerCase(),
  );
  const field = m[1]!;
  const records = [...objects.get(m[2]!)!.values()]
    .filter((r) => values.includes((r[field] ?? '').toLowerCase()))
    .map((r) => ({
      attributes: { type: m[2], url: `/services/data/v62.0/sobjects/${m[2]}/${r.Id}` },
      Id: r.Id,
      [field]: r[field],
    }));
  send(res, 200, { totalSize: records.length, done: true, records });
}

interface JobContext {
  objects: Map<string, Map<string, Record<string, string | null>>>;
  jobs: Map<string, Job>;
  stats: SalesforceStandIn['stats'];
  newId: () => string;
  send: (res: ServerResponse, status: number, body?: unknown, type?: string) => void;
  delayMs: number;
  onJobClosed?: (jobId: string) => void;
}

/** The ingest job endpoints: create, upload, close/abort, poll and the three result sets. */
function routeJob(
  method: string,
  path: string,
  raw: string,
  res: ServerResponse,
  ctx: JobContext,
): void {
  const { objects, jobs, stats, newId, send } = ctx;
  if (path === '/jobs/ingest' && method === 'GET')
    return send(res, 200, {
      done: true,
      records: [...jobs.values()].map((j) => ({
        id: j.id,
        object: j.object,
        operation: j.operation,
        state: j.state,
        jobType: 'V2Ingest',
      })),
      nextRecordsUrl: null,
    });
  if (path === '/jobs/ingest' && method === 'POST') {
    const spec = JSON.parse(raw) as Partial<Job> & { contentType?: string; lineEnding?: string };
    if (!objects.has(spec.object ?? ''))
      return send(res, 400, [
        {
          errorCode: 'INVALIDJOB',
          message: `InvalidJob : Unable to find object: ${spec.object}`,
        },
      ]);
    if (
      spec.operation === 'upsert' &&
      !CONTACT.some((f) => f.externalId && f.name === spec.externalIdFieldName)
    )
      return send(res, 400, [
        {
          errorCode: 'INVALIDJOB',
          message: `InvalidJob : Field name provided, ${spec.externalIdFieldName} does not match an External ID, Salesforce Id, or indexed field for ${spec.object}`,
        },
      ]);
    const id = `750${String(++stats.jobs).padStart(12, '0')}AAA`;
    const job: Job = {
      id,
      object: spec.object!,
      operation: spec.operation!,
      externalIdFieldName: spec.externalIdFieldName,
      state: 'Open',
      csv: '',
      successful: [],
      failed: [],
      unprocessed: [],
      columns: [],
    };
    jobs.set(id, job);
    return send(res, 200, {
      id,
      object: job.object,
      operation: job.operation,
      state: 'Open',
      contentType: 'CSV',
      lineEnding: spec.lineEnding ?? 'LF',
      contentUrl: `services/data/v62.0/jobs/ingest/${id}/batches`,
    });
  }
  const jobPath =
    /^\/jobs\/ingest\/(\w+)(?:\/(batches|successfulResults|failedResults|unprocessedrecords))?\/?$/.exec(
      path,
    );
  const job = jobPath ? jobs.get(jobPath[1]!) : undefined;
  if (!jobPath || !job)
    return send(res, 404, [
      { errorCode: 'NOT_FOUND', message: `The requested resource does not exist` },
    ]);
  const part = jobPath[2];
  if (part === 'batches' && method === 'PUT') {
    if (job.state !== 'Open' || job.csv)
      return send(res, 409, [
        { errorCode: 'INVALIDJOBSTATE', message: 'Found multiple contents for job' },
      ]);
    job.csv = raw;
    return send(res, 201);
  }
  if (!part && method === 'PATCH') {
    const { state } = JSON.parse(raw) as { state: string };
    if (state === 'UploadComplete' && job.state === 'Open') {
      job.state = 'UploadComplete';
      setTimeout(() => {
        job.state = 'InProgress';
        setTimeout(() => processJob(job, objects, newId), ctx.delayMs);
      }, ctx.delayMs);
      ctx.onJobClosed?.(job.id);
    } else if (state === 'Aborted') job.state = 'Aborted';
    return send(res, 200, {
      id: job.id,
      state: job.state,
      object: job.object,
      operation: job.operation,
    });
  }
  if (!part && method === 'GET') {
    stats.polls++;
    return send(res, 200, {
      id: job.id,
      state: job.state,
      errorMessage: job.errorMessage,
      numberRecordsProcessed: job.successful.length + job.failed.length,
      numberRecordsFailed: job.failed.length,
    });
  }
  if (part && method === 'GET') {
    const [rows, head] =
      part === 'successfulResults'
        ? [job.successful, ['sf__Id', 'sf__Created']]
        : part === 'failedResults'
          ? [job.failed, ['sf__Id', 'sf__Error']]
          : [job.unprocessed, []];
    return send(res, 200, toCsv([...head, ...job.columns], rows), 'text/csv');
  }
  return send(res, 405, [{ errorCode: 'METHOD_NOT_ALLOWED', message: `${method} not allowed` }]);
}
