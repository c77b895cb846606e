/**
 * The web UI in Debian's Chromium (playwright-core, no downloaded browser) against a real
 * `tributary serve` of the e-commerce template: log in, open each dashboard (a screenshot of
 * each is saved in test/.artifacts/screenshots), change a filter and see the KPI change to the
 * value computed directly in SQL, run a query in the editor, open a failed run's log, and follow
 * a column's lineage on the graph (upstream to the file field, downstream to tiles); all
 * of it under the server's Content-Security-Policy with no violation, and signing out ends the
 * session on the server.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWithOwnCollector } from '../../src/cli/commands/generate.js';
import { silentProgress } from '../../src/core/index.js';
import { connectTemplateCrm, startTemplateCrm, type CrmStandIn } from '../crm-standin.js';
import { SHOTS, haveChromium, launchChromium, startServe } from '../browser.js';
import { tempDir } from '../helpers.js';

const BIN = resolve(import.meta.dirname, '../../bin/tributary.js');
function cli(dir: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, '-p', dir, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', TRIBUTARY_FAULT: '', ...env },
  });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
}

let dir: string;
let crm: CrmStandIn | undefined;
let server: ChildProcess;
let url: string;
let viewer: string;
let failedRun: string;
let context: BrowserContext;
let page: Page;
/** What the page reported breaking the Content-Security-Policy (events and console errors). */
const cspViolations: string[] = [];

/** SQL through the running server's API, as the tests' source of truth for numbers. */
async function sql(
  query: string,
  params: Record<string, string | null> = {},
): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${url}/api/query`, {
    method: 'POST',
    headers: { authorization: `Bearer ${viewer}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sql: query, params }),
  });
  const body = (await res.json()) as { rows: Record<string, unknown>[] };
  return body.rows;
}

describe.skipIf(!haveChromium)('the web UI in Chromium', () => {
  beforeAll(async () => {
    dir = join(tempDir('trib-browser-'), 'shop');
    expect(cli(dir, ['init', dir]).code).toBe(0);
    // The template's last step syncs customers to the CRM: its stand-in listens meanwhile.
    crm = await startTemplateCrm();
    connectTemplateCrm(dir);
    // The clickstream goes through a collector into the stream, as `npm run demo` sends it.
    await generateWithOwnCollector(dir, { scale: 0.02, progress: silentProgress });
    // serve's collector on a free port, not 4567, which another test's serve may hold.
    const config = join(dir, 'tributary.yml');
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace(
        /collector: \{ host: ([^,]+), port: 4567 \}/,
        'collector: { host: $1, port: 0 }',
      ),
    );
    const ok = cli(dir, ['run']);
    expect(ok.code, ok.stderr).toBe(0);
    const failed = cli(dir, ['run', 'monthly_sales', '--json'], {
      TRIBUTARY_FAULT: 'step:model:monthly_sales',
    });
    failedRun = (JSON.parse(failed.stdout) as { runId: string }).runId;
    viewer = cli(dir, ['token', 'create', '--role', 'viewer', '--name', 'browser']).stdout;
    expect(viewer).toMatch(/^trb_/);
    ({ server, url } = await startServe(dir));
    context = await launchChromium({ width: 1280, height: 900 });
    await context.exposeFunction('reportCspViolation', (v: string) => cspViolations.push(v));
    // Page scripts are strings: this file is compiled without the DOM's types.
    await context.addInitScript(`document.addEventListener('securitypolicyviolation', (e) =>
      window.reportCspViolation(e.effectiveDirective + ' blocked ' + e.blockedURI + ' ' + e.sample));`);
    page = await context.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
  }, 240_000);

  afterAll(async () => {
    await crm?.close();
    await context?.close();
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
  });

  it('refuses a wrong token and logs in with a viewer token', async () => {
    const res = await page.goto(`${url}/#/login`);
    expect(res!.headers()['content-security-policy']).toMatch(/script-src 'self'/);
    await page.getByTestId('login-token').fill('trb_nope');
    await page.getByTestId('login-submit').click();
    await expect.poll(() => page.getByTestId('login-error').textContent()).toMatch(/token/i);
    await page.getByTestId('login-token').fill(viewer);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('role').waitFor();
    expect(await page.getByTestId('role').textContent()).toMatch(/viewer/);
  });

  for (const name of ['executive', 'product', 'customer', 'geographic', 'clickstream']) {
    it(`opens the ${name} dashboard with every tile drawn`, async () => {
      await page.goto(`${url}/#/dashboards/${name}`);
      const def = (await (
        await fetch(`${url}/api/dashboards/${name}`, {
          headers: { authorization: `Bearer ${viewer}` },
        })
      ).json()) as { tiles: { id: string }[] };
      for (const t of def.tiles) {
        const tile = page.getByTestId(`tile-${t.id}`);
        await tile.waitFor({ timeout: 30_000 });
        // Drawn: a chart canvas, a table, or a KPI value, and no error in the tile.
        await expect
          .poll(async () => tile.locator('canvas, table, [data-testid^="kpi-value-"]').count(), {
            timeout: 30_000,
          })
          .toBeGreaterThan(0);
        expect(await tile.locator('.tile-error, [role="alert"]').count(), `tile ${t.id}`).toBe(0);
      }
      await page.waitForTimeout(500); // chart animations settle before the picture
      await page.screenshot({ path: join(SHOTS, `dashboard-${name}.png`), fullPage: true });
    });
  }

  it('changes a filter and the revenue KPI follows the value computed in SQL', async () => {
    await page.goto(`${url}/#/dashboards/executive`);
    const kpi = page.getByTestId('kpi-value-revenue');
    await kpi.waitFor();
    const revenueSql = `select sum(f.net_amount) as v from fct_sales f
      join dim_date d on d.date_key = f.date_key join dim_locations l on l.location_key = f.location_key
      where d.date_value between date '2024-01-01' and date '2025-12-31' and ($region is null or l.region = $region)`;
    const all = Number((await sql(revenueSql, { region: null }))[0]!.v);
    await expect.poll(async () => Number(await kpi.getAttribute('data-value'))).toBeCloseTo(all, 2);
    const region = String(
      (await sql('select region from dim_locations order by region limit 1'))[0]!.region,
    );
    await page.getByTestId('filter-region').selectOption(region);
    const one = Number((await sql(revenueSql, { region }))[0]!.v);
    expect(one).toBeLessThan(all);
    await expect
      .poll(async () => Number(await kpi.getAttribute('data-value')), { timeout: 20_000 })
      .toBeCloseTo(one, 2);
    await page.screenshot({
      path: join(SHOTS, `dashboard-executive-${region.toLowerCase()}.png`),
      fullPage: true,
    });
  });

  it('runs a query in the SQL editor', async () => {
    await page.goto(`${url}/#/sql`);
    await page
      .getByTestId('sql-input')
      .fill('select category, count(*) as products from dim_products group by 1 order by 1');
    await page.getByTestId('sql-run').click();
    const table = page.getByTestId('sql-results');
    await table.waitFor();
    const expected = await sql('select count(distinct category) as n from dim_products');
    await expect.poll(async () => table.locator('tbody tr').count()).toBe(Number(expected[0]!.n));
    await page.screenshot({ path: join(SHOTS, 'sql-editor.png') });
  });

  it("opens a failed run's log", async () => {
    await page.goto(`${url}/#/runs/${failedRun}`);
    const step = page.getByTestId('step-model:monthly_sales');
    await step.waitFor();
    await step.click();
    const log = page.getByTestId('step-log');
    await expect
      .poll(async () => log.textContent(), { timeout: 15_000 })
      .toMatch(/fault injected at step:model:monthly_sales/);
    await page.screenshot({ path: join(SHOTS, 'failed-run-log.png') });
  });

  it('draws the asset graph and shows lineage from a dashboard back to the raw files', async () => {
    await page.goto(`${url}/#/graph`);
    await page.getByTestId('graph-search').waitFor();
    await page.getByTestId('graph-search').fill('dashboard:executive');
    await page.getByTestId('graph-search').press('Enter');
    const upstream = page.getByTestId('lineage-upstream');
    await upstream.waitFor();
    await expect.poll(async () => upstream.textContent()).toMatch(/model:fct_sales/);
    expect(await upstream.textContent()).toMatch(/raw:shop\.orders/);
    await page.screenshot({ path: join(SHOTS, 'graph-lineage.png') });
  });

  it('picks a column on the graph and shows its columns upstream to the file field and downstream to tiles', async () => {
    await page.goto(`${url}/#/graph?asset=${encodeURIComponent('model:dim_customers')}`);
    const picker = page.getByTestId('column-picker');
    await picker.waitFor();
    await picker.selectOption('city');
    const upstream = page.getByTestId('column-upstream');
    await expect
      .poll(async () => upstream.textContent())
      .toMatch(/raw:shop\.customers\.address\.city/);
    expect(await upstream.textContent()).toMatch(/snapshot:customers_snapshot\.city/);
    await page.screenshot({ path: join(SHOTS, 'column-lineage-upstream.png') });
    // A landing file field forward to the dashboard tiles it feeds.
    await page.goto(
      `${url}/#/graph?asset=${encodeURIComponent('raw:shop.order_lines')}&column=quantity`,
    );
    const downstream = page.getByTestId('column-downstream');
    await expect
      .poll(async () => downstream.textContent(), { timeout: 15_000 })
      .toMatch(/dashboard:executive\.revenue\.value/);
    expect(await downstream.textContent()).toMatch(/model:fct_sales\.net_amount/);
    await page.screenshot({ path: join(SHOTS, 'column-lineage-downstream.png') });
  });

  it('is usable at phone width', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${url}/#/dashboards/executive`);
    await page.getByTestId('tile-revenue').waitFor();
    const overflow = Number(
      await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'),
    );
    expect(overflow).toBeLessThanOrEqual(1);
    await page.getByTestId('menu-button').click();
    await page.getByTestId('nav-runs').waitFor();
    await page.screenshot({ path: join(SHOTS, 'phone-executive.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("shows a chart's tooltip on hover", async () => {
    await page.goto(`${url}/#/dashboards/executive`);
    const canvas = page.getByTestId('tile-revenue_trend').locator('canvas').first();
    await canvas.waitFor();
    const box = (await canvas.boundingBox())!;
    // ECharts writes its tooltip as HTML with style attributes: the CSP must let those apply.
    const tooltip = page
      .getByTestId('tile-revenue_trend')
      .locator('div[style*="z-index: 9999999"]');
    await expect
      .poll(async () => {
        await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.6);
        return tooltip.isVisible();
      })
      .toBe(true);
    expect(await tooltip.textContent()).toMatch(/\$/);
    await page.screenshot({ path: join(SHOTS, 'chart-tooltip.png') });
  });

  it('ran every page above under the Content-Security-Policy without a violation', () => {
    expect(cspViolations).toEqual([]);
  });

  it('the Content-Security-Policy stops a script injected into the page', async () => {
    await page.goto(`${url}/#/dashboards`);
    const before = cspViolations.length;
    const ran = await page.evaluate(`(() => {
      const script = document.createElement('script');
      script.textContent = 'window.injectedRan = true';
      document.body.append(script);
      return window.injectedRan ?? false;
    })()`);
    expect(ran).toBe(false);
    await expect.poll(() => cspViolations.length).toBeGreaterThan(before);
    expect(cspViolations.slice(before).join('\n')).toMatch(/script-src/);
  });

  it('signing out ends the session on the server: the old cookie is refused', async () => {
    const [session] = (await context.cookies(url)).filter((c) => c.name === 'tributary_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const asCookie = { cookie: `tributary_session=${session!.value}` };
    expect((await fetch(`${url}/api/me`, { headers: asCookie })).status).toBe(200);
    await page.goto(`${url}/#/dashboards`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByTestId('login-token').waitFor();
    expect((await fetch(`${url}/api/me`, { headers: asCookie })).status).toBe(401);
  });
});
