/**
 * The server's triggers on a real project: a file that arrives runs its table through a
 * file_arrival trigger; a triggered run that fails becomes an `event` dead letter whose replay
 * runs the same selection again, exactly once; an upstream-updated trigger runs what is
 * downstream of the table that changed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  PipelineServer,
  openWorkspace,
  replayDeadLetter,
  type SchedulerEvent,
} from '../../src/orchestrator/index.js';
import { tempDir, writeFiles, restoreFaultAfterEach } from '../helpers.js';

restoreFaultAfterEach();

function project(triggers: string): string {
  const dir = tempDir('trib-server-');
  writeFiles(dir, {
    'tributary.yml': `name: s
sources:
  app:
    type: files
    path: landing
    tables:
      items: { files: "items*.csv" }
triggers:
${triggers}`,
    'contracts/items.yml': `primary_key: [id]
columns:
  - { name: id, type: bigint, required: true }
`,
    'landing/.keep': '',
    'models/_sources.yml': `version: 2
sources:
  - name: lake
    schema: processed
    tables: [{ name: items }]
`,
    'models/total.sql': `{{ config(materialized='table') }}
select count(*) as n from {{ source('lake', 'items') }}`,
  });
  return dir;
}

/** Collects server events and waits for one matching a pattern. */
function events() {
  const seen: SchedulerEvent[] = [];
  const waiters: { re: RegExp; resolve: (e: SchedulerEvent) => void }[] = [];
  return {
    seen,
    onEvent: (e: SchedulerEvent) => {
      seen.push(e);
      for (const w of [...waiters])
        if (w.re.test(e.message)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
    },
    next: (re: RegExp, ms = 20_000) =>
      new Promise<SchedulerEvent>((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`no event ${re}; saw:\n${seen.map((e) => e.message).join('\n')}`)),
          ms,
        );
        waiters.push({
          re,
          resolve: (e) => {
            clearTimeout(t);
            resolve(e);
          },
        });
      }),
  };
}

describe('server triggers', () => {
  it('a failed file-arrival run becomes a dead letter, and its replay applies it once', async () => {
    const dir = project(`  landing_files: { on: file_arrival, settle: 200ms }\n`);
    process.env.TRIBUTARY_FAULT = 'step:model:total';
    const ws = await openWorkspace(dir, 'test');
    const ev = events();
    const server = new PipelineServer(ws, { onEvent: ev.onEvent });
    try {
      await server.start();
      const finished = ev.next(/trigger:landing_files: run \S+ failed/);
      writeFileSync(join(dir, 'landing', 'items-1.csv'), 'id\n1\n2\n3\n');
      await finished;
      await server.stop();
      const [entry, ...more] = await ws.dlq.list();
      expect(more).toEqual([]);
      expect(entry).toMatchObject({
        kind: 'event',
        source: 'trigger:landing_files',
        status: 'pending',
      });
      expect(entry!.payload).toMatchObject({ select: ['raw:app.items+'] });
      expect(entry!.error).toMatch(/model:total: .*fault injected/);
      delete process.env.TRIBUTARY_FAULT;
      const replayed = await replayDeadLetter(ws, entry!.id);
      expect(replayed.status).toBe('replayed');
      await expect(replayDeadLetter(ws, entry!.id)).rejects.toThrow(/replayed/);
      const total = await ws.warehouse.query('select n from main.total');
      expect(total.rows[0]!.n).toBe('3');
      const items = await ws.warehouse.query('select count(*) as n from processed.items');
      expect(items.rows[0]!.n).toBe('3');
      const runs = await ws.state.listRuns();
      expect(runs.map((r) => r.trigger)).toEqual(['replay', 'trigger:landing_files']);
      // The server published after the run it ran (failed or not: what it built is published),
      // and says when; the replay ran outside any server, so nothing published it.
      const [replay, triggered] = runs;
      expect(triggered!.publishedAt! >= triggered!.finishedAt!).toBe(true);
      expect(replay!.publishedAt).toBeNull();
    } finally {
      await server.stop();
      await ws.close();
    }
  });

  it('an upstream-updated trigger runs what is downstream of the changed table', async () => {
    const dir =
      project(`  arrive: { on: file_arrival, settle: 200ms, run: ["raw:app.items", "processed:items"] }
  refresh: { on: asset_updated, assets: ["processed:items"] }
`);
    const ws = await openWorkspace(dir, 'test');
    const ev = events();
    const server = new PipelineServer(ws, { onEvent: ev.onEvent });
    try {
      await server.start();
      const refreshed = ev.next(/trigger:refresh: run \S+ succeeded/);
      writeFileSync(join(dir, 'landing', 'items-1.csv'), 'id\n1\n2\n');
      await refreshed;
      const runs = await ws.state.listRuns();
      expect(runs.map((r) => r.trigger)).toEqual(['trigger:refresh', 'trigger:arrive']);
      const steps = (await ws.state.listSteps(runs[0]!.runId)).map((s) => s.asset);
      expect(steps).toEqual(['model:total']);
      expect((await ws.warehouse.query('select n from main.total')).rows[0]!.n).toBe('2');
    } finally {
      await server.stop();
      await ws.close();
    }
  });
});
