/** `tributary runs`: run history, and one run's steps (from the server when one holds the project). */
import type { Command } from 'commander';
import { TributaryError } from '../../core/index.js';
import type { RunRecord, StepRecord } from '../../state/index.js';
import { column as col, integer, print, seconds, type CliContext } from '../context.js';
import { formatTable } from '../output.js';
import { withProject } from '../remote.js';

async function readRuns(
  projectDir: string,
  runId?: string,
  limit = 20,
): Promise<{ runs: RunRecord[]; steps?: StepRecord[] }> {
  const missing = () =>
    new TributaryError(`no run ${runId}`, {
      code: 'NOT_FOUND',
      hint: 'run `tributary runs` to list runs',
    });
  return withProject(
    projectDir,
    'runs',
    async (ws) => {
      if (!runId) return { runs: await ws.state.listRuns(limit) };
      const run = await ws.state.getRun(runId);
      if (!run) throw missing();
      return { runs: [run], steps: await ws.state.listSteps(runId) };
    },
    async (api) => {
      if (!runId) return { runs: await api.get<RunRecord[]>(`/api/runs?limit=${limit}`) };
      const { run, steps } = await api.get<{ run: RunRecord; steps: StepRecord[] }>(
        `/api/runs/${encodeURIComponent(runId)}`,
      );
      return { runs: [run], steps };
    },
  );
}

export function registerRuns(program: Command, cli: CliContext): void {
  program
    .command('runs')
    .description('list recent runs, or the steps of one run')
    .argument('[run-id]', 'show this run')
    .option('-n, --limit <n>', 'how many runs', integer, 20)
    .option('--json', 'print as JSON')
    .action(async (runId: string | undefined, opts: { limit: number; json?: boolean }) => {
      const history = await readRuns(cli.project(), runId, opts.limit);
      if (opts.json) return print(JSON.stringify(history, null, 2));
      print(history.steps ? formatSteps(history.steps) : formatRuns(history.runs));
    });
}

function formatSteps(steps: StepRecord[]): string {
  return formatTable(
    [
      col('asset'),
      col('status'),
      col('rows_out', 'number'),
      col('rows_rejected', 'number'),
      col('attempts', 'number'),
      col('seconds', 'number'),
      col('message'),
    ],
    steps.map((s) => ({
      asset: s.asset,
      status: s.status,
      attempts: s.attempts,
      seconds: seconds(s.startedAt, s.finishedAt),
      rows_out: s.rowsOut,
      rows_rejected: s.rowsRejected,
      message: s.message?.split('\n')[0] ?? null,
    })),
  );
}

function formatRuns(runs: RunRecord[]): string {
  return formatTable(
    [
      col('run_id'),
      col('command'),
      col('trigger'),
      col('status'),
      col('started_at'),
      col('seconds', 'number'),
    ],
    runs.map((r) => ({
      run_id: r.runId,
      command: r.command,
      trigger: r.resumedFrom ? `${r.trigger ?? 'cli'} (resumes ${r.resumedFrom})` : r.trigger,
      status: r.status,
      started_at: r.startedAt,
      seconds: seconds(r.startedAt, r.finishedAt),
    })),
  );
}
