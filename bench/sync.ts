/**
 * `npm run bench:sync` (issue 17): reverse ETL, in two halves, each printing its figures against
 * a reference measured in the same run.
 * - diff (bench/sync-diff.ts, sy-core): the sync's diff of 1,000,000 source rows against the
 *   previous state, timed against the same diff as one plain DuckDB EXCEPT (target ≤ 1.5×).
 * - throughput (bench/sync-throughput-run.ts, sy-dest): 100,000 changed records through the
 *   HubSpot adapter to the HubSpot stand-in at its rate limit, 190 requests per 10 s (target
 *   ≥ 0.95 of the limit, no 429), against the unpaced capacity of adapter + stand-in.
 * Each half runs in a process of its own (neither's memory or event loop weighs on the other).
 *   npm run bench:sync -- [--only diff|throughput] [--rows N] [--repeat N]
 *                         [--records N] [--limit-requests N] [--limit-window 10s] [--in-flight N] [--json]
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { benchArgs } from './args.js';

const { values } = benchArgs(
  {
    options: {
      only: { type: 'string' },
      rows: { type: 'string' },
      repeat: { type: 'string' },
      records: { type: 'string' },
      'limit-requests': { type: 'string' },
      'limit-window': { type: 'string' },
      'in-flight': { type: 'string' },
      json: { type: 'boolean' },
    },
  },
  import.meta.url,
);
if (values.only && values.only !== 'diff' && values.only !== 'throughput')
  throw new Error(`--only ${values.only}: expected diff or throughput`);

/** The options one half takes, passed on as given. */
function pass(names: (keyof typeof values)[]): string[] {
  return names.flatMap((name) => {
    const value = values[name];
    if (value === undefined) return [];
    return typeof value === 'boolean' ? (value ? [`--${name}`] : []) : [`--${name}`, value];
  });
}

const halves = [
  { name: 'diff', script: 'sync-diff.js', args: pass(['rows', 'repeat']) },
  {
    name: 'throughput',
    script: 'sync-throughput-run.js',
    args: pass(['records', 'limit-requests', 'limit-window', 'in-flight', 'json']),
  },
];
let failed = false;
for (const half of halves) {
  if (values.only && values.only !== half.name) continue;
  const run = spawnSync(process.execPath, [join(import.meta.dirname, half.script), ...half.args], {
    stdio: 'inherit',
  });
  if (run.status !== 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
