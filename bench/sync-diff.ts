/**
 * The diff half of `npm run bench:sync` (bench/sync.ts runs it, then the throughput half): reverse ETL.
 *
 * Diff (sy-core): 1,000,000 source rows against the state of a previous sync in which 5% of the
 * rows had other values, 2% of today's keys did not exist yet and 1% of the keys since left. The
 * sync's own diff (src/sync/diff.ts `materializeDiff`: the mapped, md5-hashed source against the
 * state table, the rows to send materialized with their mapped fields, the unchanged ones counted)
 * is timed against the same diff as one plain DuckDB `EXCEPT` query in the same run: the mapped
 * source rows EXCEPT the previous sync's mapped rows (a snapshot of what was sent), materialized
 * the same way. Both run on the same in-memory DuckDB, alternating, `--repeat` times each; the
 * medians are compared. Target: sync ≤ 1.5 × EXCEPT. Mirror mode (which also finds the gone keys,
 * work the EXCEPT does not do) is reported beside it.
 *   npm run bench:sync -- [--rows 1000000] [--repeat 3]   (or node dist/bench/sync-diff.js …)
 */
import { loadavg } from 'node:os';
import { benchArgs } from './args.js';
import { openDuckDB, type Engine } from '../src/engines/index.js';
import { materializeDiff } from '../src/sync/diff.js';
import { compileMapping, mappedSelect } from '../src/sync/mapping.js';
import { ensureSyncTables, syncTables } from '../src/sync/state.js';
import type { SyncDefinition } from '../src/sync/types.js';

const { values } = benchArgs(
  {
    options: {
      rows: { type: 'string', default: '1000000' },
      repeat: { type: 'string', default: '3' },
    },
  },
  import.meta.url,
);
const ROWS = Number(values.rows);
const REPEAT = Number(values.repeat);
const TARGET_RATIO = 1.5;

const definition = (mode: SyncDefinition['mode']): SyncDefinition => ({
  name: `bench_${mode}`,
  file: 'syncs/bench.yml',
  source: { ref: 'customers' },
  destination: 'crm',
  object: 'contacts',
  mode,
  match: { source: 'email', destination: 'email' },
  fields: [
    { source: 'first_name', destination: 'firstname', transform: 'trim', line: 1 },
    { source: 'last_name', destination: 'lastname', line: 2 },
    { source: 'segment', destination: 'rfm_segment', transform: 'lower', line: 3 },
    { source: 'lifetime_value', destination: 'lifetime_value', cast: 'number', line: 4 },
    { source: 'last_order', destination: 'last_order_date', cast: 'date', line: 5 },
    { source: 'orders', destination: 'order_count', line: 6 },
    { destination: 'lifecyclestage', constant: 'customer', line: 7 },
  ],
  alert: {},
});

/**
 * `customers` (today's source: keys 0..ROWS-1) and `previous` (the source at the last sync: keys
 * 2%·ROWS..ROWS+1%·ROWS-1, every 20th with other values). New: 2%, gone: 1%, changed: ~5%.
 */
async function generate(engine: Engine): Promise<void> {
  const row = (
    v: string,
  ) => `SELECT 'user' || i || '@example.com' AS email, '  First' || i AS first_name,
      'Last' || (i % 1000) AS last_name, ['Champions', 'Loyal', 'At Risk', 'Hibernating'][1 + i % 4] AS segment,
      CAST(${v} AS DECIMAL(12, 2)) AS lifetime_value, DATE '2024-01-01' + CAST(i % 700 AS INTEGER) AS last_order,
      CAST(i % 37 AS INTEGER) AS orders`;
  await engine.exec(
    `CREATE TABLE customers AS ${row('(i % 5000) / 7.0')} FROM range(${ROWS}) t(i)`,
  );
  const from = Math.floor(ROWS * 0.02);
  const to = ROWS + Math.floor(ROWS * 0.01);
  await engine.exec(
    `CREATE TABLE previous AS ${row('CASE WHEN i % 20 = 0 THEN (i % 5000) / 7.0 + 1 ELSE (i % 5000) / 7.0 END')}
       FROM range(${from}, ${to}) t(i)`,
  );
}

/** The state the previous sync left (its hashes), and the snapshot EXCEPT compares against. */
async function previousSync(engine: Engine, def: SyncDefinition): Promise<void> {
  const mapping = compileMapping(def, engine.dialect);
  const tables = syncTables(engine, def.name);
  await ensureSyncTables(engine, tables);
  await engine.exec(`DELETE FROM ${tables.state}`);
  await engine.exec(
    `INSERT INTO ${tables.state} SELECT key, ${mapping.hashExpression('m')}, NULL, TIMESTAMP '2025-01-01'
       FROM (${mappedSelect(mapping, 'previous')}) AS m`,
  );
}

interface Sample {
  wallS: number;
  cpuS: number;
}

async function timed(fn: () => Promise<unknown>): Promise<Sample> {
  const cpu = process.cpuUsage();
  const t = process.hrtime.bigint();
  await fn();
  const wallS = Number(process.hrtime.bigint() - t) / 1e9;
  const used = process.cpuUsage(cpu);
  return { wallS, cpuS: (used.user + used.system) / 1e6 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function benchDiff(): Promise<void> {
  const engine = await openDuckDB({ path: ':memory:' });
  console.log(
    `diff: ${ROWS.toLocaleString('en')} source rows, load average ${loadavg()[0]!.toFixed(1)}`,
  );
  await generate(engine);
  const upsert = definition('upsert');
  const mirror = definition('mirror');
  await previousSync(engine, upsert);
  await previousSync(engine, mirror);
  const mapping = compileMapping(upsert, engine.dialect);
  const mapped = (rel: string) => mappedSelect(mapping, rel);
  const results: Record<'sync' | 'mirror' | 'except', Sample[]> = {
    sync: [],
    mirror: [],
    except: [],
  };
  let counts = '';
  let exceptRows = 0;
  for (let round = 0; round < REPEAT; round++) {
    const order =
      round % 2 === 0
        ? (['sync', 'except', 'mirror'] as const)
        : (['except', 'sync', 'mirror'] as const);
    for (const side of order) {
      if (side === 'except') {
        await engine.exec(`DROP TABLE IF EXISTS except_pending`);
        results.except.push(
          await timed(() =>
            engine.exec(
              `CREATE TABLE except_pending AS ${mapped('customers')} EXCEPT ${mapped('previous')}`,
            ),
          ),
        );
        exceptRows = Number(
          (await engine.query(`SELECT COUNT(*) AS n FROM except_pending`)).rows[0]!.n,
        );
      } else {
        const def = side === 'sync' ? upsert : mirror;
        const tables = syncTables(engine, def.name);
        const m = compileMapping(def, engine.dialect);
        let c = { new: 0, changed: 0, gone: 0, same: 0 };
        results[side].push(
          await timed(async () => {
            c = await materializeDiff(engine, tables, m, 'customers', {
              mode: def.mode,
              fullResync: false,
              stateAvailable: true,
            });
          }),
        );
        if (side === 'mirror')
          counts = `new ${c.new}, changed ${c.changed}, gone ${c.gone}, unchanged ${c.same}`;
      }
    }
  }
  await engine.close();
  const show = (name: string, s: Sample[]) =>
    `${name}: median ${median(s.map((x) => x.wallS)).toFixed(3)} s wall, ${median(s.map((x) => x.cpuS)).toFixed(2)} s CPU (runs: ${s.map((x) => x.wallS.toFixed(3)).join(', ')})`;
  console.log(`  the diff found ${counts}; the EXCEPT ${exceptRows} rows to send`);
  console.log(`  ${show('sync diff (upsert)', results.sync)}`);
  console.log(`  ${show('plain EXCEPT', results.except)}`);
  console.log(`  ${show('sync diff (mirror, also finds gone keys)', results.mirror)}`);
  const ratio =
    median(results.sync.map((x) => x.wallS)) / median(results.except.map((x) => x.wallS));
  const mirrorRatio =
    median(results.mirror.map((x) => x.wallS)) / median(results.except.map((x) => x.wallS));
  console.log(
    `  ratio sync/EXCEPT ${ratio.toFixed(2)}x (mirror ${mirrorRatio.toFixed(2)}x); target <= ${TARGET_RATIO}x: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'}`,
  );
}

await benchDiff();
