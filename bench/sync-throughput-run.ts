/**
 * The throughput half of `npm run bench:sync` (bench/sync.ts runs the diff half, then this).
 * - throughput (bench/sync-throughput.ts): 100,000 changed records through the HubSpot adapter to
 *   the HubSpot stand-in at its rate limit; the achieved request rate as a fraction of the most
 *   the limit allows (target ≥ 0.95) and the 429s the stand-in had to send (target 0).
 *   The stand-in enforces HubSpot's private-app limit, 190 requests per 10 s, by default: 1,000
 *   requests of 100 records take ~50 s at it. `--limit-window 1s` (or 2s, 5s) scales the window
 *   down. The reference, measured first in the same run, is the unpaced capacity of adapter +
 *   stand-in on this machine: a limit near or above it measures the machine, not the pacing (on
 *   the shared 2-core machine, 190 per 1 s is above it).
 * - the diff half is bench/sync-diff.ts.
 *   npm run bench:sync -- [--records 100000] [--limit-requests 190] [--limit-window 10s]
 *                         [--in-flight 4] [--json]
 */
import { loadavg } from 'node:os';
import { benchArgs } from './args.js';
import { parseDuration } from '../src/core/duration.js';
import { measureCapacity, runThroughput } from './sync-throughput.js';

const { values } = benchArgs(
  {
    options: {
      records: { type: 'string', default: '100000' },
      'limit-requests': { type: 'string', default: '190' },
      'limit-window': { type: 'string', default: '10s' },
      'in-flight': { type: 'string', default: '4' },
      json: { type: 'boolean', default: false },
    },
  },
  import.meta.url,
);
const log = (line: string) => process.stderr.write(`${line}\n`);
const records = Number(values.records);
const inFlight = Number(values['in-flight']);
const perMs = parseDuration(values['limit-window']);
if (!perMs)
  throw new Error(`--limit-window ${values['limit-window']}: expected a duration such as 10s`);
const limit = { requests: Number(values['limit-requests']), perMs };
const TARGET_RATIO = 0.95;

log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} (the machine is shared)`,
);
log('measuring the unpaced capacity of adapter + stand-in on this machine (the reference)…');
const capacity = await measureCapacity({ records: Math.min(records, 5_000), inFlight, log });
const result = await runThroughput({ records, limit, inFlight, log });
const scaled =
  perMs === 10_000 && limit.requests === 190
    ? "HubSpot's real private-app limit"
    : "scaled from HubSpot's 190 per 10 s";
const share = result.limitPerSecond / capacity;
const lines = [
  `throughput: ${result.records.toLocaleString()} changed contacts, ${result.requests} requests (upserts of 100) to the HubSpot stand-in at ${limit.requests} requests per ${perMs / 1000} s (${scaled}), ${inFlight} batches in flight`,
  `  reference: unpaced capacity of adapter + stand-in on this machine now ${capacity.toFixed(1)} requests/s; the limit's ${result.limitPerSecond.toFixed(1)}/s is ${share.toFixed(2)} of it${share > 0.8 ? ' (too close: this run measures the machine, not the pacing)' : ''}`,
  `  sustained over whole windows: ${result.sustainedRequestsPerSecond.toFixed(2)} requests/s vs the limit's ${result.limitPerSecond.toFixed(1)}/s: ratio ${result.sustainedRatio.toFixed(3)} (target >= ${TARGET_RATIO}: ${result.sustainedRatio >= TARGET_RATIO ? 'met' : 'NOT met'})`,
  `  span first->last request ${result.spanSeconds.toFixed(2)} s vs the fastest the limit allows ${result.idealSpanSeconds.toFixed(2)} s: ratio ${result.ratio.toFixed(3)} (includes the last partial window's spread)`,
  `  ${result.requestsPerSecond.toFixed(1)} requests/s over the whole span vs ${result.limitPerSecond.toFixed(1)}/s: ${result.plainRatio.toFixed(3)}`,
  `  429s from the stand-in: ${result.refused429}; busiest window ${result.busiestWindow} of ${limit.requests}; rejected records ${result.rejectedRecords}; requests retried ${result.retries.length}${result.retries.length ? ` (${[...new Set(result.retries)].join('; ')})` : ''}`,
];
if (values.json)
  process.stdout.write(`${JSON.stringify({ throughput: { ...result, capacity } }, null, 2)}\n`);
else process.stdout.write(`${lines.join('\n')}\n`);
process.exitCode = result.refused429 === 0 && result.rejectedRecords === 0 ? 0 : 1;
