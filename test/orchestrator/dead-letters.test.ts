/**
 * Record dead letters: rows refused because their parent is not loaded yet are kept; once the
 * parent has arrived, a replay sends them through processing again and they are loaded exactly
 * once (a second replay is refused, and the replayed batch, addressed by content, lands once).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replayDeadLetter, runPipeline } from '../../src/orchestrator/index.js';
import { tempDir, withWorkspace, writeFiles } from '../helpers.js';

function project(disposition = 'append'): string {
  const dir = tempDir('trib-dlq-');
  writeFiles(dir, {
    'tributary.yml': `name: d
sources:
  shop:
    type: files
    path: landing
    tables:
      customers: { files: "customers*.csv" }
      orders: { files: "orders*.csv", disposition: ${disposition} }
`,
    'contracts/customers.yml': `primary_key: [customer_id]
columns:
  - { name: customer_id, type: bigint, required: true }
  - { name: name, type: string }
`,
    'contracts/orders.yml': `primary_key: [order_id]
columns:
  - { name: order_id, type: bigint, required: true }
  - { name: customer_id, type: bigint, required: true, references: customers.customer_id }
  - { name: note, type: string }
`,
    'landing/customers-1.csv': 'customer_id,name\n1,Ada\n2,Bo\n',
    'landing/orders-1.csv':
      'order_id,customer_id,note\n10,1,first\n11,3,"waits, for 3"\n12,2,\n13,4,waits for 4\n',
  });
  return dir;
}

describe('record dead letters', () => {
  it('replays rows refused for a missing parent once the parent has arrived', async () => {
    const dir = project();
    await withWorkspace(dir, async (ws) => {
      const first = await runPipeline(ws);
      expect(first.status).toBe('succeeded');
      const [entry, ...more] = await ws.dlq.list({ kind: 'record' });
      expect(more).toEqual([]);
      expect(entry).toMatchObject({ source: 'processed:orders', status: 'pending' });
      expect(entry!.payload).toMatchObject({ table: 'shop.orders', rows: 2 });
      expect(entry!.error).toMatch(
        /2 row\(s\) reference a parent not loaded yet \(customer_id → customers.customer_id\)/,
      );

      // Customer 3 arrives; 4 still does not exist.
      writeFileSync(join(dir, 'landing', 'customers-2.csv'), 'customer_id,name\n3,Cy\n');
      await runPipeline(ws);
      await replayDeadLetter(ws, entry!.id);
      await expect(replayDeadLetter(ws, entry!.id)).rejects.toThrow(/replayed/);

      const orders = await ws.warehouse.query(
        'select order_id, customer_id, note from processed.orders order by order_id',
      );
      expect(orders.rows).toEqual([
        { order_id: '10', customer_id: '1', note: 'first' },
        { order_id: '11', customer_id: '3', note: 'waits, for 3' },
        { order_id: '12', customer_id: '2', note: null },
      ]);
      // The row still without a parent is a new dead letter, from the replayed batch.
      const pending = await ws.dlq.list({ kind: 'record', status: 'pending' });
      expect(pending).toHaveLength(1);
      expect(pending[0]!.payload).toMatchObject({ rows: 1 });
      expect(pending[0]!.id).not.toBe(entry!.id);

      // Nothing runs twice: a later run changes nothing, the order count stays.
      await runPipeline(ws);
      const n = await ws.warehouse.query('select count(*) as n from processed.orders');
      expect(n.rows[0]!.n).toBe('3');
    });
  });

  it('refuses to replay rows of a table whose disposition is replace, naming why', async () => {
    const dir = project('replace');
    await withWorkspace(dir, async (ws) => {
      await runPipeline(ws);
      const [entry] = await ws.dlq.list({ kind: 'record' });
      await expect(replayDeadLetter(ws, entry!.id)).rejects.toThrow(/disposition is replace/);
      expect((await ws.dlq.get(entry!.id))!).toMatchObject({ status: 'pending', attempts: 2 });
    });
  });
});
