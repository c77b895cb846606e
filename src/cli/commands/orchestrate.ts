/**
 * Orchestration commands: `graph`, `logs`, `backfill`, `partitions`, `schedules` and `serve`.
 * Each is a thin call into the orchestrator; formatting for people lives here.
 */
import type { ProgressReporter } from '../../core/index.js';
import {
  backfill,
  loadAssetGraph,
  openWorkspace,
  partitionStates,
  selectAssets,
  compileSchedule,
  type AssetGraph,
  type PartitionState,
  type RunResult,
} from '../../orchestrator/index.js';
import type { StepLogLine } from '../../state/index.js';
import { TributaryError } from '../../core/index.js';
import { withProject } from '../remote.js';

export type GraphFormat = 'text' | 'dot' | 'json';

/** The asset graph (or a selection of it) as text, Graphviz dot or JSON. */
export async function renderGraph(
  projectDir: string,
  select: string[],
  exclude: string[],
  format: GraphFormat,
): Promise<string> {
  const { graph } = await loadAssetGraph(projectDir);
  const selected = selectAssets(graph, select, exclude);
  return formatGraph(graph, selected, format);
}

export function formatGraph(graph: AssetGraph, selected: Set<string>, format: GraphFormat): string {
  const assets = graph.order.filter((k) => selected.has(k)).map((k) => graph.assets.get(k)!);
  if (format === 'json') {
    return JSON.stringify(
      {
        assets: assets.map((a) => ({
          key: a.key,
          kind: a.kind,
          name: a.name,
          deps: a.deps.filter((d) => selected.has(d)),
          tags: a.tags,
          ...(a.file ? { file: a.file } : {}),
        })),
      },
      null,
      2,
    );
  }
  if (format === 'dot') {
    const q = (s: string) => `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
    const shape: Record<string, string> = {
      dashboard: 'tab',
      raw: 'folder',
      processed: 'cylinder',
      seed: 'note',
      model: 'box',
      snapshot: 'box3d',
      test: 'diamond',
      report: 'component',
    };
    const lines = ['digraph assets {', '  rankdir=LR;', '  node [fontname="Helvetica"];'];
    for (const a of assets)
      lines.push(`  ${q(a.key)} [label=${q(a.name)}, shape=${shape[a.kind]}];`);
    for (const a of assets)
      for (const d of a.deps) if (selected.has(d)) lines.push(`  ${q(d)} -> ${q(a.key)};`);
    lines.push('}');
    return lines.join('\n');
  }
  // Text: one asset per line in run order, with what it reads.
  const width = Math.max(...assets.map((a) => a.key.length), 5);
  return assets
    .map((a) => {
      const deps = a.deps.filter((d) => selected.has(d));
      return deps.length ? `${a.key.padEnd(width)}  <- ${deps.join(', ')}` : a.key;
    })
    .join('\n');
}

export async function readLogs(
  projectDir: string,
  runId: string,
  step?: string,
): Promise<StepLogLine[]> {
  /** A step named by its key or by its name alone (`a` for `model:a`). */
  const resolveStep = (steps: { asset: string }[]): string | undefined => {
    if (!step || steps.some((s) => s.asset === step)) return step;
    const byName = steps.filter((s) => s.asset.split(':').slice(1).join(':') === step);
    if (byName.length !== 1)
      throw new TributaryError(`run ${runId} has no step ${step}`, {
        code: 'NOT_FOUND',
        hint: `its steps: ${steps.map((s) => s.asset).join(', ') || 'none'}`,
      });
    return byName[0]!.asset;
  };
  const noRun = () =>
    new TributaryError(`no run ${runId}`, {
      code: 'NOT_FOUND',
      hint: '`tributary runs` lists run ids',
    });
  return withProject(
    projectDir,
    'logs',
    async (ws) => {
      if (!(await ws.state.getRun(runId))) throw noRun();
      return ws.state.stepLogs(runId, resolveStep(await ws.state.listSteps(runId)));
    },
    async (api) => {
      const { steps } = await api.get<{ steps: { asset: string }[] }>(
        `/api/runs/${encodeURIComponent(runId)}`,
      );
      const asset = resolveStep(steps);
      return api.get<StepLogLine[]>(
        `/api/runs/${encodeURIComponent(runId)}/logs${asset ? `?step=${encodeURIComponent(asset)}` : ''}`,
      );
    },
  );
}

export interface BackfillCommandOptions {
  from?: string;
  to?: string;
  partitions?: string[];
  all?: boolean;
  concurrency?: number;
  progress: ProgressReporter;
}

export async function runBackfill(
  projectDir: string,
  asset: string,
  options: BackfillCommandOptions,
): Promise<RunResult> {
  const ws = await openWorkspace(projectDir, 'backfill');
  try {
    return await backfill(ws, asset, {
      ...(options.from ? { from: options.from } : {}),
      ...(options.to ? { to: options.to } : {}),
      ...(options.partitions ? { partitions: options.partitions } : {}),
      all: Boolean(options.all),
      progress: options.progress,
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    });
  } finally {
    await ws.close();
  }
}

export async function readPartitions(
  projectDir: string,
  asset: string,
): Promise<{ asset: string; partitions: PartitionState[] }> {
  return withProject(
    projectDir,
    'partitions',
    (ws) => partitionStates(ws, asset),
    (api) => api.get(`/api/partitions/${encodeURIComponent(asset)}`),
  );
}

/** Each schedule with its cron, zone, catch-up policy and next ticks (no lock needed). */
export async function listSchedules(projectDir: string, count = 3) {
  const { project } = await loadAssetGraph(projectDir);
  return Object.entries(project.config.schedules).map(([name, cfg]) => {
    const cron = compileSchedule(name, cfg);
    return {
      name,
      cron: cfg.cron,
      timezone: cfg.timezone,
      catchUp: cfg.catch_up,
      enabled: cfg.enabled,
      select: cfg.select,
      next: cfg.enabled ? cron.nextRuns(count).map((d) => d.toISOString()) : [],
    };
  });
}
