/**
 * HubSpot's daily limit, played by the HubSpot-shaped stand-in (templates/ecommerce/crm/
 * hubspot-server.ts; HubSpot itself cannot be reached from here): every answer carries
 * X-HubSpot-RateLimit-Daily and -Daily-Remaining, and once the day's requests are used each one is
 * a 429 with policyName DAILY. The sync stops at it with a clear message, without retrying, and
 * the batches accepted before it stay recorded, so the next run sends only the rest.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/orchestrator/index.js';
import {
  HUBSPOT_TEST_TOKEN,
  startHubSpotServer,
  type HubSpotServer,
} from '../../templates/ecommerce/crm/hubspot-server.js';
import { tempDir, withWorkspace, writeFiles } from '../helpers.js';

let crm: HubSpotServer | undefined;
afterEach(async () => {
  await crm?.close();
  crm = undefined;
});

describe("HubSpot's daily limit", () => {
  it('is in every answer, and a sync stops at it with a clear message, keeping what was sent', async () => {
    // One describe and two batches of 100 fit; the third batch is refused.
    crm = await startHubSpotServer({ dailyLimit: 3 });
    const dir = tempDir('trib-sync-daily-');
    writeFiles(dir, {
      'tributary.yml': `name: shop
destinations:
  crm: { type: hubspot, base_url: "${crm.url}", token: { file: secrets/crm-token } }
`,
      'secrets/crm-token': `${HUBSPOT_TEST_TOKEN}\n`,
      'models/customers.sql':
        "select i as customer_id, 'c' || i || '@example.com' as email from range(250) t(i)",
      'syncs/contacts.yml': `source: ref('customers')
destination: crm
object: contacts
match: { source: email, destination: email }
fields: [{ source: email, destination: email }]
`,
    });
    await withWorkspace(dir, async (ws) => {
      const run = await runPipeline(ws);
      const step = run.steps.find((s) => s.asset === 'sync:contacts')!;
      expect(step.status).toBe('failed');
      expect(step.message).toMatch(
        /HubSpot's daily API limit \(3 requests\) is used up: You have reached your daily limit\./,
      );
      expect(step.attempts ?? 1).toBe(1);
      expect(crm!.stats.rateLimited).toBe(1); // refused once, never retried
      const sent = crm!.records('contacts').length;
      expect(sent).toBe(200);
      const state = await ws.warehouse.query(
        'SELECT count(*) AS n FROM tributary_sync.contacts__state',
      );
      expect(Number(state.rows[0]!.n)).toBe(sent);

      // The headers, as HubSpot sends them, on an ordinary answer after a reset.
      crm!.setDailyLimit(10, 4);
      const res = await fetch(`${crm!.url}/crm/v3/properties/contacts`, {
        headers: { authorization: `Bearer ${HUBSPOT_TEST_TOKEN}` },
      });
      expect(res.headers.get('x-hubspot-ratelimit-daily')).toBe('10');
      expect(res.headers.get('x-hubspot-ratelimit-daily-remaining')).toBe('5');

      // The next day's run sends only what was not recorded.
      crm!.setDailyLimit(1000, 0);
      const next = await runPipeline(ws, { select: ['sync:contacts'] });
      expect(next.steps[0]).toMatchObject({ status: 'succeeded', rowsOut: 50 });
      expect(crm!.records('contacts')).toHaveLength(250);
    });
  }, 60_000);
});
