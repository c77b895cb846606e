/**
 * Daily partitions of time-partitioned models, and backfills. A partition run builds one day: the
 * model gets `partition_start` (the day, inclusive), `partition_end` (the next day, exclusive)
 * and `partition_key` as dbt vars and filters its input by them (Dagster's dbt integration does
 * the same with its own vars). The status of every partition is kept in state.
 */
import { TributaryError } from '../core/index.js';
import type { PartitionsConfig } from '../project/index.js';
import type { PartitionStatus } from '../state/index.js';
import { matchAssets } from './graph.js';
import { resolvePolicies } from './policy.js';
import { runPlan, type PlannedStep, type RunOptions, type RunResult } from './runner.js';
import type { Workspace } from './workspace.js';

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The calendar date of an instant in a time zone, as YYYY-MM-DD. */
function dateIn(instant: Date, timeZone: string): string {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(instant);
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Every partition key from `from` to `to`, inclusive. */
function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

/** The partitions an asset has now: from its start to its end (default: yesterday in its zone). */
function partitionKeys(cfg: PartitionsConfig, now: Date): string[] {
  const end = cfg.end ?? addDays(dateIn(now, cfg.timezone), -1);
  return end < cfg.start ? [] : daysBetween(cfg.start, end);
}

/** The dbt vars of one daily partition. */
function partitionVars(key: string): Record<string, string> {
  return { partition_key: key, partition_start: key, partition_end: addDays(key, 1) };
}

export interface PartitionState {
  partition: string;
  status: PartitionStatus | 'missing';
  runId: string | null;
  updatedAt: string | null;
  message: string | null;
}

/** The one partitioned asset a selector names, with its partitions config. */
function partitionedAsset(ws: Workspace, selector: string): { key: string; cfg: PartitionsConfig } {
  const keys = matchAssets(ws.graph, selector);
  if (keys.length !== 1) {
    throw new TributaryError(
      keys.length
        ? `${selector} names ${keys.length} assets (${keys.join(', ')}); name one`
        : `no asset matches ${selector}`,
      { code: keys.length ? 'USAGE' : 'NOT_FOUND', hint: 'run `tributary graph` to list assets' },
    );
  }
  const key = keys[0]!;
  const cfg = resolvePolicies(ws.graph, ws.project.config.assets).get(key)?.partitions;
  if (!cfg) {
    throw new TributaryError(`${key} is not partitioned`, {
      code: 'NOT_FOUND',
      location: { file: 'tributary.yml', path: 'assets' },
      hint: `add assets: { ${ws.graph.assets.get(key)!.name}: { partitions: { start: YYYY-MM-DD } } }`,
    });
  }
  return { key, cfg };
}

/** Every partition of an asset with its stored status (`missing` when never built). */
export async function partitionStates(
  ws: Workspace,
  selector: string,
  now = new Date(),
): Promise<{ asset: string; partitions: PartitionState[] }> {
  const { key, cfg } = partitionedAsset(ws, selector);
  const stored = new Map((await ws.state.listPartitions(key)).map((p) => [p.partition, p]));
  const keys = new Set([...partitionKeys(cfg, now), ...stored.keys()]);
  return {
    asset: key,
    partitions: [...keys].sort().map((p) => {
      const s = stored.get(p);
      return {
        partition: p,
        status: s?.status ?? 'missing',
        runId: s?.runId ?? null,
        updatedAt: s?.updatedAt ?? null,
        message: s?.message ?? null,
      };
    }),
  };
}

export interface BackfillOptions extends RunOptions {
  from?: string;
  to?: string;
  /** These partitions, built whatever their status. */
  partitions?: string[];
  /** Build every partition in the range, not only those missing or failed. */
  all?: boolean;
}

/**
 * Runs the partitions of one asset that are missing or failed in a date range (or the chosen
 * ones), up to `concurrency` at once, as one run whose steps are the partitions.
 */
export async function backfill(
  ws: Workspace,
  selector: string,
  options: BackfillOptions = {},
): Promise<RunResult> {
  const { key, cfg } = partitionedAsset(ws, selector);
  for (const [name, d] of [
    ['--from', options.from],
    ['--to', options.to],
    ...(options.partitions ?? []).map((p) => ['--partitions', p] as const),
  ] as const) {
    if (d !== undefined && !DATE.test(d))
      throw new TributaryError(`${name} ${d} is not a date YYYY-MM-DD`, { code: 'USAGE' });
  }
  let chosen: string[];
  if (options.partitions?.length) {
    chosen = [...new Set(options.partitions)].sort();
  } else {
    const all = partitionKeys(cfg, options.now ?? new Date());
    const from = options.from ?? cfg.start;
    const to = options.to ?? all[all.length - 1] ?? cfg.start;
    if (from > to)
      throw new TributaryError(`--from ${from} is after --to ${to}`, { code: 'USAGE' });
    if (from < cfg.start) {
      throw new TributaryError(`${key} has no partitions before ${cfg.start}`, {
        code: 'USAGE',
        location: { file: 'tributary.yml', path: 'assets' },
      });
    }
    const range = daysBetween(from, to);
    if (options.all) chosen = range;
    else {
      const done = new Set(
        (await ws.state.listPartitions(key))
          .filter((p) => p.status === 'succeeded')
          .map((p) => p.partition),
      );
      chosen = range.filter((p) => !done.has(p));
    }
  }
  // The first partition of a model not built yet creates its table: it runs alone, the others
  // after it (side by side they would each create the table, and the last would win).
  const node = ws.models.manifest.nodes.get(ws.graph.assets.get(key)!.uniqueId!)!;
  const exists = (await ws.warehouse.describe(node.schema, node.alias)) !== undefined;
  const first = `${key}@${chosen[0]}`;
  const steps: PlannedStep[] = chosen.map((p, i) => ({
    key: `${key}@${p}`,
    asset: key,
    deps: exists || i === 0 ? [] : [first],
    partition: { key: p, vars: partitionVars(p) },
  }));
  if (!steps.length) {
    return { runId: '', status: 'succeeded', durationMs: 0, steps: [], refusedFiles: [] };
  }
  return runPlan(ws, steps, { command: `backfill ${selector}`, trigger: 'backfill', ...options });
}
