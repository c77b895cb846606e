/** `tributary logs`: a run's log, or one step's (from the server when one holds the project). */
import type { Command } from 'commander';
import { TributaryError } from '../../core/index.js';
import type { StepLogLine } from '../../state/index.js';
import { print, type CliContext } from '../context.js';
import { withProject } from '../remote.js';

async function readLogs(projectDir: string, runId: string, step?: string): Promise<StepLogLine[]> {
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

export function registerLogs(program: Command, cli: CliContext): void {
  program
    .command('logs')
    .description("print a run's log, or one step's")
    .argument('<run-id>', 'the run (see `tributary runs`)')
    .argument('[step]', 'one step: its asset key (model:fct_sales) or name')
    .option('--json', 'print as JSON')
    .action(async (runId: string, step: string | undefined, opts: { json?: boolean }) => {
      const lines = await readLogs(cli.project(), runId, step);
      if (opts.json) return print(JSON.stringify(lines, null, 2));
      if (!lines.length) return print(`run ${runId}${step ? ` step ${step}` : ''} logged nothing`);
      const width = Math.max(...lines.map((l) => l.asset.length));
      print(
        lines
          .map(
            (l) =>
              `${l.at}  ${step ? '' : `${l.asset.padEnd(width)}  `}${l.line.replaceAll('\n', '\n    ')}`,
          )
          .join('\n'),
      );
    });
}
