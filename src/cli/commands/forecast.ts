/**
 * `tributary forecast [name]`: runs the forecast assets (all, or one) through the orchestrator,
 * so run history, locks and asset policies apply as for `run`, then prints each forecast's
 * backtest accuracy by method and a note for every method that loses to seasonal naive.
 */
import type { Command } from 'commander';
import { TributaryError, type ProgressReporter } from '../../core/index.js';
import { readAccuracy, type AccuracySummary } from '../../forecast/index.js';
import { openWorkspace, runPipeline, type RunResult } from '../../orchestrator/index.js';
import { findForecast, loadProject, type Forecast } from '../../project/index.js';
import { runningServer } from '../remote.js';
import { column, print, type CliContext } from '../context.js';
import { formatTable, type Output } from '../output.js';
import { formatRunSummary, runExitCode } from './run.js';

export interface ForecastCommandOptions {
  backtestOnly: boolean;
  progress: ProgressReporter;
}

export interface ForecastReport {
  run: RunResult;
  /** Accuracy of each forecast run, read back from its tables (absent when it wrote none). */
  forecasts: { name: string; file: string; accuracy?: AccuracySummary }[];
}

/** Queued on the server that holds the project, as `tributary run` does. */
export interface ForecastQueued {
  queued: true;
  url: string;
  position: number;
  runId?: string;
}

/** The forecasts named (or all), or NOT_FOUND naming what there is. */
function forecastsToRun(all: readonly Forecast[], name: string | undefined): Forecast[] {
  const forecasts = name ? [findForecast(all, name)] : [...all];
  if (!forecasts.length)
    throw new TributaryError('the project has no forecasts', {
      code: 'NOT_FOUND',
      hint: 'declare one as forecasts/<name>.yml (docs/forecasting.md)',
    });
  return forecasts;
}

/**
 * A server holds the project: the forecasts' run goes into its queue. `--backtest-only` is a
 * setting of this command's run that the queue does not carry, so it is refused there.
 */
async function queueOnServer(
  projectDir: string,
  name: string | undefined,
  options: ForecastCommandOptions,
  locked: TributaryError,
): Promise<ForecastQueued> {
  const server = await runningServer(projectDir);
  if (!server) throw locked;
  if (options.backtestOnly)
    throw new TributaryError(
      `the server at ${server.url} holds the project, and its run queue takes no --backtest-only`,
      {
        code: 'USAGE',
        hint: 'run without it (forecasts and backtests are written), or stop the server',
      },
    );
  const forecasts = forecastsToRun((await loadProject(projectDir)).forecasts, name);
  const queued = await server.api.post<{ queued: true; position: number; runId?: string }>(
    '/api/runs',
    { select: forecasts.map((f) => `forecast:${f.name}`), exclude: [] },
  );
  return { ...queued, url: server.url };
}

/**
 * Runs the forecasts (one when named) and reads back their accuracy; when `tributary serve`
 * holds the project, queues the run there instead (the accuracy is then in the tables, and in
 * `tributary forecast` once the server has run it and released the project).
 */
export async function runForecasts(
  projectDir: string,
  name: string | undefined,
  options: ForecastCommandOptions,
): Promise<ForecastReport | ForecastQueued> {
  let ws;
  try {
    ws = await openWorkspace(projectDir, 'forecast');
  } catch (err) {
    if (!(err instanceof TributaryError && err.code === 'LOCKED')) throw err;
    return queueOnServer(projectDir, name, options, err);
  }
  try {
    const forecasts = forecastsToRun(ws.project.forecasts, name);
    const run = await runPipeline(ws, {
      select: forecasts.map((f) => `forecast:${f.name}`),
      progress: options.progress,
      command: [
        'forecast',
        ...(name ? [name] : []),
        ...(options.backtestOnly ? ['--backtest-only'] : []),
      ].join(' '),
      forecastBacktestOnly: options.backtestOnly,
    });
    const schema = ws.project.config.models.schema;
    const report: ForecastReport = { run, forecasts: [] };
    for (const f of forecasts) {
      const accuracy = await readAccuracy(ws.warehouse, f, schema);
      report.forecasts.push({ name: f.name, file: f.file, ...(accuracy ? { accuracy } : {}) });
    }
    return report;
  } finally {
    await ws.close();
  }
}

const fixed = (v: number | null, digits: number) => (v === null ? '-' : v.toFixed(digits));
const percent = (v: number | null) => (v === null ? '-' : `${Math.round(v * 100)}%`);

/** One forecast's accuracy table, then its notes. */
export function formatAccuracy(name: string, accuracy: AccuracySummary, out: Output): string {
  const levels = Object.keys(accuracy.methods[0]?.coverage ?? {}).map(Number);
  const columns = [
    column('method'),
    column('series', 'number'),
    column('windows', 'number'),
    column('OWA', 'number'),
    column('sMAPE', 'number'),
    column('MASE', 'number'),
    ...levels.map((l) => column(`cover ${l}%`, 'number')),
  ];
  const rows = accuracy.methods.map((m) => ({
    method: m.method === 'auto' ? 'auto (chosen)' : m.method,
    series: m.series,
    windows: m.windows,
    OWA: fixed(m.owa, 3),
    sMAPE: fixed(m.smape, 2),
    MASE: fixed(m.mase, 3),
    ...Object.fromEntries(levels.map((l) => [`cover ${l}%`, percent(m.coverage[l] ?? null)])),
  }));
  const notes = accuracy.losesToSeasonalNaive.map((n) =>
    out.paint(
      'yellow',
      `note: ${n.method === 'auto' ? 'the chosen methods are' : `${n.method} is`} less accurate than seasonal naive on this data (MASE ${n.mase.toFixed(3)} vs ${n.seasonalNaive.toFixed(3)} on the windows both were scored on)`,
    ),
  );
  const lines = [
    `${name}: backtest accuracy by method (OWA and MASE: lower is better; OWA < 1 beats Naive2)`,
  ];
  lines.push(
    rows.length
      ? formatTable(columns, rows)
      : '(no backtest windows: the series are too short, or backtest.windows is 0)',
  );
  return [...lines, ...notes].join('\n');
}

/** `forecast`: run the forecasts and print their accuracy. */
export function registerForecast(program: Command, cli: CliContext): void {
  program
    .command('forecast')
    .description('run the forecasts (forecasts/*.yml) and print their backtest accuracy by method')
    .argument('[name]', 'the forecast to run (default: all)')
    .option('--backtest-only', 'write only the backtest and methods tables, not the forecasts')
    .option('--json', 'print the run and the accuracy as JSON')
    .action(async (name: string | undefined, opts: { backtestOnly?: boolean; json?: boolean }) => {
      const p = cli.progress();
      const report = await runForecasts(cli.project(), name, {
        backtestOnly: Boolean(opts.backtestOnly),
        progress: p,
      });
      p.clear();
      if ('queued' in report) {
        print(
          opts.json
            ? JSON.stringify(report, null, 2)
            : `queued on the server at ${report.url} (${report.runId ? `run ${report.runId} started` : `position ${report.position}`}); follow it with \`tributary runs\`; its accuracy lands in the <name>_backtest and <name>_methods tables`,
        );
        return;
      }
      if (opts.json) print(JSON.stringify(report, null, 2));
      else {
        const out = cli.output();
        const parts = [formatRunSummary(report.run, out)];
        for (const f of report.forecasts) {
          const step = report.run.steps.find((s) => s.asset === `forecast:${f.name}`);
          const did =
            step?.status === 'up_to_date'
              ? 'up to date (file and inputs unchanged since its last run)'
              : step?.status === 'succeeded'
                ? step.message?.replaceAll('\n', '\n  ')
                : undefined;
          parts.push(
            [
              ...(did ? [`forecast ${f.name}: ${did}`] : []),
              ...(f.accuracy ? [formatAccuracy(f.name, f.accuracy, out)] : []),
            ].join('\n'),
          );
        }
        print(parts.join('\n\n'));
      }
      process.exitCode = runExitCode(report.run) || undefined;
    });
}
