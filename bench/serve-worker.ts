/**
 * One measured side of `bench:serve`, in a child process of its own so its peak memory is its
 * alone.
 *
 *   queries <setup.json> sandbox|inprocess|reference
 *     Answers the parent's steps, one JSON line in and one out, for the tiles of the project's
 *     dashboards with default filters: `cold <tile>` (a fresh DuckDB instance opened, then the
 *     tile's first query timed), `warmup` (one instance, every tile run twice, a digest of the
 *     rows of each query), `warm <tile>` (timed on that instance, no result cache), `cached
 *     <tile>` (through a shared, filled QueryCache), `throughput <ms>` (tiles run uncached by
 *     THROUGHPUT_CONCURRENCY callers at once for that long: tile runs per second and CPU
 *     seconds) and `end` (peak memory). `sandbox` is what the API runs: QuerySandbox, opened as
 *     `tributary serve` opens it (its pool of query processes under its own limits) + runTile;
 *     `inprocess` is the sandbox as it ran before the pool: a DuckDBSandbox in this process with
 *     the same open options (memory limit, threads) + runTile; `reference` runs the same SQL
 *     with the same bound values straight on @duckdb/node-api. The parent alternates the
 *     processes step by step, so all are sampled in the same seconds of a shared, noisy machine.
 *   http <setup.json>
 *     The API as `tributary serve` wires it (buildApp, dashboardRoutes, QuerySandbox, TokenStore)
 *     listening on 127.0.0.1, port 0. Prints `{ url, token }` (a viewer token), serves until
 *     stdin ends, then prints the query cache's counters and its peak memory.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { DuckDBSandbox, openDuckDB } from '../src/engines/index.js';
import { openWorkspace, readServingSnapshot } from '../src/orchestrator/index.js';
import {
  QueryCache,
  QuerySandbox,
  SANDBOX_DEFAULTS,
  columnKind,
  sandboxOpenOptions,
  TokenStore,
  buildApp,
  dashboardRoutes,
  loadDashboards,
  runTile,
  type Dashboard,
  type ParamValue,
  type SqlResult,
  type SqlRunner,
  type Tile,
} from '../src/serve/index.js';
import type { ServeSetup } from './serve-setup.js';

/** What runTile sends to the runner for one tile: one query, or two for a KPI with a comparison. */
export interface TileQueries {
  key: string;
  dashboard: string;
  tile: string;
  queries: { sql: string; params: Record<string, ParamValue> }[];
}

const digest = (rows: unknown[]) =>
  `${rows.length}:${createHash('sha256').update(JSON.stringify(rows)).digest('hex').slice(0, 12)}`;

/**
 * The queries runTile would send for each tile with default filters, found by running it on a
 * runner that only records (and answers with no rows): exactly the SQL and values the API binds.
 */
export async function tileQueries(dashboards: Dashboard[]): Promise<TileQueries[]> {
  const out: TileQueries[] = [];
  for (const d of dashboards) {
    for (const tile of d.tiles) {
      const queries: TileQueries['queries'] = [];
      const recorder: SqlRunner = {
        query: async (sql, params = {}) => {
          queries.push({ sql, params });
          return { columns: [], rows: [], truncated: false, dataVersion: 'x', ms: 0 };
        },
        dataVersion: () => 'x',
        versionOf: async () => 'x',
      };
      await runTile(recorder, d, tile, {});
      out.push({ key: `${d.name}/${tile.id}`, dashboard: d.name, tile: tile.id, queries });
    }
  }
  return out;
}

function tilesOf(dashboards: Dashboard[]): { key: string; d: Dashboard; tile: Tile }[] {
  return dashboards.flatMap((d) =>
    d.tiles.map((tile) => ({ key: `${d.name}/${tile.id}`, d, tile })),
  );
}

/** A runner that passes queries through and keeps a digest of each result, in call order. */
function recording(runner: SqlRunner, into: string[]): SqlRunner {
  return {
    query: async (sql, params, limits) => {
      const i = into.push('') - 1; // call order, not completion order
      const r: SqlResult = await runner.query(sql, params, limits);
      into[i] = digest(r.rows);
      return r;
    },
    dataVersion: () => runner.dataVersion(),
    versionOf: (sql) => runner.versionOf(sql),
  };
}

/**
 * One side of the tile measurements, driven one step at a time by the parent so the two sides
 * (each in its own process) are sampled seconds apart and a busy machine slows both alike.
 */
export interface Side {
  /** A fresh instance: its open time, then the tile's first query on it (ms); closed after. */
  cold(key: string): Promise<{ openMs: number; ms: number }>;
  /** Opens the warm instance and runs every tile twice; a digest per query of each tile. */
  warmup(): Promise<Record<string, string[]>>;
  /** The tile on the warm instance, no result cache (ms). */
  warm(key: string): Promise<number>;
  /** The tile through a warm shared QueryCache, a hit (ms); null on the reference side. */
  cached(key: string): Promise<number | null>;
  /** Tile runs per second over `ms` with THROUGHPUT_CONCURRENCY callers, and CPU seconds. */
  throughput(ms: number): Promise<{ perSecond: number; cpuSeconds: number } | null>;
  close(): Promise<void> | void;
}

/** Callers at once in the throughput step: twice the pool's default processes. */
export const THROUGHPUT_CONCURRENCY = 4;

/**
 * `run` called by THROUGHPUT_CONCURRENCY callers over the tiles in turn for `ms`: completed runs
 * per second, and CPU seconds of this process and (for the pool) its query processes.
 */
async function measureThroughput(
  keys: string[],
  ms: number,
  run: (key: string) => Promise<unknown>,
  childCpu: () => number = () => 0,
): Promise<{ perSecond: number; cpuSeconds: number }> {
  let next = 0;
  let done = 0;
  const cpu0 = process.cpuUsage();
  const child0 = childCpu();
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: THROUGHPUT_CONCURRENCY }, async () => {
      while (performance.now() < end) {
        await run(keys[next++ % keys.length]!);
        done++;
      }
    }),
  );
  const took = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    perSecond: done / (took / 1000),
    cpuSeconds: (cpu.user + cpu.system) / 1e6 + (childCpu() - child0),
  };
}

/** CPU seconds (user + system) the given processes have used so far, from /proc. */
function cpuSecondsOf(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      // gone
    }
  }
  return ticks / 100; // USER_HZ
}

async function sandboxSide(setup: ServeSetup): Promise<Side> {
  const tiles = new Map(tilesOf(await loadDashboards(setup.project)).map((t) => [t.key, t]));
  const get = (key: string) => {
    const t = tiles.get(key);
    if (!t) throw new Error(`no tile ${key}`);
    return t;
  };
  let sandbox: QuerySandbox | undefined;
  // The API's path: one QueryCache shared by every request, filled by the first one.
  const cache = new QueryCache({ maxEntries: 2000 });
  return {
    // A new QuerySandbox opened the way serve opens it (refresh() at start-up and after each
    // publish), then the tile's first query, no cache.
    async cold(key) {
      const { d, tile } = get(key);
      const fresh = new QuerySandbox({ dir: setup.servingDir });
      try {
        const t0 = performance.now();
        await fresh.refresh();
        // serve starts its query processes before it listens: their start is part of opening.
        await fresh.started();
        const t1 = performance.now();
        await runTile(fresh, d, tile, {});
        return { openMs: t1 - t0, ms: performance.now() - t1 };
      } finally {
        await fresh.close();
      }
    },
    async warmup() {
      sandbox = new QuerySandbox({ dir: setup.servingDir });
      await sandbox.refresh();
      const digests: Record<string, string[]> = {};
      for (const { key, d, tile } of tiles.values()) {
        const into: string[] = [];
        await runTile(recording(sandbox, into), d, tile, {});
        await runTile(sandbox, d, tile, {}, { cache });
        digests[key] = into;
      }
      cache.resetStats();
      return digests;
    },
    async warm(key) {
      const { d, tile } = get(key);
      const t = performance.now();
      await runTile(sandbox!, d, tile, {});
      return performance.now() - t;
    },
    async cached(key) {
      const { d, tile } = get(key);
      const t = performance.now();
      const r = await runTile(sandbox!, d, tile, {}, { cache });
      const took = performance.now() - t;
      if (!r.cached || cache.stats().misses)
        throw new Error(`${key}: expected a cache hit on a warm cache`);
      return took;
    },
    async throughput(ms) {
      const s = sandbox!;
      return measureThroughput(
        [...tiles.keys()],
        ms,
        (key) => runTile(s, get(key).d, get(key).tile, {}),
        () => cpuSecondsOf(s.processIds()),
      );
    },
    close: () => sandbox?.close(),
  };
}

/**
 * The sandbox as it ran before the pool: a DuckDBSandbox in this process, opened with the
 * options the pool's processes get, behind the same SqlRunner surface runTile uses.
 */
async function openInProcess(setup: ServeSetup): Promise<SqlRunner & { close(): void }> {
  const snapshot = await readServingSnapshot(setup.servingDir);
  if (!snapshot) throw new Error(`no serving snapshot in ${setup.servingDir}`);
  const db = await DuckDBSandbox.open(
    // The pool's default role (viewer), so both sides read the same copy under the same checks.
    sandboxOpenOptions(snapshot, SANDBOX_DEFAULTS.memoryCapMb, SANDBOX_DEFAULTS.threads, 'viewer'),
  );
  return {
    async query(sql, params = {}, limits = {}) {
      const t = performance.now();
      const r = await db.query(sql, params, {
        rowLimit: limits.rowLimit ?? SANDBOX_DEFAULTS.rowLimit,
        timeoutMs: limits.timeoutMs ?? SANDBOX_DEFAULTS.timeoutMs,
      });
      return {
        columns: r.columns.map((c) => ({ name: c.name, type: c.type, kind: columnKind(c) })),
        rows: r.rows,
        truncated: r.truncated,
        dataVersion: snapshot.version,
        ms: performance.now() - t,
      };
    },
    dataVersion: () => snapshot.version,
    versionOf: async () => snapshot.version,
    close: () => db.close(),
  };
}

async function inProcessSide(setup: ServeSetup): Promise<Side> {
  const tiles = new Map(tilesOf(await loadDashboards(setup.project)).map((t) => [t.key, t]));
  const get = (key: string) => {
    const t = tiles.get(key);
    if (!t) throw new Error(`no tile ${key}`);
    return t;
  };
  let runner: Awaited<ReturnType<typeof openInProcess>> | undefined;
  return {
    async cold(key) {
      const { d, tile } = get(key);
      const t0 = performance.now();
      const fresh = await openInProcess(setup);
      const t1 = performance.now();
      try {
        await runTile(fresh, d, tile, {});
        return { openMs: t1 - t0, ms: performance.now() - t1 };
      } finally {
        fresh.close();
      }
    },
    async warmup() {
      runner = await openInProcess(setup);
      const digests: Record<string, string[]> = {};
      for (const { key, d, tile } of tiles.values()) {
        const into: string[] = [];
        await runTile(recording(runner, into), d, tile, {});
        await runTile(runner, d, tile, {});
        digests[key] = into;
      }
      return digests;
    },
    async warm(key) {
      const { d, tile } = get(key);
      const t = performance.now();
      await runTile(runner!, d, tile, {});
      return performance.now() - t;
    },
    cached: async () => null,
    async throughput(ms) {
      const r = runner!;
      return measureThroughput([...tiles.keys()], ms, (key) =>
        runTile(r, get(key).d, get(key).tile, {}),
      );
    },
    close: () => runner?.close(),
  };
}

/** The plain side: a read-only instance on the snapshot file, nothing else set. */
async function openReference(file: string) {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const conns: DuckDBConnection[] = [];
  return {
    /** `n` connections, made on first use and kept (the sandbox makes one per query). */
    async connections(n: number): Promise<DuckDBConnection[]> {
      while (conns.length < n) conns.push(await instance.connect());
      return conns.slice(0, n);
    },
    close() {
      for (const c of conns) c.closeSync();
      instance.closeSync();
    },
  };
}

/** A tile's queries at once (as runTile sends them), each on its own connection; rows as JSON. */
async function runReference(ref: Awaited<ReturnType<typeof openReference>>, t: TileQueries) {
  const conns = await ref.connections(t.queries.length);
  return Promise.all(
    t.queries.map(async (q, i) => {
      const reader = await conns[i]!.runAndReadAll(
        q.sql,
        Object.keys(q.params).length ? (q.params as Record<string, DuckDBValue>) : undefined,
      );
      return reader.getRowObjectsJson();
    }),
  );
}

async function referenceSide(setup: ServeSetup): Promise<Side> {
  const tiles = new Map(
    (await tileQueries(await loadDashboards(setup.project))).map((t) => [t.key, t]),
  );
  const get = (key: string) => {
    const t = tiles.get(key);
    if (!t) throw new Error(`no tile ${key}`);
    return t;
  };
  let ref: Awaited<ReturnType<typeof openReference>> | undefined;
  return {
    // A fresh instance; its connections are made inside the timed query, as the sandbox makes
    // a connection inside each query.
    async cold(key) {
      const t0 = performance.now();
      const fresh = await openReference(setup.snapshotFile);
      const t1 = performance.now();
      try {
        await runReference(fresh, get(key));
        return { openMs: t1 - t0, ms: performance.now() - t1 };
      } finally {
        fresh.close();
      }
    },
    async warmup() {
      ref = await openReference(setup.snapshotFile);
      const digests: Record<string, string[]> = {};
      for (const t of tiles.values()) {
        digests[t.key] = (await runReference(ref, t)).map(digest);
        await runReference(ref, t);
      }
      return digests;
    },
    async warm(key) {
      const t = performance.now();
      await runReference(ref!, get(key));
      return performance.now() - t;
    },
    cached: async () => null,
    // Not measured: its connections are shared by the tiles, one caller at a time.
    throughput: async () => null,
    close: () => ref?.close(),
  };
}

/** Answers the parent's steps (`{ op, key }` lines) until `end`, one JSON line each. */
async function serveSteps(side: Side): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const { op, key } = JSON.parse(line) as { op: string; key: string };
    let out: unknown;
    if (op === 'cold') out = await side.cold(key);
    else if (op === 'warmup') out = await side.warmup();
    else if (op === 'warm') out = await side.warm(key);
    else if (op === 'cached') out = await side.cached(key);
    else if (op === 'throughput') out = await side.throughput(Number(key));
    else if (op === 'end') {
      await side.close();
      process.stdout.write(
        `${JSON.stringify({ maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`,
      );
      lines.close();
      return;
    } else throw new Error(`unknown step ${op}`);
    process.stdout.write(`${JSON.stringify(out)}\n`);
  }
}

/** The API as serve wires it, on 127.0.0.1 and a free port, until stdin closes. */
async function http(setup: ServeSetup): Promise<void> {
  const ws = await openWorkspace(setup.project, 'bench:serve http');
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-serve-state-'));
  const stateEngine = await openDuckDB({ path: join(stateDir, 'state.duckdb') });
  const sandbox = new QuerySandbox({ dir: setup.servingDir });
  try {
    await sandbox.refresh();
    const tokens = await TokenStore.open(stateEngine);
    const viewer = await tokens.create('viewer', 'bench');
    const service = dashboardRoutes(await loadDashboards(setup.project), sandbox);
    const app = await buildApp({
      ws,
      tokens,
      sql: sandbox,
      dashboards: service,
      version: 'bench',
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.stdout.write(
      `${JSON.stringify({ url: `http://127.0.0.1:${port}`, token: viewer.token })}\n`,
    );
    await new Promise<void>((resolve) => {
      process.stdin.on('data', () => undefined);
      process.stdin.on('end', resolve);
      process.stdin.resume();
    });
    await app.close();
    process.stdout.write(
      `${JSON.stringify({ cache: service.cache.stats(), maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`,
    );
  } finally {
    await sandbox.close();
    await stateEngine.close();
    await ws.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const isMain = process.argv[1]?.endsWith('serve-worker.js');
if (isMain) {
  const [mode, setupFile, side] = process.argv.slice(2);
  const setup = JSON.parse(readFileSync(setupFile!, 'utf8')) as ServeSetup;
  if (mode === 'http') await http(setup);
  else if (mode === 'queries')
    await serveSteps(
      side === 'sandbox'
        ? await sandboxSide(setup)
        : side === 'inprocess'
          ? await inProcessSide(setup)
          : await referenceSide(setup),
    );
  else throw new Error(`unknown mode ${mode}: queries or http`);
}
