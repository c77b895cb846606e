/**
 * The collecting process end to end, in-process: `collectFor` (what `tributary collect` and
 * `serve` start) over a real project, producer keys from its state database, the real Kinesis
 * SDK and POST /api/events against the listening collector; a run then lands and processes what
 * was acknowledged, once, through the process's own flusher (no second opener of the log).
 */
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { collectFor } from '../../src/cli/commands/streams.js';
import { runPipeline } from '../../src/orchestrator/index.js';
import { TokenStore } from '../../src/serve/index.js';
import { withWorkspace } from '../helpers.js';
import { click, processedRows, quarantineRows, streamProject } from './flush-helpers.js';

describe('collect', () => {
  it('takes events from the Kinesis SDK and /api/events, and a run lands them once', async () => {
    const dir = streamProject('{ max_bytes: 1MB, max_age: 1h }', '');
    await withWorkspace(dir, async (ws) => {
      const tokens = await TokenStore.open(ws.state.engine);
      const key = await tokens.createProducer('test');
      const lines: string[] = [];
      const collecting = await collectFor(ws, { tokens, log: (l) => lines.push(l), port: 0 });
      const kinesis = new KinesisClient({
        endpoint: collecting.url,
        region: 'us-east-1',
        credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
        maxAttempts: 1,
      });
      try {
        const put = await kinesis.send(
          new PutRecordsCommand({
            StreamName: 'clicks',
            Records: [click('k1', '2026-03-02T10:00:00Z'), click('k2', '2026-03-02T10:05:00Z')].map(
              (e, i) => ({
                PartitionKey: `p${i}`,
                Data: Buffer.from(JSON.stringify(e)),
              }),
            ),
          }),
        );
        expect(put.FailedRecordCount).toBe(0);
        const posted = await fetch(`${collecting.url}/api/events/clicks`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key.token}`, 'content-type': 'application/json' },
          body: JSON.stringify([click('k3', '2026-03-02T10:10:00Z'), 'just a string']),
        });
        expect(posted.status).toBeLessThan(300);
        const run = await runPipeline(ws);
        expect(run.status).toBe('succeeded');
        expect((await processedRows(ws)).map((r) => r.event_id).sort()).toEqual(['k1', 'k2', 'k3']);
        expect((await quarantineRows(ws)).map((r) => r._reason)).toEqual(['not_object']);
        const again = await runPipeline(ws);
        expect(again.steps.find((s) => s.asset === 'raw:web.clicks')?.status).toBe('up_to_date');
      } finally {
        kinesis.destroy();
        await collecting.stop();
      }
      expect(lines.filter((l) => l.startsWith('error'))).toEqual([]);
    });
  });
});
