// A local stand-in for HubSpot's CRM v3 objects API, so reverse-ETL syncs can be shown and tested
// against something shaped like the real thing with no account or network. It lives beside the
// template because it ships with Tributary (`npm run crm-api`), not inside each project.
//
// What it plays (https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/):
// - `GET /crm/v3/properties/{object}`: property definitions with types, `hasUniqueValue` and
//   `modificationMetadata.readOnlyValue`.
// - `POST /crm/v3/objects/{object}/batch/upsert|update|create|read|archive`, at most 100 inputs.
//   upsert and update take `{idProperty, id, properties}`; read takes `idProperty` and ids;
//   archive takes object ids (204). Batch answers are `{status: 'COMPLETE', results, startedAt,
//   completedAt}` (200/201), or 207 Multi-Status with `errors[]` (`category`, `message`,
//   `context.ids`) and `numErrors` when some inputs failed: VALIDATION_ERROR for an unknown
//   property (PROPERTY_DOESNT_EXIST), a read-only one, a value of the wrong type or an invalid
//   email (INVALID_EMAIL); OBJECT_NOT_FOUND for an update or read of a record that does not exist.
//   A create of a record whose unique value exists is refused whole (409 CONFLICT, "Existing ID"),
//   and a create with an invalid value is refused whole (400 VALIDATION_ERROR), as HubSpot does
//   for single-object validation; clients split the batch to find the bad input.
// - The rate limit of a private app, 190 requests per rolling 10 seconds by default
//   (configurable), enforced with a sliding window: over it, 429 with `Retry-After` (seconds) and
//   HubSpot's JSON (`errorType: RATE_LIMIT`, `policyName: TEN_SECONDLY_ROLLING`,
//   `category: RATE_LIMITS`). The daily cap is not played.
// - Bearer auth with one documented token, `pat-local-tributary` (a stand-in, not a secret).
// Test hooks: `throttle(seconds, requests)` answers the next requests with 429; `failNext(n)`
// answers with 502; `stats` counts requests and 429s; `GET /_standin/stats` serves them;
// `gateWrites(gate)` holds each batch write until the gate says whether it reaches the records or
// is lost with its connection (the crash tests kill a client while its requests are held).
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';

/** The one token the stand-in accepts (documented, not a secret). */
export const HUBSPOT_TEST_TOKEN = 'pat-local-tributary';

export interface PropertyDefinition {
  name: string;
  label: string;
  /** HubSpot's property types: string, number, date, datetime, enumeration, bool. */
  type: 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool';
  fieldType: string;
  hasUniqueValue: boolean;
  readOnly: boolean;
  options?: string[];
}

function prop(
  name: string,
  type: PropertyDefinition['type'],
  extra: Partial<PropertyDefinition> = {},
): PropertyDefinition {
  const fieldType = { string: 'text', number: 'number', date: 'date', datetime: 'date' }[
    type as string
  ];
  return {
    name,
    label: name.replace(/_/g, ' '),
    type,
    fieldType: fieldType ?? (type === 'bool' ? 'booleancheckbox' : 'select'),
    hasUniqueValue: false,
    readOnly: false,
    ...extra,
  };
}

const SYSTEM_PROPERTIES = [
  prop('hs_object_id', 'number', { readOnly: true, hasUniqueValue: true }),
  prop('createdate', 'datetime', { readOnly: true }),
  prop('lastmodifieddate', 'datetime', { readOnly: true }),
];

/** The objects and properties a fresh portal has (plus the lifecycle fields the template syncs). */
export function defaultProperties(): Record<string, PropertyDefinition[]> {
  return {
    contacts: [
      ...SYSTEM_PROPERTIES,
      prop('email', 'string', { hasUniqueValue: true }),
      prop('firstname', 'string'),
      prop('lastname', 'string'),
      prop('phone', 'string'),
      prop('city', 'string'),
      prop('country', 'string'),
      prop('lifecyclestage', 'enumeration', {
        options: [
          'subscriber',
          'lead',
          'marketingqualifiedlead',
          'salesqualifiedlead',
          'opportunity',
          'customer',
          'evangelist',
          'other',
        ],
      }),
      prop('customer_id', 'string', { hasUniqueValue: true }),
      prop('lifetime_value', 'number'),
      prop('order_count', 'number'),
      prop('first_order_date', 'date'),
      prop('last_order_date', 'date'),
      prop('rfm_segment', 'string'),
      prop('is_active', 'bool'),
    ],
    companies: [
      ...SYSTEM_PROPERTIES,
      prop('name', 'string'),
      prop('domain', 'string', { hasUniqueValue: true }),
      prop('city', 'string'),
      prop('country', 'string'),
      prop('industry', 'string'),
      prop('numberofemployees', 'number'),
    ],
  };
}

interface CrmObject {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

interface StoredData {
  nextId: number;
  objects: Record<string, CrmObject[]>;
}

export interface HubSpotServerOptions {
  port?: number;
  host?: string;
  /** JSON file the records are kept in between runs (read at start, written after changes). */
  dataFile?: string;
  /** Requests allowed per window (default 190 per 10 s, a private app's limit). */
  rateLimit?: { requests: number; perMs: number };
  /**
   * Requests allowed per day (HubSpot: 250,000 to 1,000,000 by tier, shared by the account's
   * apps; default 500,000). Every answer carries X-HubSpot-RateLimit-Daily and -Daily-Remaining;
   * past it, every request is answered 429 with policyName DAILY until the next UTC day.
   */
  dailyLimit?: number;
  properties?: Record<string, PropertyDefinition[]>;
}

export interface HubSpotStats {
  requests: number;
  /** Requests answered 429 because the client went over the limit. */
  rateLimited: number;
  /** Requests answered 429 because a test told the stand-in to throttle. */
  throttled: number;
  /** The most requests admitted inside any one window so far. */
  busiestWindow: number;
}

export interface HubSpotServer {
  url: string;
  stats: HubSpotStats;
  /** The records of an object (a copy), for tests. */
  records(object: string): CrmObject[];
  /** Answers the next `requests` requests with 429 and `Retry-After: seconds`. */
  throttle(seconds: number, requests: number): void;
  /** Answers the next `requests` requests with 502 Bad Gateway. */
  failNext(requests: number): void;
  resetStats(): void;
  /** Changes the enforced limit from now on (the benchmark preloads records at a high one). */
  setRateLimit(limit: { requests: number; perMs: number }): void;
  /** Changes the daily limit, and how many of today's requests are used (tests of exhaustion). */
  setDailyLimit(limit: number, used?: number): void;
  /**
   * Holds every batch write (upsert, update, create, archive) until `gate` resolves: `apply`
   * applies it and answers (to a client that may be gone), `drop` closes the connection without
   * applying it. Undefined lifts the gate.
   */
  gateWrites(gate: WriteGate | undefined): void;
  close(): Promise<void>;
}

/** Decides what becomes of one held batch write (see HubSpotServer.gateWrites). */
export type WriteGate = (write: { object: string; action: string }) => Promise<'apply' | 'drop'>;

/** The batch actions that change records (a gate holds these; reads pass). */
const WRITE_ACTIONS = new Set(['upsert', 'update', 'create', 'archive']);

/** Per-input failure collected into a 207's errors[]. */
interface InputError {
  category: 'VALIDATION_ERROR' | 'OBJECT_NOT_FOUND' | 'CONFLICT';
  message: string;
  id: string;
  subCategory?: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message));
  }
}

function errorBody(category: string, message: string, extra: Record<string, unknown> = {}) {
  return { status: 'error', message, correlationId: randomUUID(), category, ...extra };
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The records and the rules: everything but HTTP. */
class CrmStore {
  private byUnique = new Map<string, Map<string, CrmObject>>();
  private byId = new Map<string, Map<string, CrmObject>>();
  /** Per object: its unique properties, and every property by name (looked up per input). */
  private uniqueDefs = new Map<string, PropertyDefinition[]>();
  private defsByName = new Map<string, Map<string, PropertyDefinition>>();
  dirty = false;

  constructor(
    readonly properties: Record<string, PropertyDefinition[]>,
    private data: StoredData,
  ) {
    for (const [object, defs] of Object.entries(properties)) {
      this.uniqueDefs.set(
        object,
        defs.filter((d) => d.hasUniqueValue),
      );
      this.defsByName.set(object, new Map(defs.map((d) => [d.name, d])));
      data.objects[object] ??= [];
      this.byId.set(object, new Map());
      for (const record of data.objects[object]!) this.index(object, record);
    }
  }

  snapshot(): StoredData {
    return this.data;
  }

  definitions(object: string): PropertyDefinition[] {
    const defs = this.properties[object];
    if (!defs)
      throw new HttpError(
        400,
        errorBody('VALIDATION_ERROR', `Unable to infer object type from: ${object}`),
      );
    return defs;
  }

  private index(object: string, record: CrmObject): void {
    this.byId.get(object)!.set(record.id, record);
    for (const def of this.uniqueDefs.get(object)!) {
      const value = record.properties[def.name];
      if (def.hasUniqueValue && value) this.uniqueMap(object, def.name).set(value, record);
    }
  }

  private uniqueMap(object: string, property: string): Map<string, CrmObject> {
    const key = `${object}.${property}`;
    let map = this.byUnique.get(key);
    if (!map) this.byUnique.set(key, (map = new Map()));
    return map;
  }

  /** Finds a record by object id, or by a unique property's value. */
  find(object: string, id: string, idProperty?: string): CrmObject | undefined {
    if (!idProperty || idProperty === 'hs_object_id') return this.byId.get(object)!.get(id);
    return this.uniqueMap(object, idProperty).get(this.normalise(idProperty, id));
  }

  checkIdProperty(object: string, idProperty: string | undefined): void {
    if (idProperty === undefined) return;
    const def = this.definitions(object).find((d) => d.name === idProperty);
    if (!def || !def.hasUniqueValue)
      throw new HttpError(
        400,
        errorBody(
          'VALIDATION_ERROR',
          `${idProperty} is not a unique identifier property of ${object}; use one with hasUniqueValue`,
        ),
      );
  }

  private normalise(property: string, value: string): string {
    return property === 'email' ? value.trim().toLowerCase() : value;
  }

  /** Checks and converts a record's input properties; a list of problems, or the values. */
  validate(
    object: string,
    input: Record<string, unknown>,
  ): { values: Record<string, string> } | { problems: string[] } {
    this.definitions(object);
    const defs = this.defsByName.get(object)!;
    const values: Record<string, string> = {};
    const problems: string[] = [];
    for (const [name, raw] of Object.entries(input ?? {})) {
      const def = defs.get(name);
      const value = raw === null || raw === undefined ? '' : String(raw);
      const problem = !def
        ? { error: 'PROPERTY_DOESNT_EXIST', message: `Property "${name}" does not exist` }
        : def.readOnly
          ? {
              error: 'READ_ONLY_VALUE',
              message: `"${name}" is a read only property; its value cannot be set.`,
            }
          : valueProblem(def, value);
      if (problem) problems.push(JSON.stringify({ isValid: false, ...problem, name }));
      else values[name] = this.normalise(name, value);
    }
    return problems.length ? { problems } : { values };
  }

  create(object: string, values: Record<string, string>): CrmObject {
    const now = new Date().toISOString();
    const id = String(this.data.nextId++);
    const record: CrmObject = {
      id,
      properties: { ...values, hs_object_id: id, createdate: now, lastmodifieddate: now },
      createdAt: now,
      updatedAt: now,
    };
    this.data.objects[object]!.push(record);
    this.index(object, record);
    this.dirty = true;
    return record;
  }

  update(object: string, record: CrmObject, values: Record<string, string>): void {
    for (const def of this.uniqueDefs.get(object)!) {
      const old = record.properties[def.name];
      if (def.hasUniqueValue && old && def.name in values && values[def.name] !== old)
        this.uniqueMap(object, def.name).delete(old);
    }
    const now = new Date().toISOString();
    Object.assign(record.properties, values, { lastmodifieddate: now });
    record.updatedAt = now;
    this.index(object, record);
    this.dirty = true;
  }

  /** A unique value another record holds already, if any. */
  uniqueClash(
    object: string,
    values: Record<string, string>,
    self?: CrmObject,
  ): CrmObject | undefined {
    for (const def of this.uniqueDefs.get(object)!) {
      if (!def.hasUniqueValue || !values[def.name]) continue;
      const other = this.uniqueMap(object, def.name).get(values[def.name]!);
      if (other && other !== self) return other;
    }
    return undefined;
  }

  archive(object: string, id: string): void {
    const record = this.byId.get(object)!.get(id);
    if (!record) return;
    this.byId.get(object)!.delete(id);
    for (const def of this.uniqueDefs.get(object)!) {
      const value = record.properties[def.name];
      if (def.hasUniqueValue && value) this.uniqueMap(object, def.name).delete(value);
    }
    this.data.objects[object] = this.data.objects[object]!.filter((r) => r !== record);
    this.dirty = true;
  }
}

function valueProblem(
  def: PropertyDefinition,
  value: string,
): { error: string; message: string } | undefined {
  if (value === '') return undefined; // an empty string clears the property
  const bad = (what: string) => ({
    error: 'INVALID_' + def.type.toUpperCase(),
    message: `${JSON.stringify(value)} is not a valid ${what} for ${def.name}`,
  });
  if (def.name === 'email' && !EMAIL.test(value.trim()))
    return { error: 'INVALID_EMAIL', message: `Email address ${value} is invalid` };
  switch (def.type) {
    case 'number':
      return Number.isFinite(Number(value)) ? undefined : bad('number');
    case 'bool':
      return value === 'true' || value === 'false' ? undefined : bad('boolean (true or false)');
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(value) || /^\d+$/.test(value)
        ? undefined
        : bad('date (YYYY-MM-DD)');
    case 'datetime':
      return /^\d+$/.test(value) || !Number.isNaN(Date.parse(value)) ? undefined : bad('datetime');
    case 'enumeration':
      return def.options?.includes(value)
        ? undefined
        : {
            error: 'INVALID_OPTION',
            message: `${value} was not one of the allowed options: [${def.options?.join(', ')}]`,
          };
    default:
      return undefined;
  }
}

interface BatchAnswer {
  status: number;
  body?: unknown;
}

interface Input {
  id?: unknown;
  idProperty?: unknown;
  properties?: Record<string, unknown>;
}

function readInputs(body: unknown): Input[] {
  const inputs = (body as { inputs?: unknown })?.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw new HttpError(
      400,
      errorBody('VALIDATION_ERROR', 'Invalid input JSON: "inputs" must be a non-empty array'),
    );
  if (inputs.length > 100)
    throw new HttpError(
      400,
      errorBody(
        'VALIDATION_ERROR',
        `Batch input limit exceeded: ${inputs.length} inputs, at most 100 allowed`,
      ),
    );
  return inputs as Input[];
}

function noDuplicateIds(inputs: Input[]): void {
  const ids = inputs.map((i) => String(i.id ?? ''));
  const dup = ids.find((id, n) => id && ids.indexOf(id) !== n);
  if (dup !== undefined)
    throw new HttpError(
      400,
      errorBody(
        'VALIDATION_ERROR',
        `Duplicate IDs found in batch input: [${dup}]. IDs must be unique`,
      ),
    );
}

function shown(record: CrmObject, extra: Record<string, unknown> = {}) {
  return {
    id: record.id,
    properties: { ...record.properties },
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    archived: false,
    ...extra,
  };
}

function batchAnswer(
  startedAt: string,
  results: unknown[],
  errors: InputError[],
  okStatus = 200,
): BatchAnswer {
  const body: Record<string, unknown> = {
    status: 'COMPLETE',
    results,
    startedAt,
    completedAt: new Date().toISOString(),
  };
  if (errors.length === 0) return { status: okStatus, body };
  body.numErrors = errors.length;
  body.errors = errors.map((e) => ({
    status: 'error',
    category: e.category,
    ...(e.subCategory ? { subCategory: e.subCategory } : {}),
    message: e.message,
    context: { ids: [e.id] },
    errors: [],
    links: {},
  }));
  return { status: 207, body };
}

function invalidValues(problems: string[]): string {
  return `Property values were not valid: [${problems.join(',')}]`;
}

function upsert(store: CrmStore, object: string, body: unknown): BatchAnswer {
  const startedAt = new Date().toISOString();
  const inputs = readInputs(body);
  noDuplicateIds(inputs);
  const results: unknown[] = [];
  const errors: InputError[] = [];
  for (const input of inputs) {
    const id = String(input.id ?? '');
    const idProperty = String(input.idProperty ?? '');
    store.checkIdProperty(object, idProperty || 'hs_object_id');
    const checked = store.validate(object, {
      ...input.properties,
      ...(idProperty ? { [idProperty]: id } : {}),
    });
    if ('problems' in checked) {
      errors.push({ category: 'VALIDATION_ERROR', message: invalidValues(checked.problems), id });
      continue;
    }
    const existing = store.find(object, id, idProperty);
    const clash = store.uniqueClash(object, checked.values, existing);
    if (clash) {
      errors.push({
        category: 'VALIDATION_ERROR',
        subCategory: 'UNIQUE_VALUE_CONFLICT',
        message: `A record with a unique value of this input exists already. Existing ID: ${clash.id}`,
        id,
      });
      continue;
    }
    if (existing) {
      store.update(object, existing, checked.values);
      results.push(shown(existing, { new: false }));
    } else if (!idProperty) {
      errors.push({
        category: 'OBJECT_NOT_FOUND',
        message: `Object not found. objectId: ${id}`,
        id,
      });
    } else {
      results.push(shown(store.create(object, checked.values), { new: true }));
    }
  }
  return batchAnswer(startedAt, results, errors);
}

function update(store: CrmStore, object: string, body: unknown): BatchAnswer {
  const startedAt = new Date().toISOString();
  const inputs = readInputs(body);
  noDuplicateIds(inputs);
  const results: unknown[] = [];
  const errors: InputError[] = [];
  for (const input of inputs) {
    const id = String(input.id ?? '');
    const idProperty = input.idProperty === undefined ? undefined : String(input.idProperty);
    store.checkIdProperty(object, idProperty);
    const existing = store.find(object, id, idProperty);
    if (!existing) {
      errors.push({
        category: 'OBJECT_NOT_FOUND',
        message: `Object not found. ${idProperty ?? 'objectId'}: ${id}`,
        id,
      });
      continue;
    }
    const checked = store.validate(object, input.properties ?? {});
    if ('problems' in checked) {
      errors.push({ category: 'VALIDATION_ERROR', message: invalidValues(checked.problems), id });
      continue;
    }
    const clash = store.uniqueClash(object, checked.values, existing);
    if (clash) {
      errors.push({
        category: 'VALIDATION_ERROR',
        subCategory: 'UNIQUE_VALUE_CONFLICT',
        message: `Another record holds a unique value of this input. Existing ID: ${clash.id}`,
        id,
      });
      continue;
    }
    store.update(object, existing, checked.values);
    results.push(shown(existing));
  }
  return batchAnswer(startedAt, results, errors);
}

/** Creates all or none: an invalid value is a 400 and an existing unique value a 409, whole. */
function create(store: CrmStore, object: string, body: unknown): BatchAnswer {
  const startedAt = new Date().toISOString();
  const inputs = readInputs(body);
  const checked: Record<string, string>[] = [];
  const seen = new Map<string, number>();
  for (const input of inputs) {
    const result = store.validate(object, input.properties ?? {});
    if ('problems' in result)
      throw new HttpError(400, errorBody('VALIDATION_ERROR', invalidValues(result.problems)));
    const clash = store.uniqueClash(object, result.values);
    if (clash)
      throw new HttpError(
        409,
        errorBody('CONFLICT', `${singular(object)} already exists. Existing ID: ${clash.id}`),
      );
    for (const def of store.properties[object]!) {
      const value = result.values[def.name];
      if (!def.hasUniqueValue || !value) continue;
      const key = `${def.name}=${value}`;
      if (seen.has(key))
        throw new HttpError(
          400,
          errorBody('VALIDATION_ERROR', `Duplicate ${def.name} ${value} in batch input`),
        );
      seen.set(key, 1);
    }
    checked.push(result.values);
  }
  const results = checked.map((values) => shown(store.create(object, values), { new: true }));
  return batchAnswer(startedAt, results, [], 201);
}

function singular(object: string): string {
  const name = object.replace(/ies$/, 'y').replace(/s$/, '');
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function read(store: CrmStore, object: string, body: unknown): BatchAnswer {
  const startedAt = new Date().toISOString();
  const inputs = readInputs(body);
  const { idProperty, properties } = body as { idProperty?: string; properties?: string[] };
  store.checkIdProperty(object, idProperty);
  const results: unknown[] = [];
  const errors: InputError[] = [];
  for (const input of inputs) {
    const id = String(input.id ?? '');
    const record = store.find(object, id, idProperty);
    if (!record) {
      errors.push({
        category: 'OBJECT_NOT_FOUND',
        message: `Could not get some ${object} objects, they may be deleted or not exist.`,
        id,
      });
      continue;
    }
    const wanted = ['hs_object_id', 'createdate', 'lastmodifieddate', ...(properties ?? [])];
    const picked = Object.fromEntries(
      wanted.filter((p) => p in record.properties).map((p) => [p, record.properties[p]]),
    );
    results.push({ ...shown(record), properties: picked });
  }
  return batchAnswer(startedAt, results, errors);
}

function archive(store: CrmStore, object: string, body: unknown): BatchAnswer {
  for (const input of readInputs(body)) store.archive(object, String(input.id ?? ''));
  return { status: 204 };
}

const BATCH_ACTIONS: Record<
  string,
  (store: CrmStore, object: string, body: unknown) => BatchAnswer
> = {
  upsert,
  update,
  create,
  read,
  archive,
};

/** HubSpot's daily limit: requests counted per (UTC) day. */
class DailyQuota {
  private day = '';
  private used = 0;
  constructor(public limit: number) {}

  /** Counts a request; false when the day's limit was already used up. */
  take(now: Date): boolean {
    const day = now.toISOString().slice(0, 10);
    if (day !== this.day) {
      this.day = day;
      this.used = 0;
    }
    if (this.used >= this.limit) return false;
    this.used++;
    return true;
  }

  /** A new limit, and today's requests used so far (default: those counted). */
  set(limit: number, used: number | undefined, now: Date): void {
    const day = now.toISOString().slice(0, 10);
    if (day !== this.day) Object.assign(this, { day, used: 0 });
    this.limit = limit;
    if (used !== undefined) this.used = used;
  }

  headers(): Record<string, string> {
    return {
      'x-hubspot-ratelimit-daily': String(this.limit),
      'x-hubspot-ratelimit-daily-remaining': String(Math.max(0, this.limit - this.used)),
    };
  }
}

/** The sliding window the stand-in counts arrivals in. */
class ArrivalWindow {
  private arrivals: number[] = [];
  constructor(readonly limit: { requests: number; perMs: number }) {}

  /** Undefined when admitted, else the seconds until a slot opens. */
  admit(now: number, stats: HubSpotStats): number | undefined {
    while (this.arrivals.length && this.arrivals[0]! <= now - this.limit.perMs)
      this.arrivals.shift();
    if (this.arrivals.length >= this.limit.requests)
      return Math.max(1, Math.ceil((this.arrivals[0]! + this.limit.perMs - now) / 1000));
    this.arrivals.push(now);
    stats.busiestWindow = Math.max(stats.busiestWindow, this.arrivals.length);
    return undefined;
  }
}

function send(
  res: ServerResponse,
  answer: BatchAnswer,
  headers: Record<string, string> = {},
): void {
  if (answer.body === undefined) {
    res.writeHead(answer.status, headers);
    res.end();
    return;
  }
  res.writeHead(answer.status, { 'content-type': 'application/json;charset=utf-8', ...headers });
  res.end(JSON.stringify(answer.body));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(
      400,
      errorBody('VALIDATION_ERROR', `Invalid input JSON: ${(err as Error).message}`),
    );
  }
}

function route(store: CrmStore, method: string, path: string, body: unknown): BatchAnswer {
  const properties = /^\/crm\/v3\/properties\/([^/]+)\/?$/.exec(path);
  if (properties && method === 'GET') {
    const results = store.definitions(properties[1]!).map((d) => ({
      name: d.name,
      label: d.label,
      type: d.type,
      fieldType: d.fieldType,
      groupName: `${singular(properties[1]!).toLowerCase()}information`,
      hasUniqueValue: d.hasUniqueValue,
      hidden: false,
      formField: !d.readOnly,
      modificationMetadata: {
        archivable: !d.readOnly,
        readOnlyDefinition: d.readOnly,
        readOnlyValue: d.readOnly,
      },
      options: (d.options ?? []).map((value, displayOrder) => ({
        label: value,
        value,
        displayOrder,
        hidden: false,
      })),
    }));
    return { status: 200, body: { results } };
  }
  const batch = /^\/crm\/v3\/objects\/([^/]+)\/batch\/([a-z]+)$/.exec(path);
  const action = batch ? BATCH_ACTIONS[batch[2]!] : undefined;
  if (batch && action && method === 'POST') {
    store.definitions(batch[1]!);
    return action(store, batch[1]!, body);
  }
  return { status: 404, body: errorBody('OBJECT_NOT_FOUND', `No route for ${method} ${path}`) };
}

async function loadData(dataFile: string | undefined): Promise<StoredData> {
  if (!dataFile) return { nextId: 1, objects: {} };
  try {
    return JSON.parse(await readFile(dataFile, 'utf8')) as StoredData;
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return { nextId: 1, objects: {} };
    throw new Error(
      `cannot read the CRM stand-in's data file ${dataFile}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

async function saveData(dataFile: string, data: StoredData): Promise<void> {
  await mkdir(dirname(dataFile), { recursive: true });
  const temp = `${dataFile}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(data));
  await rename(temp, dataFile);
}

/** Starts the HubSpot stand-in. */
export async function startHubSpotServer(opts: HubSpotServerOptions = {}): Promise<HubSpotServer> {
  const store = new CrmStore(opts.properties ?? defaultProperties(), await loadData(opts.dataFile));
  let window = new ArrivalWindow(opts.rateLimit ?? { requests: 190, perMs: 10_000 });
  const stats: HubSpotStats = { requests: 0, rateLimited: 0, throttled: 0, busiestWindow: 0 };
  const hooks: {
    throttleRequests: number;
    throttleSeconds: number;
    failRequests: number;
    gate?: WriteGate;
  } = { throttleRequests: 0, throttleSeconds: 0, failRequests: 0 };
  const daily = new DailyQuota(opts.dailyLimit ?? 500_000);
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    stats.requests++;
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/_standin/stats') return send(res, { status: 200, body: stats });
    if (req.headers.authorization !== `Bearer ${HUBSPOT_TEST_TOKEN}`)
      return send(res, {
        status: 401,
        body: errorBody(
          'INVALID_AUTHENTICATION',
          `Authentication credentials not found. This stand-in accepts the private app token ${HUBSPOT_TEST_TOKEN}.`,
        ),
      });
    const rateLimitBody = (message: string) =>
      errorBody('RATE_LIMITS', message, {
        errorType: 'RATE_LIMIT',
        policyName: 'TEN_SECONDLY_ROLLING',
        requestId: randomUUID(),
      });
    if (!daily.take(new Date())) {
      stats.rateLimited++;
      // HubSpot's answer once the day's requests are used: no Retry-After, policyName DAILY.
      return send(
        res,
        {
          status: 429,
          body: { ...rateLimitBody('You have reached your daily limit.'), policyName: 'DAILY' },
        },
        daily.headers(),
      );
    }
    if (hooks.throttleRequests > 0) {
      hooks.throttleRequests--;
      stats.throttled++;
      return send(
        res,
        { status: 429, body: rateLimitBody('You have reached your secondly limit.') },
        { 'retry-after': String(hooks.throttleSeconds) },
      );
    }
    const retryAfter = window.admit(Date.now(), stats);
    if (retryAfter !== undefined) {
      stats.rateLimited++;
      return send(
        res,
        { status: 429, body: rateLimitBody('You have reached your ten secondly limit.') },
        { 'retry-after': String(retryAfter) },
      );
    }
    if (hooks.failRequests > 0) {
      hooks.failRequests--;
      return send(res, {
        status: 502,
        body: errorBody('INTERNAL_ERROR', 'Bad Gateway (a failure the stand-in was told to play)'),
      });
    }
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    const write = /^\/crm\/v3\/objects\/([^/]+)\/batch\/([a-z]+)$/.exec(path);
    if (hooks.gate && write && WRITE_ACTIONS.has(write[2]!)) {
      const fate = await hooks.gate({ object: write[1]!, action: write[2]! });
      if (fate === 'drop') return void req.socket.destroy();
    }
    send(res, route(store, req.method ?? 'GET', path, body), daily.headers());
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) return send(res, { status: err.status, body: err.body });
      send(res, { status: 500, body: errorBody('INTERNAL_ERROR', (err as Error).message) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const saver = opts.dataFile ? setInterval(() => void flush(), 500) : undefined;
  let saving: Promise<void> = Promise.resolve();
  const flush = () => {
    if (!opts.dataFile || !store.dirty) return saving;
    store.dirty = false;
    saving = saving.then(() => saveData(opts.dataFile!, store.snapshot()));
    return saving;
  };
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    stats,
    records: (object) => structuredClone(store.snapshot().objects[object] ?? []),
    throttle: (seconds, requests) =>
      Object.assign(hooks, { throttleSeconds: seconds, throttleRequests: requests }),
    failNext: (requests) => Object.assign(hooks, { failRequests: requests }),
    setRateLimit: (limit) => {
      window = new ArrivalWindow(limit);
    },
    setDailyLimit: (limit, used) => daily.set(limit, used, new Date()),
    gateWrites: (gate) => {
      hooks.gate = gate;
    },
    resetStats: () =>
      Object.assign(stats, { requests: 0, rateLimited: 0, throttled: 0, busiestWindow: 0 }),
    close: async () => {
      if (saver) clearInterval(saver);
      await new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      });
      await flush();
    },
  };
}
