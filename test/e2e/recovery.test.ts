/**
 * Crash recovery with real processes: `tributary run` is killed with SIGKILL in the middle of a
 * slow step; `tributary serve` started afterwards finds the run left "running", marks it failed
 * and resumes it, running only what had not finished; the data is there exactly once. A SIGTERM
 * to `serve` lets the running step finish and stops cleanly. The tests act on what the processes
 * print, never on elapsed time: the `running <step>` line comes once history has the step as
 * running (and only while it still runs), so a kill after it is a kill in the middle of that step.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, withWorkspace, writeFiles } from '../helpers.js';

const BIN = resolve(import.meta.dirname, '../../bin/tributary.js');

function project(): string {
  const dir = tempDir('trib-recovery-');
  writeFiles(dir, {
    'tributary.yml': `name: rec
sources:
  app:
    type: files
    path: landing
    tables:
      items: { files: "items*.csv" }
concurrency: 1
`,
    'contracts/items.yml': `primary_key: [id]
columns:
  - { name: id, type: bigint, required: true }
  - { name: amount, type: double }
`,
    'landing/items-1.csv': 'id,amount\n1,10\n2,5\n3,7\n',
    'models/_sources.yml': `version: 2
sources:
  - name: lake
    schema: processed
    tables: [{ name: items }]
`,
    // Slow enough (a few seconds) to be killed in the middle of.
    'models/slow.sql': `{{ config(materialized='table') }}
select (select count(*) from {{ source('lake', 'items') }}) as items,
       sum((x.range * 7 + y.range) % 13) as n from range(15000) x cross join range(15000) y`,
    'models/after.sql': `{{ config(materialized='table') }}
select items, n from {{ ref('slow') }}`,
  });
  return dir;
}

/** Spawns the CLI; resolves `waitFor(re)` when stderr has printed a matching line. */
function cli(dir: string, args: string[]) {
  const child: ChildProcess = spawn(process.execPath, [BIN, '-p', dir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TRIBUTARY_FAULT: '' },
  });
  let stderr = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const w of [...waiters]) {
      if (w.re.test(stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  child.stdout!.resume();
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    exited,
    output: () => stderr,
    waitFor: (re: RegExp, ms = 60_000) =>
      new Promise<void>((resolveWait, reject) => {
        if (re.test(stderr)) return resolveWait();
        const t = setTimeout(
          () => reject(new Error(`no ${re} within ${ms} ms; stderr:\n${stderr}`)),
          ms,
        );
        waiters.push({
          re,
          resolve: () => {
            clearTimeout(t);
            resolveWait();
          },
        });
      }),
  };
}

/** A project whose `tributary run` was killed with SIGKILL in the middle of its slow step. */
async function projectWithKilledRun(): Promise<string> {
  const dir = project();
  const run = cli(dir, ['--verbose', 'run']);
  await run.waitFor(/^running\s+model:slow$/m);
  run.child.kill('SIGKILL');
  expect(await run.exited).toBeNull();
  return dir;
}

describe('crash recovery', () => {
  it('resumes a run killed with SIGKILL mid-step, without losing or doubling data', async () => {
    const dir = await projectWithKilledRun();

    const serve = cli(dir, ['serve', '--port', '0']);
    await serve.waitFor(/resuming it/);
    await serve.waitFor(/recovery: run \S+ succeeded/);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);

    await withWorkspace(dir, async (ws) => {
      const runs = await ws.state.listRuns();
      expect(runs).toHaveLength(2);
      const [resumed, killed] = runs as [(typeof runs)[0], (typeof runs)[0]];
      expect(killed.status).toBe('failed');
      expect(resumed).toMatchObject({
        status: 'succeeded',
        resumedFrom: killed.runId,
        trigger: 'recovery',
      });
      const killedSteps = await ws.state.listSteps(killed.runId);
      expect(killedSteps.find((s) => s.asset === 'model:slow')).toMatchObject({
        status: 'failed',
        message: 'the process stopped before this step finished',
      });
      const resumedSteps = (await ws.state.listSteps(resumed.runId)).map((s) => s.asset);
      expect(resumedSteps.sort()).toEqual(['model:after', 'model:slow']);
      const items = await ws.warehouse.query('select count(*) as n from processed.items');
      expect(items.rows[0]!.n).toBe('3');
      const after = await ws.warehouse.query('select items, n from main.after');
      expect(after.rows[0]!.items).toBe('3');
    });
  }, 120_000);

  it('on SIGTERM lets the running step finish, cancels the rest and exits 0', async () => {
    // A run to resume gives serve work to be in the middle of.
    const dir = await projectWithKilledRun();

    const serve = cli(dir, ['serve', '--port', '0']);
    await serve.waitFor(/recovery: run \S+ started/);
    await serve.waitFor(/ running\s+model:slow$/m); // serve prefixes each line with its time
    serve.child.kill('SIGTERM');
    await serve.waitFor(/SIGTERM: finishing running steps/);
    expect(await serve.exited).toBe(0);

    await withWorkspace(dir, async (ws) => {
      const [resumed] = await ws.state.listRuns();
      expect(resumed!.status).toBe('cancelled');
      const steps = await ws.state.listSteps(resumed!.runId);
      expect(steps.find((s) => s.asset === 'model:slow')!.status).toBe('succeeded');
      expect(steps.find((s) => s.asset === 'model:after')!.status).toBe('cancelled');
    });
  }, 120_000);

  it('on SIGTERM while serve is still starting, exits 0 all the same', async () => {
    // The signal comes as soon as the resumed run starts, before the HTTP server listens: what
    // starts after the stop (the listening socket) must be closed too, or the process never ends.
    const dir = await projectWithKilledRun();

    const serve = cli(dir, ['serve', '--port', '0']);
    await serve.waitFor(/recovery: run \S+ started/);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
  }, 120_000);
});
