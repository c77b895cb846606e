/**
 * The e-commerce template's CRM sync. Its destination ships disabled (`enabled:
 * ${TRIBUTARY_CRM_ENABLED:-false}`), so a plain run is green with `sync:crm_contacts` skipped and
 * the reason shown, and `tributary sync crm_contacts` refuses with a hint. Turned on against the
 * HubSpot-shaped stand-in (templates/ecommerce/crm/hubspot-server.ts, in this process: HubSpot
 * cannot be reached here) the step sends every current customer with the customer_lifecycle
 * mart's fields, a second run sends nothing, and without a CRM listening only that step fails.
 * One project is built once for all of it (the template's pipeline is the slow part).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatRunSummary } from '../../src/cli/commands/run.js';
import { generateWithOwnCollector } from '../../src/cli/commands/generate.js';
import { initProject } from '../../src/cli/commands/init.js';
import { makeOutput } from '../../src/cli/output.js';
import { silentProgress } from '../../src/core/index.js';
import { listSyncs, runOneSync, runPipeline } from '../../src/orchestrator/index.js';
import {
  startHubSpotServer,
  type HubSpotServer,
} from '../../templates/ecommerce/crm/hubspot-server.js';
import { connectTemplateCrm } from '../crm-standin.js';
import { tempDir, withWorkspace } from '../helpers.js';

const ENV = ['TRIBUTARY_CRM_API', 'TRIBUTARY_CRM_ENABLED'] as const;
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
let crm: HubSpotServer | undefined;
afterAll(async () => {
  await crm?.close();
  for (const k of ENV)
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
});

describe("the template's CRM sync", () => {
  it('is skipped while its destination is off, then sends each customer once turned on', async () => {
    delete process.env.TRIBUTARY_CRM_ENABLED;
    process.env.TRIBUTARY_CRM_API = 'http://127.0.0.1:9';
    const dir = await initProject(join(tempDir('trib-tmpl-sync-'), 'shop'), 'ecommerce');
    await generateWithOwnCollector(dir, { scale: 0.01, seed: 3, progress: silentProgress });
    // A quickstart: no token, no CRM, destination off by default.
    await withWorkspace(dir, async (ws) => {
      expect(ws.graph.assets.get('sync:crm_contacts')!.deps).toEqual(['model:customer_lifecycle']);
      const run = await runPipeline(ws);
      expect(run.steps.filter((s) => s.status === 'failed')).toEqual([]);
      expect(run.status).toBe('succeeded');
      const step = run.steps.find((s) => s.asset === 'sync:crm_contacts')!;
      expect(step.status).toBe('skipped');
      expect(step.message).toMatch(
        /destination crm is disabled \(tributary\.yml destinations\.crm\.enabled/,
      );
      const summary = formatRunSummary(run, makeOutput(true));
      expect(summary).toMatch(/1 skipped/);
      expect(summary).toMatch(/skipped sync:crm_contacts: destination crm is disabled/);
      const [listed] = await listSyncs(ws);
      expect(listed!.disabled).toMatch(/destination crm is disabled/);
      await expect(runOneSync(ws, 'crm_contacts')).rejects.toMatchObject({
        message: expect.stringMatching(
          /sync crm_contacts was not run: destination crm is disabled/,
        ),
        hint: expect.stringMatching(/destinations\.crm\.enabled: true/),
      });
    });
    // Turned on against the stand-in: the sync alone sends every current customer.
    crm = await startHubSpotServer({ rateLimit: { requests: 1000, perMs: 1000 } });
    process.env.TRIBUTARY_CRM_API = crm.url;
    process.env.TRIBUTARY_CRM_ENABLED = 'true';
    connectTemplateCrm(dir);
    await withWorkspace(dir, async (ws) => {
      expect((await listSyncs(ws))[0]!.disabled).toBeNull();
      const run = await runPipeline(ws, { select: ['sync:crm_contacts'] });
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
    // On, but no CRM listening: only the sync step fails, saying what to do.
    process.env.TRIBUTARY_CRM_API = 'http://127.0.0.1:9';
    await withWorkspace(dir, async (ws) => {
      const run = await runPipeline(ws, { select: ['+sync:crm_contacts'] });
      const failed = run.steps.filter((s) => s.status === 'failed');
      expect(failed.map((s) => s.asset)).toEqual(['sync:crm_contacts']);
      expect(failed[0]!.message).toMatch(
        /destination crm at http:\/\/127\.0\.0\.1:9 cannot be reached/,
      );
      expect(failed[0]!.message).toContain('npm run crm-api');
      expect(run.steps.find((s) => s.asset === 'model:customer_lifecycle')!.status).not.toBe(
        'failed',
      );
    });
  }, 300_000);
});
