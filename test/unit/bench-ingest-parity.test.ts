/**
 * bench:ingest times Tributary against a hand-written DuckDB script (bench/reference.sql) only
 * when both sides built the same data, and stops otherwise. When the template changed under it
 * (its clickstream moved to the stream) the bench stopped at that check for two days and no test
 * said so. This runs the real bench, both sides in their own processes, on a tiny scale, against
 * the built scripts (`npm test` builds dist/ first): the two sides must still agree on all 28
 * relations it compares. No time is asserted; benchmarks are never timed tests.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';

describe('bench:ingest', () => {
  const work = tempDir('trib-bench-ingest-');
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('builds the same data on both sides, so its ratio compares the same work', () => {
    const script = join(import.meta.dirname, '../../dist/bench/ingest.js');
    const run = spawnSync(
      process.execPath,
      [script, '--scales', '0.01', '--repeat', '1', '--work', work],
      { encoding: 'utf8', timeout: 300_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/SF0\.01 run 1\/1 .* 28 relations' totals identical/);
    expect(run.stdout).toMatch(/^\| SF0\.01 \| \d+ \|/m);
  }, 360_000);
});
