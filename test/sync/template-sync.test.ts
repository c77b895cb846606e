/**
 * The e-commerce template's CRM sync: after the marts, `sync:crm_contacts` sends every current
 * customer with the customer_lifecycle mart's fields to the HubSpot-shaped stand-in's contacts
 * (templates/ecommerce/crm/hubspot-server.ts, in this process: HubSpot cannot be reached here),
 * a second run sends nothing, and without a CRM listening only that step fails.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateWithOwnCollector } from '../../src/cli/commands/generate.js';
import { initProject } from '../../src/cli/commands/init.js';
import { silentProgress } from '../../src/core/index.js';
import { runPipeline } from '../../src/orchestrator/index.js';
import {
  startHubSpotServer,
  type HubSpotServer,
} from '../../templates/ecommerce/crm/hubspot-server.js';
import { connectTemplateCrm } from '../crm-standin.js';
import { tempDir, withWorkspace } from '../helpers.js';

let crm: HubSpotServer | undefined;
const savedUrl = process.env.TRIBUTARY_CRM_API;
afterEach(async () => {
  await crm?.close();
  crm = undefined;
  if (savedUrl === undefined) delete process.env.TRIBUTARY_CRM_API;
  else process.env.TRIBUTARY_CRM_API = savedUrl;
});

async function templateProject(): Promise<string> {
  const dir = await initProject(join(tempDir('trib-tmpl-sync-'), 'shop'), 'ecommerce');
  await generateWithOwnCollector(dir, { scale: 0.01, seed: 3, progress: silentProgress });
  connectTemplateCrm(dir);
  return dir;
}

describe("the template's CRM sync", () => {
  it('sends each current customer with lifecycle fields after the marts, then nothing new', async () => {
    crm = await startHubSpotServer({ rateLimit: { requests: 1000, perMs: 1000 } });
    process.env.TRIBUTARY_CRM_API = crm.url;
    const dir = await templateProject();
    await withWorkspace(dir, async (ws) => {
      expect(ws.graph.assets.get('sync:crm_contacts')!.deps).toEqual(['model:customer_lifecycle']);
      const run = await runPipeline(ws);
      expect(run.status).toBe('succeeded');
      const { rows } = await ws.warehouse.query(
        "SELECT count(*) AS n, count(*) FILTER (WHERE rfm_segment = 'champion') AS champions FROM main.customer_lifecycle",
      );
      const customers = Number(rows[0]!.n);
      expect(Number(rows[0]!.champions)).toBeGreaterThan(0);
      const step = run.steps.find((s) => s.asset === 'sync:crm_contacts')!;
      expect(step).toMatchObject({ status: 'succeeded', rowsOut: customers, rowsRejected: 0 });
      const contacts = crm!.records('contacts');
      expect(contacts).toHaveLength(customers);
      const sample = contacts.find((c) => c.properties.lifecyclestage === 'customer')!;
      expect(sample.properties).toMatchObject({
        email: expect.stringMatching(/@/),
        rfm_segment: expect.stringMatching(
          /^(champion|loyal|new|at_risk|hibernating|needs_attention)$/,
        ),
        last_order_date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      });
      expect(Number(sample.properties.lifetime_value)).toBeGreaterThan(0);
      const again = await runPipeline(ws, { select: ['sync:crm_contacts'] });
      expect(again.steps[0]).toMatchObject({ status: 'up_to_date', rowsOut: 0 });
    });
  }, 240_000);

  it('fails only the sync step, with what to do, when no CRM listens', async () => {
    process.env.TRIBUTARY_CRM_API = 'http://127.0.0.1:9';
    const dir = await templateProject();
    await withWorkspace(dir, async (ws) => {
      const run = await runPipeline(ws);
      const failed = run.steps.filter((s) => s.status === 'failed');
      expect(failed.map((s) => s.asset)).toEqual(['sync:crm_contacts']);
      expect(failed[0]!.message).toMatch(
        /destination crm at http:\/\/127\.0\.0\.1:9 cannot be reached/,
      );
      expect(failed[0]!.message).toContain('npm run crm-api');
      expect(run.steps.find((s) => s.asset === 'model:customer_lifecycle')!.status).toBe(
        'succeeded',
      );
    });
  }, 240_000);
});
