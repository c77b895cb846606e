/**
 * The throughput half of `npm run bench:sync`: changed records through the HubSpot adapter to the
 * HubSpot stand-in enforcing its rate limit, and how close the adapter's pacing comes to the most
 * the limit allows, with no request refused.
 *
 * The stand-in (`crm-api`, in its own process) starts holding the records as a previous sync left
 * them (its data file, written directly, not measured), and every record is sent again with
 * changed values as batch upserts of 100: the "changed records" a sync sends. Several batches are in flight at once (`--in-flight`), sharing
 * the adapter's one pacer, as a runner would keep them to hide each request's latency.
 *
 * The ratios. A sliding window of L requests per W lets requests start no faster than L at once,
 * then L more each W. The sustained ratio (the target's): over the k = floor((R - 1) / L) whole
 * windows of the run, k×L requests ÷ the time from the first request's start to request k×L + 1's,
 * against the limit's L/W — 1.0 means every window was used in full. The span ratio: the fastest
 * possible schedule starts the last request floor((R - 1) / L) × W after the first; that ÷ the
 * measured span (it also charges the last, partial window's spread at the machine's own speed).
 * Plain requests/s ÷ L/W is printed too; it flatters a short run (the first window's burst).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubSpotDestination } from '../src/sync/destinations/hubspot.js';
import type { SyncRecord } from '../src/sync/destination.js';
import {
  HUBSPOT_TEST_TOKEN,
  type HubSpotStats,
} from '../templates/ecommerce/crm/hubspot-server.js';

export interface ThroughputOptions {
  records: number;
  limit: { requests: number; perMs: number };
  inFlight: number;
  log: (line: string) => void;
}

export interface ThroughputResult {
  records: number;
  requests: number;
  rejectedRecords: number;
  refused429: number;
  busiestWindow: number;
  limit: { requests: number; perMs: number };
  spanSeconds: number;
  requestsPerSecond: number;
  limitPerSecond: number;
  idealSpanSeconds: number;
  ratio: number;
  /** Whole windows: k×W ÷ the time from request 1 to request k×L + 1 (the sustained rate). */
  sustainedRatio: number;
  sustainedRequestsPerSecond: number;
  plainRatio: number;
  /** Why requests were sent again (a reset connection, a 5xx), one entry per retry. */
  retries: string[];
}

function contacts(count: number, round: number): SyncRecord[] {
  const segments = ['champions', 'loyal', 'at_risk', 'hibernating', 'new'];
  return Array.from({ length: count }, (_, i) => ({
    key: `customer${i}@example.com`,
    fields: {
      firstname: `Customer${i}`,
      lifetime_value: Math.round((i % 997) * 13.7 + round * 100) / 10,
      order_count: (i % 23) + round,
      rfm_segment: segments[(i + round) % segments.length]!,
      last_order_date: `2026-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`,
    },
  }));
}

/** Sends every record as upserts of 100, `inFlight` batches at a time; rejected record count. */
async function sendAll(
  destination: HubSpotDestination,
  records: SyncRecord[],
  inFlight: number,
): Promise<number> {
  let next = 0;
  let rejected = 0;
  const worker = async () => {
    for (;;) {
      const start = next;
      next += 100;
      if (start >= records.length) return;
      const results = await destination.write({
        object: 'contacts',
        operation: 'upsert',
        matchField: 'email',
        records: records.slice(start, start + 100),
      });
      rejected += results.filter((r) => r.status === 'rejected').length;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return rejected;
}

/** Writes the stand-in's data file holding every contact as a previous sync left it. */
async function preloadedDataFile(dir: string, records: SyncRecord[]): Promise<void> {
  const now = new Date().toISOString();
  const contacts = records.map((r, i) => {
    const id = String(i + 1);
    const properties: Record<string, string> = {
      email: r.key,
      hs_object_id: id,
      createdate: now,
      lastmodifieddate: now,
    };
    for (const [name, value] of Object.entries(r.fields)) properties[name] = String(value);
    return { id, properties, createdAt: now, updatedAt: now };
  });
  await mkdir(join(dir, 'crm'), { recursive: true });
  await writeFile(
    join(dir, 'crm', 'hubspot.json'),
    JSON.stringify({ nextId: records.length + 1, objects: { contacts, companies: [] } }),
  );
}

/**
 * Starts `crm-api` (the stand-in as users run it) in its own process, so the stand-in and the
 * adapter do not share one event loop and one scheduler share on a busy machine.
 */
async function startStandIn(
  dir: string,
  limit: { requests: number; perMs: number },
): Promise<{ url: string; child: ChildProcess }> {
  const script = join(import.meta.dirname, '..', 'templates', 'ecommerce', 'crm', 'crm-api.js');
  const child = spawn(
    process.execPath,
    [script, dir, '--port', '0', '--limit', `${limit.requests}/${limit.perMs}ms`],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /http:\/\/[\d.]+:\d+/.exec(seen);
      if (match) resolve(match[0]);
    });
    child.once('exit', (code) =>
      reject(new Error(`crm-api exited (${code}) before listening: ${seen}`)),
    );
  });
  return { url, child };
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Sends records through a HubSpot adapter paced to `limit`; each request's start time. */
async function timedSend(
  url: string,
  limit: { requests: number; perMs: number },
  records: SyncRecord[],
  inFlight: number,
  log: (line: string) => void,
): Promise<{ starts: number[]; rejected: number; retries: string[] }> {
  const starts: number[] = [];
  const retries: string[] = [];
  const timedFetch: typeof fetch = (input, init) => {
    starts.push(performance.now());
    return fetch(input, init);
  };
  const destination = new HubSpotDestination({
    name: 'bench',
    baseUrl: url,
    token: HUBSPOT_TEST_TOKEN,
    rateLimit: limit,
    fetch: timedFetch,
    onWait: (ms, why) => {
      if (why.includes('429')) log(`  wait ${ms} ms: ${why}`);
      else if (why.includes('retry')) retries.push(why.replace(/, retry \d+ of \d+$/, ''));
    },
  });
  const rejected = await sendAll(destination, records, inFlight);
  return { starts, rejected, retries };
}

/**
 * The reference: requests/s the adapter and the stand-in manage on this machine with no limit
 * at all (upserts of 100, the same in-flight count), over `records` changed records.
 */
export async function measureCapacity(opts: {
  records: number;
  inFlight: number;
  log: (line: string) => void;
}): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-sync-'));
  let child: ChildProcess | undefined;
  try {
    await preloadedDataFile(dir, contacts(opts.records, 0));
    const unlimited = { requests: 1_000_000, perMs: 1000 };
    const standIn = await startStandIn(dir, unlimited);
    child = standIn.child;
    const { starts } = await timedSend(
      standIn.url,
      unlimited,
      contacts(opts.records, 2),
      opts.inFlight,
      opts.log,
    );
    return (starts.length - 1) / ((starts.at(-1)! - starts[0]!) / 1000);
  } finally {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runThroughput(opts: ThroughputOptions): Promise<ThroughputResult> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-sync-'));
  let child: ChildProcess | undefined;
  try {
    opts.log(
      `preloading ${opts.records.toLocaleString()} contacts into the stand-in's data file (not measured)…`,
    );
    await preloadedDataFile(dir, contacts(opts.records, 0));
    const standIn = await startStandIn(dir, opts.limit);
    child = standIn.child;
    opts.log(
      `sending ${opts.records.toLocaleString()} changed contacts as upserts of 100 at ${opts.limit.requests} requests per ${opts.limit.perMs / 1000} s, ${opts.inFlight} batches in flight…`,
    );
    const { starts, rejected, retries } = await timedSend(
      standIn.url,
      opts.limit,
      contacts(opts.records, 1),
      opts.inFlight,
      opts.log,
    );
    const stats = (await (await fetch(`${standIn.url}/_standin/stats`)).json()) as HubSpotStats;
    const requests = starts.length;
    const spanSeconds = (starts.at(-1)! - starts[0]!) / 1000;
    const idealSpanSeconds =
      (Math.floor((requests - 1) / opts.limit.requests) * opts.limit.perMs) / 1000;
    const limitPerSecond = (opts.limit.requests * 1000) / opts.limit.perMs;
    const requestsPerSecond = requests / spanSeconds;
    const windows = Math.floor((requests - 1) / opts.limit.requests);
    const wholeWindowsSeconds = (starts[windows * opts.limit.requests]! - starts[0]!) / 1000;
    const sustainedRequestsPerSecond = (windows * opts.limit.requests) / wholeWindowsSeconds;
    return {
      sustainedRatio: sustainedRequestsPerSecond / limitPerSecond,
      sustainedRequestsPerSecond,
      records: opts.records,
      requests,
      rejectedRecords: rejected,
      refused429: stats.rateLimited,
      busiestWindow: stats.busiestWindow,
      limit: opts.limit,
      spanSeconds,
      requestsPerSecond,
      limitPerSecond,
      idealSpanSeconds,
      ratio: idealSpanSeconds / spanSeconds,
      plainRatio: requestsPerSecond / limitPerSecond,
      retries,
    };
  } finally {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  }
}
