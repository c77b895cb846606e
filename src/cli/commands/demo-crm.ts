/**
 * The demo's CRM: the template's HubSpot-shaped stand-in (templates/ecommerce/crm/) listens while
 * the demo runs, so the pipeline's last step, the sync `crm_contacts`, sends the customers'
 * lifecycle fields to its contacts as it would to HubSpot. tributary.yml reads the address from
 * TRIBUTARY_CRM_API (default port 4343), the token from secrets/crm-token, which this writes, and
 * whether the destination is on from TRIBUTARY_CRM_ENABLED (off by default), which this sets;
 * `npm run crm-api -- <project>` serves the same contacts again later.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  HUBSPOT_TEST_TOKEN,
  startHubSpotServer,
  type HubSpotServer,
} from '../../../templates/ecommerce/crm/hubspot-server.js';

const CRM_API_ENV = 'TRIBUTARY_CRM_API';
/** tributary.yml's `destinations.crm.enabled` reads it; off by default so a plain run is green. */
const CRM_ENABLED_ENV = 'TRIBUTARY_CRM_ENABLED';
const DEFAULT_CRM_PORT = 4343;
const CRM_TOKEN_FILE = 'secrets/crm-token';

/** Starts the stand-in (on its default port, or a free one when that is taken) for `dir`. */
export async function startDemoCrm(dir: string): Promise<HubSpotServer> {
  const dataFile = join(dir, 'crm', 'hubspot.json');
  let server: HubSpotServer;
  try {
    server = await startHubSpotServer({ dataFile, port: DEFAULT_CRM_PORT });
  } catch {
    server = await startHubSpotServer({ dataFile, port: 0 });
  }
  process.env[CRM_API_ENV] = server.url;
  process.env[CRM_ENABLED_ENV] = 'true';
  await mkdir(join(dir, 'secrets'), { recursive: true });
  // The stand-in's fixed token is no secret; a real one would live in this file, never in tributary.yml.
  await writeFile(join(dir, CRM_TOKEN_FILE), `${HUBSPOT_TEST_TOKEN}\n`);
  return server;
}
