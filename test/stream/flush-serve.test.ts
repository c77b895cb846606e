/**
 * What `tributary serve` does with streams, in-process: the stream runtime (log opened,
 * configured streams created, flusher loop) beside the pipeline server; each committed batch
 * triggers the table's processing and its downstream model, so events appended to the log reach
 * processed Parquet and the model without anyone running anything, once each.
 */
import { describe, expect, it } from 'vitest';
import { PipelineServer, type Workspace } from '../../src/orchestrator/index.js';
import type { SchedulerEvent } from '../../src/orchestrator/index.js';
import { startStreamRuntime } from '../../src/stream/index.js';
import { withWorkspace, writeFiles } from '../helpers.js';
import { appendEvents, click, processedRows, streamProject } from './flush-helpers.js';

async function waitFor(check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function modelCount(ws: Workspace): Promise<number> {
  const { rows } = await ws.warehouse.query('SELECT n FROM main.click_count').catch(() => ({
    rows: [] as Record<string, unknown>[],
  }));
  return rows.length ? Number(rows[0]!.n) : -1;
}

describe('serve with streams', () => {
  it('runs processing and the downstream model after each committed batch', async () => {
    const dir = streamProject('{ max_bytes: 1MB, max_age: 200ms }');
    writeFiles(dir, {
      'models/_sources.yml': `version: 2
sources:
  - name: lake
    schema: processed
    tables: [{ name: clicks }]
`,
      'models/click_count.sql': `select count(*) as n from {{ source('lake', 'clicks') }}`,
    });
    await withWorkspace(dir, async (ws) => {
      const events: SchedulerEvent[] = [];
      const server = new PipelineServer(ws, {
        publish: false,
        onEvent: (e) => events.push(e),
      });
      await server.start();
      const runtime = await startStreamRuntime(ws.project, ws.store, {
        pollMs: 50,
        onBatch: (table) => server.streamLanded(table),
      });
      ws.streams = runtime.flusher;
      try {
        expect(runtime.created).toEqual(['clicks']);
        await appendEvents(runtime.log, [
          click('s1', '2026-03-02T10:00:00Z'),
          click('s2', '2026-03-02T11:00:00Z'),
        ]);
        await waitFor(async () => (await modelCount(ws)) === 2);
        await appendEvents(runtime.log, [click('s3', '2026-03-02T12:00:00Z')]);
        await waitFor(async () => (await modelCount(ws)) === 3);
        expect((await processedRows(ws)).map((r) => r.event_id).sort()).toEqual(['s1', 's2', 's3']);
        expect(events.some((e) => e.kind === 'trigger' && /stream clicks/.test(e.message))).toBe(
          true,
        );
      } finally {
        await runtime.stop();
        await server.stop();
      }
    });
  });
});
