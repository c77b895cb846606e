/** `tributary run`: the pipeline (or a selection of it), with a short account of what happened. */
import type { Command } from 'commander';
import type { ProgressReporter } from '../../core/index.js';
import { TributaryError } from '../../core/index.js';
import { openWorkspace, runPipeline, type RunResult } from '../../orchestrator/index.js';
import { runningServer } from '../remote.js';
import { integer, print, type CliContext } from '../context.js';
import type { Output } from '../output.js';
import {
  dbtAction,
  isPipelineProject,
  logFormatOption,
  warnErrorOption,
  warnErrorOptionsOption,
  type DbtCommandOptions,
} from './dbt.js';

export interface RunCommandOptions {
  select: string[];
  exclude: string[];
  retryRejected: boolean;
  progress: ProgressReporter;
  concurrency?: number;
  fullRefresh?: boolean;
  /** Run only what an earlier run left failed or not run. */
  resume?: string;
}

/** What `run` did: ran here, or queued the run on the server that holds the project. */
export type RunOutcome =
  RunResult | { queued: true; url: string; position: number; runId?: string };

async function runProject(projectDir: string, options: RunCommandOptions): Promise<RunOutcome> {
  let ws;
  try {
    ws = await openWorkspace(projectDir, 'run');
  } catch (err) {
    // A server holds the project: the run goes into its queue (like the scheduler's own runs).
    if (!(err instanceof TributaryError && err.code === 'LOCKED') || options.resume) throw err;
    const server = await runningServer(projectDir);
    if (!server) throw err;
    const local = [
      options.retryRejected && '--retry-rejected',
      options.fullRefresh && '--full-refresh',
      options.concurrency && '--concurrency',
    ].filter(Boolean);
    if (local.length) {
      throw new TributaryError(
        `the server at ${server.url} holds the project, and its run queue takes no ${local.join(' or ')}`,
        {
          code: 'USAGE',
          hint: 'run without them (the project settings apply), or stop the server',
        },
      );
    }
    const queued = await server.api.post<{ queued: true; position: number; runId?: string }>(
      '/api/runs',
      {
        select: options.select,
        exclude: options.exclude,
      },
    );
    return { ...queued, url: server.url };
  }
  try {
    return await runPipeline(ws, {
      select: options.select,
      exclude: options.exclude,
      retryRejected: options.retryRejected,
      fullRefresh: Boolean(options.fullRefresh),
      progress: options.progress,
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      command: options.resume
        ? `run --resume ${options.resume}`
        : ['run', ...options.select].join(' '),
      ...(options.resume ? { resume: options.resume } : {}),
    });
  } finally {
    await ws.close();
  }
}

/**
 * The exit code of a finished run: 1 when a step failed or the run was cancelled, 3 when it
 * succeeded but refused input files (scripts and schedulers must hear of data left out), else 0.
 */
export function runExitCode(result: RunResult): number {
  if (result.status !== 'succeeded') return 1;
  return result.refusedFiles.length ? 3 : 0;
}

/** A few lines: totals by status, rows quarantined, files refused, and every failure with its message. */
export function formatRunSummary(result: RunResult, out: Output): string {
  const count = (status: string) => result.steps.filter((s) => s.status === status).length;
  const lines: string[] = [];
  const statusText =
    result.status === 'succeeded'
      ? out.paint('green', 'succeeded')
      : out.paint(result.status === 'failed' ? 'red' : 'yellow', result.status);
  lines.push(
    `run ${result.runId} ${statusText} in ${(result.durationMs / 1000).toFixed(1)}s: ` +
      [
        `${count('succeeded')} succeeded`,
        `${count('up_to_date')} up to date`,
        count('failed') ? out.paint('red', `${count('failed')} failed`) : '0 failed',
        `${count('skipped')} skipped`,
        ...(count('cancelled') ? [`${count('cancelled')} cancelled`] : []),
      ].join(', '),
  );
  const processed = result.steps.filter((s) => s.kind === 'processed' && (s.rowsIn ?? 0) > 0);
  if (processed.length) {
    const rows = processed.reduce((n, s) => n + (s.rowsOut ?? 0), 0);
    const rejected = processed.reduce((n, s) => n + (s.rowsRejected ?? 0), 0);
    lines.push(
      `processed ${rows.toLocaleString('en-US')} rows, quarantined ${rejected.toLocaleString('en-US')}`,
    );
  }
  for (const s of result.steps.filter((x) => x.status === 'failed')) {
    lines.push(
      `${out.paint('red', 'failed')} ${s.asset}: ${(s.message ?? '').replaceAll('\n', '\n  ')}`,
    );
  }
  // In a run that did not fail, a skipped step was turned off (a disabled sync): say why.
  if (result.status === 'succeeded')
    for (const s of result.steps.filter((x) => x.status === 'skipped'))
      lines.push(
        `${out.paint('yellow', 'skipped')} ${s.asset}: ${(s.message ?? '').replace(/^skipped: /, '')}`,
      );
  if (result.status !== 'succeeded' && result.runId) {
    lines.push(
      `logs: tributary logs ${result.runId}; run what is left: tributary run --resume ${result.runId}`,
    );
  }
  if (result.refusedFiles.length) {
    lines.push(
      out.paint('yellow', `${result.refusedFiles.length} file(s) refused`) +
        ' (nothing from them was loaded; the rest of the run went on):',
    );
    for (const f of result.refusedFiles) {
      lines.push(`  ${f.asset}: ${f.message.replaceAll('\n', '\n    ')}`);
    }
    lines.push(
      '  after fixing each file (or the contract): tributary run --retry-rejected; a corrected file dropped under a new name is a new batch',
    );
  }
  for (const s of result.steps.filter(
    (x) => x.status !== 'failed' && x.message?.startsWith('warning'),
  )) {
    lines.push(
      `${out.paint('yellow', 'warning')} ${s.asset}: ${s.message!.replace(/^warning: /, '')}`,
    );
  }
  return lines.join('\n');
}

/** `run`: the pipeline of a Tributary project, or dbt's `run` on a plain dbt project. */
export function registerRun(program: Command, cli: CliContext): void {
  program
    .command('run')
    .description('run the pipeline: land, process with contracts, build models, test, report')
    .argument(
      '[select...]',
      'assets to run: name, kind:name, +name (with upstream), name+ (with downstream)',
    )
    .option('--exclude <select...>', 'assets to leave out', [])
    .option('--retry-rejected', 'retry files an earlier run rejected whole')
    .option('-c, --concurrency <n>', 'assets to run at once', integer)
    .option('-s, --select <select...>', 'same as the positional selectors (dbt spelling)', [])
    .option('--full-refresh', 'rebuild incremental models from scratch')
    .option('--resume <run-id>', 'run only the steps of that run that failed or never ran')
    .option('--json', 'print the run result as JSON')
    .option('--profiles-dir <dir>', 'dbt projects: folder holding profiles.yml')
    .option('--target <name>', 'dbt projects: the profiles.yml output to use')
    .option('--threads <n>', 'dbt projects: nodes built at once', integer)
    .option('--vars <yaml>', 'dbt projects: variables, as YAML or JSON')
    .addOption(logFormatOption())
    .addOption(warnErrorOption())
    .addOption(warnErrorOptionsOption())
    .action(
      async (
        positional: string[],
        opts: DbtCommandOptions & {
          retryRejected?: boolean;
          concurrency?: number;
          resume?: string;
        },
      ) => {
        const select = [...positional, ...opts.select];
        if (opts.resume && select.length) {
          throw new TributaryError('--resume runs what that run left; it takes no selectors', {
            code: 'USAGE',
          });
        }
        if (!isPipelineProject(cli.project())) {
          await dbtAction(cli, 'run', { ...opts, select });
          return;
        }
        const p = cli.progress();
        const result = await runProject(cli.project(), {
          select,
          exclude: opts.exclude,
          retryRejected: Boolean(opts.retryRejected),
          fullRefresh: Boolean(opts.fullRefresh),
          progress: p,
          ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
          ...(opts.resume ? { resume: opts.resume } : {}),
        });
        p.clear();
        if ('queued' in result) {
          print(
            opts.json
              ? JSON.stringify(result, null, 2)
              : `queued on the server at ${result.url} (${result.runId ? `run ${result.runId} started` : `position ${result.position}`}); follow it with \`tributary runs\``,
          );
          return;
        }
        print(opts.json ? JSON.stringify(result, null, 2) : formatRunSummary(result, cli.output()));
        process.exitCode = runExitCode(result) || undefined;
      },
    );
}
