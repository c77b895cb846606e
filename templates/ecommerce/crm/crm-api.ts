/**
 * `npm run crm-api -- [project-dir] [--port 4343] [--limit 190/10s]`: serves the HubSpot-shaped
 * CRM stand-in (templates/ecommerce/crm/hubspot-server.ts) until Ctrl-C, keeping its contacts and
 * companies in `<project-dir>/crm/hubspot.json` between runs, so a project's syncs can be run and
 * inspected against it after `tributary demo` has finished.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../../src/core/duration.js';
import { HUBSPOT_TEST_TOKEN, startHubSpotServer } from './hubspot-server.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string', default: '4343' },
    limit: { type: 'string', default: '190/10s' },
  },
});
const limitMatch = /^(\d+)\/(.+)$/.exec(values.limit);
const perMs = limitMatch ? parseDuration(limitMatch[2]!) : undefined;
if (!limitMatch || !perMs) {
  process.stderr.write(`--limit ${values.limit}: expected requests/window, e.g. 190/10s\n`);
  process.exit(2);
}
const dir = resolve(positionals[0] ?? 'tributary-demo');
const dataFile = join(dir, 'crm', 'hubspot.json');
const server = await startHubSpotServer({
  dataFile,
  port: Number(values.port),
  rateLimit: { requests: Number(limitMatch[1]), perMs },
});
process.stdout.write(
  `HubSpot CRM stand-in at ${server.url}/crm/v3/objects/contacts (bearer ${HUBSPOT_TEST_TOKEN}, ` +
    `limit ${values.limit}); records in ${dataFile}; Ctrl-C to stop\n` +
    `in another terminal: TRIBUTARY_CRM_ENABLED=true TRIBUTARY_CRM_API=${server.url} tributary -p ${positionals[0] ?? 'tributary-demo'} sync crm_contacts\n` +
    `(the demo wrote the token to secrets/crm-token)\n`,
);
await new Promise<void>((done) => {
  process.once('SIGINT', done);
  process.once('SIGTERM', done);
});
await server.close();
