/**
 * The demo's app database: with PostgreSQL reachable, customers, orders and order lines are
 * loaded into it and extracted by the postgres connector, and the contracts quarantine exactly
 * the rows the generator says they must, as when they come from files; with PostgreSQL out of
 * reach the demo says so and reads the landing files.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/cli/commands/demo.js';
import { silentProgress } from '../../src/core/index.js';
import { openPostgres } from '../../src/engines/index.js';
import { tempDir } from '../helpers.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';

const postgresUp = await serviceAvailable('postgres', postgresTestUrl);

/** Rows quarantined per table, as the generator predicts them. */
function expectedQuarantine(dir: string): Record<string, number> {
  const report = JSON.parse(readFileSync(join(dir, '.tributary', 'generated.json'), 'utf8')) as {
    expected: Record<string, { quarantined: Record<string, number> }>;
  };
  return Object.fromEntries(
    ['customers', 'orders', 'order_lines'].map((t) => [
      t,
      Object.values(report.expected[t]!.quarantined).reduce((a, b) => a + b, 0),
    ]),
  );
}

const quarantined = (q: Record<string, Record<string, number>>) =>
  Object.fromEntries(
    ['customers', 'orders', 'order_lines'].map((t) => [
      t,
      Object.values(q[t] ?? {}).reduce((a, b) => a + b, 0),
    ]),
  );

describe.skipIf(!postgresUp)('the demo with PostgreSQL reachable', () => {
  it('extracts the app tables from PostgreSQL and quarantines exactly what the generator predicts', async () => {
    const dir = join(tempDir('trib-demo-pg-'), 'demo');
    const schema = `demo_app_${Date.now().toString(36)}_${process.pid}`;
    let demo;
    try {
      demo = await runDemo(dir, {
        scale: 0.02,
        seed: 5,
        progress: silentProgress,
        appDbUrl: postgresTestUrl,
        appDbSchema: schema,
      });
    } finally {
      const pg = await openPostgres({ url: postgresTestUrl });
      await pg.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => pg.close());
    }
    expect(demo.appDb.mode).toBe('postgres');
    expect(demo.run.status).toBe('succeeded');
    expect(demo.run.steps.map((s) => s.asset)).toContain('raw:app_db.orders');
    expect(quarantined(demo.quarantine)).toEqual(expectedQuarantine(dir));
    expect(readFileSync(join(dir, 'tributary.yml'), 'utf8')).toMatch(/app_db:\n\s+type: postgres/);
  });
});

describe('the demo without PostgreSQL', () => {
  it('says so and reads the app tables from the landing files', async () => {
    const dir = join(tempDir('trib-demo-files-'), 'demo');
    const demo = await runDemo(dir, {
      scale: 0.02,
      seed: 5,
      progress: silentProgress,
      appDbUrl: 'postgres://postgres@127.0.0.1:1/nothing',
    });
    expect(demo.appDb.mode).toBe('files');
    // Payments come through the REST connector from the stand-in API, with the same quarantine.
    const payments = demo.run.steps.find((s) => s.asset === 'raw:payments.payments')!;
    expect(payments.message).toMatch(/GET \/v1\/charges/);
    const report = JSON.parse(readFileSync(join(dir, '.tributary', 'generated.json'), 'utf8')) as {
      expected: Record<string, { quarantined: Record<string, number> }>;
    };
    expect(demo.quarantine.payments).toEqual(report.expected.payments!.quarantined);
    expect(demo.appDb.detail).toMatch(
      /is not reachable: customers, orders and order lines come from the landing files/,
    );
    expect(demo.run.steps.map((s) => s.asset)).toContain('raw:shop.orders');
    expect(quarantined(demo.quarantine)).toEqual(expectedQuarantine(dir));
  });
});
