/**
 * Where the tiles of `bench:serve` spend their time, measured on a plain read-only
 * @duckdb/node-api connection to the benchmark's serving snapshot (no sandbox, no cache), with
 * the SQL and values runTile binds (default filters). For each tile query, on a fresh instance
 * (cold) and again (warm): latency, DuckDB's CPU time (all its threads; less disturbed by a busy
 * machine than wall time) and the operators that took most of it, from DuckDB's JSON profile.
 * `--plan` prints the whole EXPLAIN ANALYZE tree instead. Run `npm run bench:serve` once first,
 * so the snapshot exists.
 *   node dist/bench/serve-explain.js [dashboard/tile …] [--scale 1] [--plan]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchArgs } from './args.js';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { loadDashboards } from '../src/serve/index.js';
import type { ServeSetup } from './serve-setup.js';
import { tileQueries, type TileQueries } from './serve-worker.js';

const { values, positionals } = benchArgs(
  {
    allowPositionals: true,
    options: {
      scale: { type: 'string', default: '1' },
      plan: { type: 'boolean', default: false },
    },
  },
  import.meta.url,
);
const root = resolve(import.meta.dirname, '../../bench/.work/serve');
const setup = JSON.parse(
  readFileSync(join(root, `sf${values.scale}`, '_setup.json'), 'utf8'),
) as ServeSetup;
const all = await tileQueries(await loadDashboards(setup.project));
const wanted = positionals.length ? positionals : all.map((t) => t.key);

interface ProfileNode {
  operator_name?: string;
  operator_timing?: number;
  operator_cardinality?: number;
  extra_info?: Record<string, unknown>;
  children?: ProfileNode[];
}
interface Profile extends ProfileNode {
  latency: number;
  cpu_time: number;
}

/** The operators of a profile, slowest first, as `NAME detail (ms, rows)`. */
function topOperators(profile: Profile, n: number): string[] {
  const out: { label: string; s: number }[] = [];
  const walk = (node: ProfileNode) => {
    if (node.operator_name) {
      const info = node.extra_info ?? {};
      const detail = [info.Aggregates, info.Conditions, info.Function, info.Table]
        .flat()
        .filter((x) => typeof x === 'string')
        .join('; ')
        .replace(/\s+/g, ' ')
        .slice(0, 90);
      out.push({
        label: `${node.operator_name}${detail ? ` [${detail}]` : ''} ${((node.operator_timing ?? 0) * 1000).toFixed(0)} ms, ${node.operator_cardinality ?? 0} rows`,
        s: node.operator_timing ?? 0,
      });
    }
    for (const c of node.children ?? []) walk(c);
  };
  walk(profile);
  return out
    .sort((a, b) => b.s - a.s)
    .slice(0, n)
    .map((o) => o.label);
}

const params = (q: TileQueries['queries'][number]) =>
  Object.keys(q.params).length ? (q.params as Record<string, DuckDBValue>) : undefined;

const dir = mkdtempSync(join(tmpdir(), 'bench-serve-explain-'));
const profileFile = join(dir, 'profile.json');
async function profiled(conn: DuckDBConnection, q: TileQueries['queries'][number]) {
  await conn.run(`SET enable_profiling = 'json'`);
  await conn.run(`SET profiling_output = '${profileFile}'`);
  await conn.runAndReadAll(q.sql, params(q));
  await conn.run('SET enable_profiling = no_output');
  return JSON.parse(readFileSync(profileFile, 'utf8')) as Profile;
}

try {
  for (const key of wanted) {
    const tile = all.find((t) => t.key === key);
    if (!tile) throw new Error(`no tile ${key}; tiles: ${all.map((t) => t.key).join(', ')}`);
    // A fresh instance per tile, so its first query is cold.
    const instance = await DuckDBInstance.create(setup.snapshotFile, { access_mode: 'READ_ONLY' });
    const conn = await instance.connect();
    try {
      for (const [i, q] of tile.queries.entries()) {
        const label = `${key}${tile.queries.length > 1 ? ` query ${i + 1}/${tile.queries.length}` : ''}`;
        if (values.plan) {
          for (const pass of ['cold', 'warm']) {
            const reader = await conn.runAndReadAll(`EXPLAIN ANALYZE ${q.sql}`, params(q));
            console.log(`\n### ${label}, ${pass}\n`);
            console.log(
              reader
                .getRowObjectsJson()
                .map((r) => String(r.explain_value))
                .join('\n'),
            );
          }
          continue;
        }
        const cold = await profiled(conn, q);
        const warm = await profiled(conn, q);
        console.log(
          `${label}: cold ${(cold.latency * 1000).toFixed(1)} ms (CPU ${(cold.cpu_time * 1000).toFixed(1)} ms), warm ${(warm.latency * 1000).toFixed(1)} ms (CPU ${(warm.cpu_time * 1000).toFixed(1)} ms)`,
        );
        for (const op of topOperators(warm, 3)) console.log(`    ${op}`);
      }
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
