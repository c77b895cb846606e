/**
 * Syncs through the built CLI and in the web UI (Debian's Chromium via playwright-core): a small
 * project syncs a model to the HubSpot-shaped stand-in (templates/ecommerce/crm/hubspot-server.ts;
 * HubSpot itself cannot be reached here, the stand-in plays its API, validation and limits).
 * `tributary sync --dry-run` prints what it would send and sends nothing, `tributary sync` sends
 * (exit 4 when records were rejected), `tributary syncs` lists the last run; then `serve` shows
 * the Syncs page and a sync's history (screenshots in test/.artifacts/screenshots).
 * Needs `npm run build` (dist/ and the web UI).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HUBSPOT_TEST_TOKEN,
  startHubSpotServer,
  type HubSpotServer,
} from '../../templates/ecommerce/crm/hubspot-server.js';
import { SHOTS, haveChromium, launchChromium, startServe } from '../browser.js';
import { tempDir, writeFiles } from '../helpers.js';

const BIN = resolve(import.meta.dirname, '../../bin/tributary.js');
/** The CLI in a child process, awaited (not spawnSync: the stand-in runs in this process). */
function cli(
  dir: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, '-p', dir, ...args], {
      env: { ...process.env, NO_COLOR: '1', TRIBUTARY_FAULT: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout: stdout.trim(), stderr }));
  });
}

const SYNC = `description: Customers to the CRM's contacts
source: ref('customers')
destination: crm
object: contacts
mode: upsert
match: { source: email, destination: email }
fields:
  - { source: email, destination: email }
  - { source: first_name, destination: firstname }
  - { source: lifetime_value, destination: lifetime_value, cast: number }
`;

function writeProject(dir: string, crmUrl: string): void {
  writeFiles(dir, {
    'tributary.yml': `name: shop
destinations:
  crm: { type: hubspot, base_url: "${crmUrl}", token: { file: secrets/crm-token } }
`,
    'secrets/crm-token': `${HUBSPOT_TEST_TOKEN}\n`,
    'models/customers.sql': `select * from (values
  (1, 'ada@example.com', 'Ada', 120.5),
  (2, 'bob@example.com', 'Bob', 80.0),
  (3, 'not-an-email', 'Cy', 10.0)
) as t(customer_id, email, first_name, lifetime_value)`,
    'syncs/contacts.yml': SYNC,
  });
}

let crm: HubSpotServer;
let dir: string;

describe('tributary sync and syncs, built', () => {
  beforeAll(async () => {
    crm = await startHubSpotServer();
    dir = tempDir('trib-sync-cli-');
    writeProject(dir, crm.url);
    expect((await cli(dir, ['run', 'customers'])).code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await crm?.close();
  });

  it('dry run prints the inserts it would send with a sample and sends nothing', async () => {
    const { code, stdout } = await cli(dir, ['sync', 'contacts', '--dry-run']);
    expect(code).toBe(0);
    expect(stdout).toContain(
      'dry run of sync contacts: would send 3 insert(s), 0 update(s), 0 delete(s), 0 unchanged; nothing was sent',
    );
    expect(stdout).toMatch(/inserts \(3\):\n {2}ada@example\.com {2}email="ada@example\.com"/);
    expect(crm.records('contacts')).toEqual([]);
  });

  it('sends, exits 4 when the destination rejected records, and lists the last run', async () => {
    const sent = await cli(dir, ['sync', 'contacts', '--json']);
    expect(sent.code).toBe(4);
    const result = JSON.parse(sent.stdout) as {
      run: { status: string; runId: string };
      outcome: { inserted: number; rejected: number };
    };
    expect(result.run.status).toBe('succeeded');
    expect(result.outcome).toMatchObject({ inserted: 2, rejected: 1 });
    expect(crm.records('contacts')).toHaveLength(2);

    const again = await cli(dir, ['sync', 'contacts']);
    expect(again.code).toBe(4); // the bad record is tried again, and refused again
    expect(again.stdout).toContain('sync contacts: sent 0 insert(s), 0 update(s)');

    const list = await cli(dir, ['syncs']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/contacts\s+crm \(hubspot\) contacts\s+upsert/);
    const history = JSON.parse((await cli(dir, ['syncs', 'contacts', '--json'])).stdout) as {
      runId: string;
      dryRun: boolean;
    }[];
    expect(history.map((r) => r.dryRun)).toEqual([false, false, true]);
    expect(history[1]!.runId).toBe(result.run.runId);
  });

  it('names an unknown sync with exit code 2', async () => {
    const { code, stderr } = await cli(dir, ['sync', 'nope']);
    expect(code).toBe(2);
    expect(stderr).toContain('no sync named nope');
  });

  describe.skipIf(!haveChromium)('the Syncs page in Chromium', () => {
    let server: ChildProcess;
    let url: string;
    let context: BrowserContext;
    let page: Page;

    beforeAll(async () => {
      const viewer = (await cli(dir, ['token', 'create', '--role', 'viewer', '--name', 'b']))
        .stdout;
      ({ server, url } = await startServe(dir));
      context = await launchChromium({ width: 1280, height: 800 });
      page = await context.newPage();
      await page.goto(`${url}/#/login`);
      await page.getByTestId('login-token').fill(viewer);
      await page.getByTestId('login-submit').click();
      await page.getByTestId('role').waitFor();
    }, 120_000);

    afterAll(async () => {
      await context?.close();
      if (server && server.exitCode === null) {
        server.kill('SIGTERM');
        await new Promise((r) => server.once('exit', r));
      }
    });

    it('lists the sync with its last run, counts and dead letters', async () => {
      await page.getByTestId('nav-syncs').click();
      const row = page.getByTestId('sync-contacts');
      await row.waitFor({ timeout: 30_000 });
      const cells = await row.locator('td').allTextContents();
      expect(cells[0]).toMatch(/succeeded/);
      expect(cells[1]).toBe("contactsref('customers')");
      expect(cells[2]).toContain('crm');
      // The last run sent nothing new and refused the bad record again; one dead letter waits.
      expect(cells.slice(5, 10)).toEqual(['0', '0', '0', '1 (100.0%)', '1']);
      await page.screenshot({ path: join(SHOTS, 'syncs.png'), fullPage: true });
    });

    it("opens a sync's history with its dry run marked", async () => {
      await page.getByTestId('sync-contacts').click();
      const history = page.getByTestId('sync-history');
      await history.waitFor({ timeout: 30_000 });
      const rows = await history.locator('tbody tr').allTextContents();
      expect(rows).toHaveLength(3);
      expect(rows[2]).toContain('dry run');
      expect(rows[1]).toMatch(/succeeded.*2\s*0\s*0\s*1\s*0/);
      await page.screenshot({ path: join(SHOTS, 'sync-history.png'), fullPage: true });
    });
  });
});
