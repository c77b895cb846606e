/**
 * The `tributary` command line. Each command is registered from its own file in commands/ and is a
 * thin call into the modules below; this file owns the global options, the order commands are
 * listed in `--help`, and turning errors into one clear message and an exit code.
 */
import { Command } from 'commander';
import { TributaryError, describeError } from '../core/index.js';
import { EngineError } from '../engines/index.js';
import { registerBackfill } from './commands/backfill.js';
import { registerCatalog } from './commands/catalog.js';
import { registerCollect } from './commands/collect.js';
import { registerWorker } from './commands/worker.js';
import { registerDbtVerbs, registerDocs, registerLs, registerSource } from './commands/dbt.js';
import { registerDemo } from './commands/demo.js';
import { registerDeps } from './commands/deps.js';
import { registerDlq } from './commands/dlq.js';
import { registerForecast } from './commands/forecast.js';
import { registerGenerate } from './commands/generate.js';
import { registerGraph } from './commands/graph.js';
import { registerLineage } from './commands/lineage.js';
import { registerInit } from './commands/init.js';
import { registerLogs } from './commands/logs.js';
import { registerPartitions } from './commands/partitions.js';
import { registerQuery } from './commands/query-command.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerSchedules } from './commands/schedules.js';
import { registerSchema } from './commands/schema.js';
import { registerSync } from './commands/sync.js';
import { registerServe } from './commands/serve-command.js';
import { registerToken } from './commands/token.js';
import { registerWatch } from './commands/watch.js';
import type { CliContext } from './context.js';
import { makeOutput, ttyProgress } from './output.js';
import { packageVersion } from './paths.js';

interface GlobalOptions {
  project: string;
  color: boolean;
  quiet: boolean;
  verbose: boolean;
  debug: boolean;
}

/** The commands, in the order `--help` lists them. */
const COMMANDS: ((program: Command, cli: CliContext) => void)[] = [
  registerInit,
  registerGenerate,
  registerRun,
  registerForecast,
  registerDeps,
  registerDbtVerbs,
  registerLs,
  registerDocs,
  registerSource,
  registerWatch,
  registerQuery,
  registerCatalog,
  registerRuns,
  registerSync,
  registerGraph,
  registerLineage,
  registerLogs,
  registerBackfill,
  registerPartitions,
  registerSchedules,
  registerServe,
  registerCollect,
  registerWorker,
  registerToken,
  registerDlq,
  registerSchema,
  registerDemo,
];

export function buildProgram(): Command {
  const program = new Command('tributary')
    .description(
      'A local-first data platform: ingest, lake, contracts, SQL models, star schema, checks.',
    )
    .version(packageVersion())
    .option('-p, --project <dir>', 'project folder', '.')
    .option('--project-dir <dir>', 'same as --project (dbt spelling)')
    .option('--no-color', 'never colour output (colour is used only on a terminal)')
    .option('-q, --quiet', 'no progress output; the dbt verbs print only errors, as dbt does')
    .option('-v, --verbose', 'print every step as it finishes')
    .option('--debug', 'show stack traces and failing SQL')
    .showHelpAfterError('(run with --help for usage)');

  // Read when an action runs: commander has parsed the global options by then.
  const globals = (): GlobalOptions => {
    const o = program.opts<GlobalOptions & { projectDir?: string }>();
    return o.projectDir ? { ...o, project: o.projectDir } : o;
  };
  const cli: CliContext = {
    project: () => globals().project,
    quiet: () => globals().quiet,
    progress: () => ttyProgress(!globals().quiet, globals().verbose),
    output: () => makeOutput(!globals().color),
  };
  for (const register of COMMANDS) register(program, cli);
  return program;
}

/** Runs the CLI; every error becomes one message on stderr and a non-zero exit code. */
export async function main(argv: string[]): Promise<void> {
  // A reader that stops early (`| head`) closes stdout: the command finishes without its output
  // instead of dying on the write.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const debug = program.opts<GlobalOptions>().debug;
    process.stderr.write(`error: ${describeError(err)}\n`);
    if (err instanceof EngineError && debug) process.stderr.write(`SQL:\n${err.sql}\n`);
    if (debug && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    else if (!(err instanceof TributaryError))
      process.stderr.write('(run with --debug for details)\n');
    // A wrong command line and a name that does not exist are both the caller's to fix: 2.
    process.exitCode =
      err instanceof TributaryError && (err.code === 'USAGE' || err.code === 'NOT_FOUND') ? 2 : 1;
  }
}
