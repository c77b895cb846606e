/**
 * The e-commerce template syncs its customers to a CRM (syncs/crm_contacts.yml, HubSpot-shaped):
 * tests that run the whole template start the template's CRM stand-in
 * (templates/ecommerce/crm/hubspot-server.ts; HubSpot itself cannot be reached from here) and
 * point projects at it, as `npm run demo` does. The stand-in runs in a child process (the built
 * `npm run crm-api` script), so CLIs started with spawnSync can reach it while this process
 * waits; TRIBUTARY_CRM_API and TRIBUTARY_CRM_ENABLED are set in this process's environment, which
 * those CLIs inherit.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HUBSPOT_TEST_TOKEN } from '../templates/ecommerce/crm/hubspot-server.js';
import { tempDir } from './helpers.js';

const CRM_API = resolve(import.meta.dirname, '../dist/templates/ecommerce/crm/crm-api.js');

export interface CrmStandIn {
  url: string;
  close(): Promise<void>;
}

/** Starts the stand-in (a generous rate limit: tests are not about pacing) and exports its URL. */
export async function startTemplateCrm(): Promise<CrmStandIn> {
  if (!existsSync(CRM_API)) throw new Error(`${CRM_API} is missing: run \`npm run build\` first`);
  const child = spawn(
    process.execPath,
    [CRM_API, tempDir('trib-crm-'), '--port', '0', '--limit', '1000/1s'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const url = await new Promise<string>((done, fail) => {
    let out = '';
    const timer = setTimeout(
      () => fail(new Error(`the CRM stand-in did not start:\n${out}`)),
      30_000,
    );
    const read = (d: Buffer) => {
      out += d.toString();
      const m = /stand-in at (http:\/\/[\d.:]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        done(m[1]!);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => fail(new Error(`the CRM stand-in exited (${code}):\n${out}`)));
  });
  process.env.TRIBUTARY_CRM_API = url;
  // The template's CRM destination is off unless this says otherwise (a plain run stays green).
  process.env.TRIBUTARY_CRM_ENABLED = 'true';
  return {
    url,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Writes the token file a project made from the template reads (secrets/crm-token). */
export function connectTemplateCrm(projectDir: string): void {
  mkdirSync(join(projectDir, 'secrets'), { recursive: true });
  writeFileSync(join(projectDir, 'secrets', 'crm-token'), `${HUBSPOT_TEST_TOKEN}\n`);
}
