/**
 * Rows waiting for a parent: a row refused only because its parent's key is not loaded yet leaves
 * the quarantine for its table as soon as the parent arrives, whatever made the parent late (a
 * later file, a refused file fixed and retried, a parent that itself waited), exactly once, with
 * its batch's dispositions respected and a new `_loaded_at`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lakeKeys, readManifest, type TableManifest } from '../../src/lake/index.js';
import { runPipeline, type RunResult } from '../../src/orchestrator/index.js';
import { restoreFaultAfterEach, tempDir, withWorkspace, writeFiles } from '../helpers.js';

restoreFaultAfterEach();

const CUSTOMERS = `primary_key: [customer_id]
columns:
  - { name: customer_id, type: bigint, required: true }
  - { name: name, type: string }
`;
const ORDERS = `primary_key: [order_id]
columns:
  - { name: order_id, type: bigint, required: true }
  - { name: customer_id, type: bigint, required: true, references: customers.customer_id }
  - { name: note, type: string }
`;
const LINES = `primary_key: [line_id]
columns:
  - { name: line_id, type: bigint, required: true }
  - { name: order_id, type: bigint, required: true, references: orders.order_id }
  - { name: qty, type: integer }
`;

function project(options: { disposition?: string; landing?: Record<string, string> } = {}) {
  const dir = tempDir('trib-wait-');
  writeFiles(dir, {
    'tributary.yml': `name: w
sources:
  shop:
    type: files
    path: landing
    tables:
      customers: { files: "customers*.csv" }
      orders: { files: "orders*.csv", disposition: ${options.disposition ?? 'append'} }
      lines: { files: "lines*.csv" }
`,
    'contracts/customers.yml': CUSTOMERS,
    'contracts/orders.yml': ORDERS,
    'contracts/lines.yml': LINES,
  });
  writeFiles(
    join(dir, 'landing'),
    options.landing ?? {
      'customers-1.csv': 'customer_id,name\n1,Ada\n2,Bo\n',
      'orders-1.csv':
        'order_id,customer_id,note\n10,1,first\n11,3,"waits, for 3"\n12,2,\n13,4,waits for 4\n',
      'lines-1.csv': 'line_id,order_id,qty\n100,10,1\n101,11,2\n',
    },
  );
  return dir;
}

const run = (dir: string, options: { retryRejected?: boolean } = {}) =>
  withWorkspace(dir, (ws) => runPipeline(ws, options));

const rows = (dir: string, sql: string) =>
  withWorkspace(dir, async (ws) => (await ws.warehouse.query(sql)).rows);

const step = (r: RunResult, asset: string) => r.steps.find((s) => s.asset === asset)!;

describe('rows waiting for a parent', () => {
  it('load once the parent arrives in a later file, and never twice', async () => {
    const dir = project();
    await run(dir);
    expect(await rows(dir, 'select order_id from processed.orders order by 1')).toEqual([
      { order_id: '10' },
      { order_id: '12' },
    ]);
    writeFileSync(join(dir, 'landing', 'customers-2.csv'), 'customer_id,name\n3,Cy\n');
    const second = await run(dir);
    expect(step(second, 'processed:orders').message).toMatch(
      /1 loaded from quarantine now that their parent arrived/,
    );
    expect(await rows(dir, 'select order_id, note from processed.orders order by 1')).toEqual([
      { order_id: '10', note: 'first' },
      { order_id: '11', note: 'waits, for 3' },
      { order_id: '12', note: null },
    ]);
    // The line of order 11 waited for its order, which waited for its customer: both load in the
    // same run, parents first.
    expect(await rows(dir, 'select line_id from processed.lines order by 1')).toEqual([
      { line_id: '100' },
      { line_id: '101' },
    ]);
    // The row still without a parent stays in quarantine, with its line.
    expect(
      await rows(dir, 'select _line, _reason, order_id from quarantine.orders order by 1'),
    ).toEqual([{ _line: '5', _reason: 'foreign_key', order_id: '13' }]);
    const third = await run(dir);
    expect(step(third, 'processed:orders').status).toBe('up_to_date');
    expect(await rows(dir, 'select count(*) as n from processed.orders')).toEqual([{ n: '3' }]);
  });

  it('load after a refused parent file is fixed and retried', async () => {
    // The customers contract names a column the file does not have: the file is refused.
    const dir = project();
    writeFileSync(
      join(dir, 'contracts/customers.yml'),
      CUSTOMERS.replace('name: name', 'name: nmae'),
    );
    const first = await run(dir);
    expect(first.status).toBe('succeeded');
    expect(first.refusedFiles).toEqual([
      expect.objectContaining({ asset: 'processed:customers', file: 'customers-1.csv' }),
    ]);
    // Everything downstream still ran; every order waits for its customer.
    expect(step(first, 'processed:orders').status).toBe('succeeded');
    expect(await rows(dir, 'select count(*) as n from processed.orders')).toEqual([{ n: '0' }]);
    expect(await rows(dir, 'select count(*) as n from quarantine.orders')).toEqual([{ n: '4' }]);

    writeFileSync(join(dir, 'contracts/customers.yml'), CUSTOMERS);
    const retried = await run(dir, { retryRejected: true });
    expect(retried.refusedFiles).toEqual([]);
    expect(await rows(dir, 'select order_id from processed.orders order by 1')).toEqual([
      { order_id: '10' },
      { order_id: '12' },
    ]);
    expect(await rows(dir, 'select line_id from processed.lines')).toEqual([{ line_id: '100' }]);
  });

  it('get a later _loaded_at than the rows loaded with them, so incremental models see them', async () => {
    const dir = project();
    await run(dir);
    writeFileSync(join(dir, 'landing', 'customers-2.csv'), 'customer_id,name\n3,Cy\n');
    await run(dir);
    const loaded = await rows(
      dir,
      'select order_id, _loaded_at > (select max(_loaded_at) from processed.orders where order_id = 10) as later from processed.orders order by 1',
    );
    expect(loaded).toEqual([
      { order_id: '10', later: false },
      { order_id: '11', later: true },
      { order_id: '12', later: false },
    ]);
  });

  it('stay duplicates when another batch loaded their key meanwhile (append)', async () => {
    const dir = project();
    await run(dir);
    writeFileSync(join(dir, 'landing', 'orders-2.csv'), 'order_id,customer_id,note\n11,1,mine\n');
    await run(dir);
    writeFileSync(join(dir, 'landing', 'customers-2.csv'), 'customer_id,name\n3,Cy\n');
    await run(dir);
    expect(await rows(dir, 'select order_id, note from processed.orders order by 1')).toEqual([
      { order_id: '10', note: 'first' },
      { order_id: '11', note: 'mine' },
      { order_id: '12', note: null },
    ]);
    expect(
      await rows(dir, "select _reason, _column from quarantine.orders where order_id = '11'"),
    ).toEqual([{ _reason: 'duplicate_key', _column: 'order_id' }]);
  });

  it('give way to a newer batch and replace an older one (merge)', async () => {
    const dir = project({ disposition: 'merge' });
    await run(dir);
    // A newer batch brings order 13 with a customer that exists.
    writeFileSync(join(dir, 'landing', 'orders-2.csv'), 'order_id,customer_id,note\n13,1,newer\n');
    await run(dir);
    writeFileSync(join(dir, 'landing', 'customers-2.csv'), 'customer_id,name\n3,Cy\n4,Di\n');
    await run(dir);
    // 11 was waiting and loads; 13's waiting row is older than the loaded one, so it gives way.
    expect(await rows(dir, 'select order_id, note from processed.orders order by 1')).toEqual([
      { order_id: '10', note: 'first' },
      { order_id: '11', note: 'waits, for 3' },
      { order_id: '12', note: null },
      { order_id: '13', note: 'newer' },
    ]);
    expect(await rows(dir, 'select count(*) as n from quarantine.orders')).toEqual([{ n: '0' }]);
  });

  it('of a batch a later replace made history stay out; the current batch loads (replace)', async () => {
    const dir = project({ disposition: 'replace' });
    await run(dir);
    writeFileSync(
      join(dir, 'landing', 'orders-2.csv'),
      'order_id,customer_id,note\n20,1,now\n21,5,waits for 5\n',
    );
    await run(dir);
    writeFileSync(join(dir, 'landing', 'customers-2.csv'), 'customer_id,name\n3,Cy\n4,Di\n5,Ed\n');
    await run(dir);
    expect(await rows(dir, 'select order_id from processed.orders order by 1')).toEqual([
      { order_id: '20' },
      { order_id: '21' },
    ]);
  });

  it('load exactly once when the commit of a retry fails and the run is repeated', async () => {
    const dir = project();
    await run(dir);
    writeFileSync(join(dir, 'landing', 'customers-2.csv'), 'customer_id,name\n3,Cy\n');
    process.env.TRIBUTARY_FAULT = 'before-commit:orders';
    const failed = await run(dir);
    expect(step(failed, 'processed:orders').status).toBe('failed');
    delete process.env.TRIBUTARY_FAULT;
    expect(await rows(dir, 'select count(*) as n from processed.orders')).toEqual([{ n: '2' }]);
    await run(dir);
    await run(dir);
    expect(await rows(dir, 'select order_id from processed.orders order by 1')).toEqual([
      { order_id: '10' },
      { order_id: '11' },
      { order_id: '12' },
    ]);
    const manifest = await withWorkspace(dir, (ws) =>
      readManifest<TableManifest>(ws.store, lakeKeys.processedManifest('orders')),
    );
    // The batch's counts follow its rows: 3 loaded, 1 still waiting.
    const [batch] = Object.values(manifest!.batches);
    expect(batch).toMatchObject({ rowsIn: 4, rowsOut: 3, rowsRejected: 1 });
  });
});
