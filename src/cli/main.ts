/**
 * The `tributary` command line. Each command is registered from its own file in commands/ and is a
 * thin call into the modules below; this file owns the global options, the order commands are
 * listed in `--help`, and turning errors into one clear message and an exit code.
 */
import { Command, Help } from 'commander';
import { TributaryError, describeError } from '../core/index.js';
import { EngineError } from '../engines/index.js';
import type { CliContext } from './context.js';
import { COMMAND_HELP } from './help-table.js';
import { makeOutput, ttyProgress } from './output.js';
import { packageVersion } from './paths.js';

interface GlobalOptions {
  project: string;
  color: boolean;
  quiet: boolean;
  verbose: boolean;
  debug: boolean;
}

type Register = (program: Command, cli: CliContext) => void;

/**
 * The commands, in the order `--help` lists them: the names each registers and how to load it.
 * Loaded on demand because the commands' modules pull in very different dependencies (the server
 * brings fastify, collect NATS and the AWS SDK, query apache-arrow): `tributary compile` should not
 * pay for loading them. Every name a register function creates must be listed here.
 */
const COMMANDS: { names: readonly string[]; load: () => Promise<Register> }[] = [
  { names: ['init'], load: async () => (await import('./commands/init.js')).registerInit },
  {
    names: ['generate'],
    load: async () => (await import('./commands/generate.js')).registerGenerate,
  },
  { names: ['run'], load: async () => (await import('./commands/run.js')).registerRun },
  {
    names: ['forecast'],
    load: async () => (await import('./commands/forecast.js')).registerForecast,
  },
  { names: ['deps'], load: async () => (await import('./commands/deps.js')).registerDeps },
  {
    names: ['build', 'test', 'seed', 'snapshot', 'compile'],
    load: async () => (await import('./commands/dbt.js')).registerDbtVerbs,
  },
  {
    names: ['run-operation'],
    load: async () => (await import('./commands/dbt.js')).registerRunOperation,
  },
  { names: ['ls'], load: async () => (await import('./commands/dbt.js')).registerLs },
  { names: ['docs'], load: async () => (await import('./commands/dbt.js')).registerDocs },
  { names: ['source'], load: async () => (await import('./commands/dbt.js')).registerSource },
  { names: ['watch'], load: async () => (await import('./commands/watch.js')).registerWatch },
  {
    names: ['query'],
    load: async () => (await import('./commands/query-command.js')).registerQuery,
  },
  {
    names: ['catalog'],
    load: async () => (await import('./commands/catalog.js')).registerCatalog,
  },
  { names: ['runs'], load: async () => (await import('./commands/runs.js')).registerRuns },
  { names: ['sync', 'syncs'], load: async () => (await import('./commands/sync.js')).registerSync },
  { names: ['graph'], load: async () => (await import('./commands/graph.js')).registerGraph },
  {
    names: ['lineage'],
    load: async () => (await import('./commands/lineage.js')).registerLineage,
  },
  { names: ['logs'], load: async () => (await import('./commands/logs.js')).registerLogs },
  {
    names: ['backfill'],
    load: async () => (await import('./commands/backfill.js')).registerBackfill,
  },
  {
    names: ['partitions'],
    load: async () => (await import('./commands/partitions.js')).registerPartitions,
  },
  {
    names: ['schedules'],
    load: async () => (await import('./commands/schedules.js')).registerSchedules,
  },
  {
    names: ['serve'],
    load: async () => (await import('./commands/serve-command.js')).registerServe,
  },
  {
    names: ['collect'],
    load: async () => (await import('./commands/collect.js')).registerCollect,
  },
  { names: ['worker'], load: async () => (await import('./commands/worker.js')).registerWorker },
  { names: ['token'], load: async () => (await import('./commands/token.js')).registerToken },
  { names: ['state'], load: async () => (await import('./commands/state.js')).registerState },
  { names: ['dlq'], load: async () => (await import('./commands/dlq.js')).registerDlq },
  { names: ['schema'], load: async () => (await import('./commands/schema.js')).registerSchema },
  { names: ['demo'], load: async () => (await import('./commands/demo.js')).registerDemo },
];

/** Global options that take a value: the word after them is not the command's name. */
const GLOBALS_WITH_VALUE = new Set(['-p', '--project', '--project-dir']);

/** The command word of a command line (`node tributary.js [globals] <command> …`), if any. */
export function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    if (GLOBALS_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/** `--version` (or `-V`) without a command or a help flag: commander answers it with no command. */
function asksOnlyVersion(argv: readonly string[]): boolean {
  const args = argv.slice(2);
  return (
    args.some((a) => a === '-V' || a === '--version') &&
    !args.some((a) => a === '-h' || a === '--help')
  );
}

/**
 * The command line's program. With `argv`, only the command it names is loaded (all of them when
 * it names one that is not listed: `help`, a typo that commander should answer); with no command
 * word, none (`--version`; `--help` lists them from help-table.ts).
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
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
  const word = argv && commandWord(argv);
  if (argv !== undefined && word === undefined) {
    // No command: the version, or the help listing (--help, or nothing to run), which needs
    // only each command's name, term and description.
    if (!asksOnlyVersion(argv)) listCommands(program);
    return program;
  }
  const named = word === undefined ? [] : COMMANDS.filter((c) => c.names.includes(word));
  const registers = await Promise.all((named.length ? named : COMMANDS).map((c) => c.load()));
  for (const register of registers) register(program, cli);
  return program;
}

/**
 * Adds every command as a name and description only, listed in `--help` with the term the real
 * command shows (help-table.ts): none of the commands' modules is loaded.
 */
function listCommands(program: Command): void {
  const terms = new Map<string, string>();
  for (const [term, description] of COMMAND_HELP) {
    const name = term.split(' ')[0]!;
    terms.set(name, term);
    program.command(name).description(description);
  }
  const help = new Help();
  program.configureHelp({
    subcommandTerm: (cmd) => terms.get(cmd.name()) ?? help.subcommandTerm(cmd),
  });
}

/** Runs the CLI; every error becomes one message on stderr and a non-zero exit code. */
export async function main(argv: string[]): Promise<void> {
  // A reader that stops early (`| head`) closes stdout: the command finishes without its output
  // instead of dying on the write.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
  });
  const program = await buildProgram(argv);
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
