/**
 * `tributary lineage` as a user runs it (a real process each, on a copy of the e-commerce
 * template; nothing is built: the models' SQL is compiled and parsed, not run): a column's
 * upstream tree down to the landing file field, its downstream as JSON, and the exit codes of a
 * column that does not exist and of conflicting flags.
 */
import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { templateDir } from '../../src/cli/paths.js';
import type { ColumnTrace } from '../../src/orchestrator/index.js';
import { tempDir } from '../helpers.js';

const CLI = resolve(import.meta.dirname, '../../bin/tributary.js');

function tributary(dir: string, args: string[]) {
  const r = spawnSync(process.execPath, [CLI, '-p', dir, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
beforeAll(() => {
  dir = join(tempDir('trib-lineage-cli-'), 'shop');
  cpSync(templateDir('ecommerce'), dir, {
    recursive: true,
    filter: (p) => !p.includes('generator'),
  });
});

describe('tributary lineage', () => {
  it('prints where a column comes from, down to the landing file field', () => {
    const r = tributary(dir, ['lineage', 'dim_customers.city', '--upstream']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      [
        'model:dim_customers.city',
        '',
        'upstream (made from):',
        '  <- snapshot:customers_snapshot.city  (identity)',
        '     <- model:stg_shop_customers.city  (identity)',
        '        <- processed:customers.city  (identity)',
        '           <- raw:shop.customers.address.city  (rename)',
        '',
      ].join('\n'),
    );
  });

  it('prints what a landing file field feeds as JSON, up to the dashboard tiles', () => {
    const r = tributary(dir, ['lineage', 'raw:shop.orders.order_ts', '--downstream', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const trace = JSON.parse(r.stdout) as ColumnTrace;
    expect(trace.id).toBe('raw:shop.orders.order_ts');
    expect(trace.upstream).toBeUndefined();
    const fct = trace.downstream!.find((t) => t.id === 'model:fct_sales.order_ts')!;
    expect(fct).toMatchObject({ via: 'model:stg_shop_orders.order_ts', transform: 'identity' });
    expect(trace.downstream!.map((t) => t.id)).toContain('dashboard:executive.revenue_trend.month');
  });

  it('exits 2 naming the columns there are when the column does not exist', () => {
    const r = tributary(dir, ['lineage', 'fct_sales.revenue']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/model:fct_sales has no column revenue/);
    expect(r.stderr).toMatch(/its columns: sale_key, order_id/);
    const both = tributary(dir, ['lineage', 'fct_sales.order_id', '--upstream', '--downstream']);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/cannot be used with/);
  });
});
