/**
 * The destinations the conformance suite runs, each with the stand-in (or real database) it runs
 * against and a way to read what that destination holds without going through the adapter.
 */
import pg from 'pg';
import type { SyncDestination, SyncRecord } from '../../src/sync/destination.js';
import { PostgresDestination } from '../../src/sync/destinations/postgres.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { freshPostgresDatabase } from './support.js';
import { HubSpotDestination } from '../../src/sync/destinations/hubspot.js';
import { SalesforceDestination } from '../../src/sync/destinations/salesforce.js';
import { SALESFORCE_TEST_TOKEN, startSalesforceStandIn } from './standins/salesforce-server.js';
import { WebhookDestination } from '../../src/sync/destinations/webhook.js';
import { startWebhookReceiver } from './standins/webhook-receiver.js';
import {
  HUBSPOT_TEST_TOKEN,
  startHubSpotServer,
} from '../../templates/ecommerce/crm/hubspot-server.js';

type Fields = SyncRecord['fields'];

export interface OpenedHarness {
  destination: SyncDestination;
  /** The record the destination holds for a key (its fields as text), or undefined. */
  read(key: string): Promise<Record<string, unknown> | undefined>;
  /** How many records the destination holds. */
  count(): Promise<number>;
  /** Requests the stand-in refused for going over its limit (paced harnesses). */
  refusals?(): number;
  /** Tells the stand-in to answer the next `requests` requests with 429 + Retry-After. */
  throttle?(seconds: number, requests: number): void;
  /** Requests answered 429 because of `throttle`. */
  throttled?(): number;
  teardown(): Promise<void>;
}

export interface Harness {
  name: string;
  object: string;
  matchField: string;
  /** A match key built from a unique label. */
  keyFor(label: string): string;
  /** Fields of a good record, varying with n. */
  fields(key: string, n: number): Fields;
  /** What the destination holds after writing `fields(key, n)`. */
  expected(key: string, n: number): Record<string, unknown>;
  /** A record the destination refuses, and what its message says. */
  invalidRecord(label: string): SyncRecord;
  invalidMessage: RegExp;
  /** The stand-in's limit the adapter is configured with, when the stand-in enforces one. */
  paced?: { requests: number };
  canThrottle?: boolean;
  open(): Promise<OpenedHarness>;
}

const hubspot: Harness = {
  name: 'hubspot (stand-in)',
  object: 'contacts',
  matchField: 'email',
  keyFor: (label) => `${label}@example.com`,
  fields: (_key, n) => ({
    firstname: `First${n}`,
    lifetime_value: n * 10.5,
    rfm_segment: `seg${n}`,
  }),
  expected: (_key, n) => ({ firstname: `First${n}`, lifetime_value: String(n * 10.5) }),
  invalidRecord: (label) => ({ key: `${label}-without-at`, fields: { firstname: 'Bad' } }),
  invalidMessage: /INVALID_EMAIL|Email address .* is invalid/,
  paced: { requests: 45 },
  canThrottle: true,
  async open() {
    const limit = { requests: 20, perMs: 1000 };
    const server = await startHubSpotServer({ rateLimit: limit });
    const destination = new HubSpotDestination({
      name: 'crm',
      baseUrl: server.url,
      token: HUBSPOT_TEST_TOKEN,
      rateLimit: limit,
    });
    const find = (key: string) =>
      server.records('contacts').find((r) => r.properties.email === key.toLowerCase());
    return {
      destination,
      read: async (key) => find(key)?.properties,
      count: async () => server.records('contacts').length,
      refusals: () => server.stats.rateLimited,
      throttle: (seconds, requests) => server.throttle(seconds, requests),
      throttled: () => server.stats.throttled,
      teardown: () => server.close(),
    };
  },
};

const webhook: Harness = {
  name: 'webhook (signed JSON, receiver stand-in)',
  object: 'contacts',
  matchField: 'email',
  keyFor: (label) => `${label}@example.com`,
  fields: (_key, n) => ({ firstname: `First${n}`, lifetime_value: n * 10.5 }),
  expected: (_key, n) => ({ firstname: `First${n}`, lifetime_value: n * 10.5 }),
  invalidRecord: (label) => ({ key: `${label}-without-at`, fields: { firstname: 'Bad' } }),
  invalidMessage: /invalid email/,
  paced: { requests: 45 },
  canThrottle: true,
  async open() {
    const limit = { requests: 20, perMs: 1000 };
    const secret = 'conformance-signing-secret';
    const receiver = await startWebhookReceiver({ secret, rateLimit: limit });
    const destination = new WebhookDestination({
      name: 'hook',
      url: receiver.url,
      secret,
      rateLimit: limit,
      fields: [
        { name: 'email', unique: true },
        'firstname',
        { name: 'lifetime_value', type: 'number' },
      ],
    });
    return {
      destination,
      read: async (key) => receiver.records('contacts').get(key),
      count: async () => receiver.records('contacts').size,
      refusals: () => receiver.stats.rateLimited + receiver.stats.badSignatures,
      throttle: (seconds, requests) => receiver.throttle(seconds, requests),
      throttled: () => receiver.stats.throttled,
      teardown: () => receiver.close(),
    };
  },
};

const salesforce: Harness = {
  name: 'salesforce bulk api 2.0 (stand-in)',
  object: 'Contact',
  matchField: 'Email',
  keyFor: (label) => `${label}@example.com`,
  fields: (_key, n) => ({
    FirstName: `First${n}`,
    LastName: `Last${n}`,
    Lifetime_Value__c: n * 10.5,
  }),
  expected: (_key, n) => ({ FirstName: `First${n}`, Lifetime_Value__c: String(n * 10.5) }),
  invalidRecord: (label) => ({ key: `${label}-without-at`, fields: { LastName: 'Bad' } }),
  invalidMessage: /^INVALID_EMAIL_ADDRESS:Email: invalid email address/,
  // Each write is a whole job (create, upload, close, polls, three result reads).
  paced: { requests: 8 },
  async open() {
    const limit = { requests: 30, perMs: 1000 };
    const standIn = await startSalesforceStandIn({ rateLimit: limit });
    const destination = new SalesforceDestination({
      name: 'sf',
      instanceUrl: standIn.url,
      token: SALESFORCE_TEST_TOKEN,
      rateLimit: limit,
      pollIntervalMs: 20,
    });
    const find = (key: string) =>
      [...standIn.records('Contact').values()].find(
        (r) => (r.Email ?? '').toLowerCase() === key.toLowerCase(),
      );
    return {
      destination,
      read: async (key) => find(key),
      count: async () => standIn.records('Contact').size,
      refusals: () => standIn.stats.refused,
      teardown: () => standIn.close(),
    };
  },
};

/** The real PostgreSQL (a throwaway database); a CHECK plays the CRM's email validation. */
const postgres: Harness = {
  name: 'postgres (real)',
  object: 'contacts',
  matchField: 'email',
  keyFor: (label) => `${label}@example.com`,
  fields: (_key, n) => ({ firstname: `First${n}`, lifetime_value: n * 10.5 }),
  expected: (_key, n) => ({ firstname: `First${n}`, lifetime_value: String(n * 10.5) }),
  invalidRecord: (label) => ({ key: `${label}-without-at`, fields: { firstname: 'Bad' } }),
  invalidMessage: /contacts_email_check/,
  async open() {
    const db = await freshPostgresDatabase('syncconf');
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query(`CREATE TABLE contacts (
      email text PRIMARY KEY CONSTRAINT contacts_email_check CHECK (email LIKE '%@%'),
      firstname text,
      lifetime_value numeric)`);
    const destination = new PostgresDestination({ url: db.url });
    return {
      destination,
      read: async (key) =>
        (
          await client.query(
            `SELECT firstname, lifetime_value::text AS lifetime_value FROM contacts WHERE email = $1`,
            [key],
          )
        ).rows[0],
      count: async () =>
        Number((await client.query(`SELECT count(*) AS n FROM contacts`)).rows[0].n),
      teardown: async () => {
        await client.end();
        await db.drop();
      },
    };
  },
};

// PostgreSQL joins when the service is up (CI has it); the HTTP stand-ins always run.
export const harnesses: Harness[] = [
  hubspot,
  webhook,
  salesforce,
  ...((await serviceAvailable('postgres', postgresTestUrl)) ? [postgres] : []),
];
