/**
 * The HubSpot stand-in's shapes (the real API cannot be reached here, so these pin the stand-in
 * to the documented ones): 207 with errors[].context.ids, PROPERTY_DOESNT_EXIST, the 429 body and
 * Retry-After, records kept in the data file; and the adapter retrying a 502 from it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HubSpotDestination } from '../../src/sync/destinations/hubspot.js';
import {
  HUBSPOT_TEST_TOKEN,
  startHubSpotServer,
} from '../../templates/ecommerce/crm/hubspot-server.js';

const dir = mkdtempSync(join(tmpdir(), 'hubspot-standin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const post = (url: string, body: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${HUBSPOT_TEST_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('HubSpot stand-in', () => {
  it('answers a partly invalid upsert with 207, errors naming their inputs in context.ids', async () => {
    const server = await startHubSpotServer();
    try {
      const answer = await post(`${server.url}/crm/v3/objects/contacts/batch/upsert`, {
        inputs: [
          { idProperty: 'email', id: 'ok@example.com', properties: { firstname: 'A' } },
          { idProperty: 'email', id: 'x@example.com', properties: { favourite_colour: 'red' } },
          { idProperty: 'email', id: 'y@example.com', properties: { lifetime_value: 'lots' } },
        ],
      });
      expect(answer.status).toBe(207);
      const body = (await answer.json()) as {
        results: { properties: { email: string } }[];
        numErrors: number;
        errors: { category: string; message: string; context: { ids: string[] } }[];
      };
      expect(body.results.map((r) => r.properties.email)).toEqual(['ok@example.com']);
      expect(body.numErrors).toBe(2);
      expect(body.errors.map((e) => [e.category, e.context.ids])).toEqual([
        ['VALIDATION_ERROR', ['x@example.com']],
        ['VALIDATION_ERROR', ['y@example.com']],
      ]);
      expect(body.errors[0]!.message).toContain('PROPERTY_DOESNT_EXIST');
      expect(body.errors[1]!.message).toContain('INVALID_NUMBER');
    } finally {
      await server.close();
    }
  });

  it("refuses the request over its limit with 429, Retry-After and HubSpot's JSON", async () => {
    const server = await startHubSpotServer({ rateLimit: { requests: 2, perMs: 60_000 } });
    try {
      const read = () =>
        post(`${server.url}/crm/v3/objects/contacts/batch/read`, {
          idProperty: 'email',
          inputs: [{ id: 'a@b.co' }],
        });
      expect((await read()).status).toBe(207);
      expect((await read()).status).toBe(207);
      const refused = await read();
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(50);
      expect(await refused.json()).toMatchObject({
        status: 'error',
        errorType: 'RATE_LIMIT',
        policyName: 'TEN_SECONDLY_ROLLING',
        category: 'RATE_LIMITS',
      });
      expect(server.stats.rateLimited).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('keeps its records in the data file across restarts', async () => {
    const dataFile = join(dir, 'crm', 'hubspot.json');
    const first = await startHubSpotServer({ dataFile });
    await post(`${first.url}/crm/v3/objects/contacts/batch/upsert`, {
      inputs: [{ idProperty: 'email', id: 'Kept@Example.com', properties: { firstname: 'K' } }],
    });
    await first.close();
    const second = await startHubSpotServer({ dataFile });
    try {
      expect(second.records('contacts').map((r) => r.properties.email)).toEqual([
        'kept@example.com',
      ]);
    } finally {
      await second.close();
    }
  });

  it('the adapter sends an upsert again after a 502 and it lands once', async () => {
    const server = await startHubSpotServer();
    try {
      const destination = new HubSpotDestination({
        name: 'crm',
        baseUrl: server.url,
        token: HUBSPOT_TEST_TOKEN,
      });
      server.failNext(2);
      const results = await destination.write({
        object: 'contacts',
        operation: 'upsert',
        matchField: 'email',
        records: [{ key: 'retry@example.com', fields: { firstname: 'R' } }],
      });
      expect(results[0]).toMatchObject({ status: 'ok', key: 'retry@example.com' });
      expect(server.records('contacts')).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('the adapter fails clearly on a wrong token', async () => {
    const server = await startHubSpotServer();
    try {
      const destination = new HubSpotDestination({
        name: 'crm',
        baseUrl: server.url,
        token: 'pat-wrong',
      });
      await expect(destination.describe('contacts')).rejects.toThrow(
        /hubspot destination crm: describing contacts failed with HTTP 401/,
      );
    } finally {
      await server.close();
    }
  });
});
