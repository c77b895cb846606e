/** `tributary backfill`: the missing or failed daily partitions of a partitioned model, as one run. */
import type { Command } from 'commander';
import type { ProgressReporter } from '../../core/index.js';
import { backfill, openWorkspace, type RunResult } from '../../orchestrator/index.js';
import { integer, print, type CliContext } from '../context.js';
import { formatRunSummary, runExitCode } from './run.js';

export interface BackfillCommandOptions {
  from?: string;
  to?: string;
  partitions?: string[];
  all?: boolean;
  concurrency?: number;
  progress: ProgressReporter;
}

async function runBackfill(
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

export function registerBackfill(program: Command, cli: CliContext): void {
  program
    .command('backfill')
    .description('run the daily partitions of a partitioned model that are missing or failed')
    .argument('<asset>', 'the partitioned model (assets: <name>: partitions: in tributary.yml)')
    .option('--from <date>', 'first partition, YYYY-MM-DD (default: the first)')
    .option('--to <date>', 'last partition, YYYY-MM-DD (default: yesterday)')
    .option('--partitions <dates...>', 'run these partitions, whatever their status')
    .option('--all', 'run every partition in the range, not only missing or failed ones')
    .option('-c, --concurrency <n>', 'partitions to run at once', integer)
    .option('--json', 'print the run result as JSON')
    .action(
      async (
        asset: string,
        opts: {
          from?: string;
          to?: string;
          partitions?: string[];
          all?: boolean;
          concurrency?: number;
          json?: boolean;
        },
      ) => {
        const p = cli.progress();
        const result = await runBackfill(cli.project(), asset, { ...opts, progress: p });
        p.clear();
        if (opts.json) return print(JSON.stringify(result, null, 2));
        if (!result.steps.length)
          return print('nothing to backfill: every partition in the range succeeded');
        print(formatRunSummary(result, cli.output()));
        process.exitCode = runExitCode(result) || undefined;
      },
    );
}
