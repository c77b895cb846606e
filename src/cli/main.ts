/**
 * The `tributary` command line. Each command is a thin call into the modules below; this file
 * owns argument parsing, output format, exit codes and turning errors into one clear message.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { writeFile, mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { TributaryError, describeError } from '../core/index.js';
import { EngineError } from '../engines/index.js';
import { jsonSchemas } from '../project/index.js';
import { formatCatalog, readCatalog } from './commands/catalog.js';
import { formatDemo, runDemo, serveDemo } from './commands/demo.js';
import { generateForProject } from './commands/generate.js';
import { initProject, TEMPLATES } from './commands/init.js';
import { formatResult, queryProject, type QueryFormat } from './commands/query.js';
import {
  docsGenerate,
  formatRunSummaryDbt,
  freshnessDbt,
  isPipelineProject,
  listDbt,
  runDbtVerb,
  type DbtCliOptions,
  type LsOutput,
} from './commands/dbt.js';
import { formatRunSummary, runExitCode, runProject } from './commands/run.js';
import { LandingWatcher, openWorkspace } from '../orchestrator/index.js';
import { parse as parseYamlText } from 'yaml';
import type { DbtVerb } from '../models/index.js';
import { readRuns } from './commands/runs.js';
import { registerOrchestration } from './orchestration.js';
import { formatTable, makeOutput, ttyProgress } from './output.js';
import { packageVersion } from './paths.js';

interface GlobalOptions {
  project: string;
  color: boolean;
  quiet: boolean;
  verbose: boolean;
  debug: boolean;
}

const positiveNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
};
const integer = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected an integer');
  return n;
};

/** Wall time between two ISO timestamps, to a tenth of a second; null while still running. */
function seconds(start: string, end: string | null): string | null {
  return end ? ((Date.parse(end) - Date.parse(start)) / 1000).toFixed(1) : null;
}

function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function buildProgram(): Command {
  const program = new Command('tributary')
    .description(
      'A local-first data platform: ingest, lake, contracts, SQL models, star schema, checks.',
    )
    .version(packageVersion())
    .option('-p, --project <dir>', 'project folder', '.')
    .option('--project-dir <dir>', 'same as --project (dbt spelling)')
    .option('--no-color', 'never colour output (colour is used only on a terminal)')
    .option('-q, --quiet', 'no progress output')
    .option('-v, --verbose', 'print every step as it finishes')
    .option('--debug', 'show stack traces and failing SQL')
    .showHelpAfterError('(run with --help for usage)');

  const globals = (): GlobalOptions => {
    const o = program.opts<GlobalOptions & { projectDir?: string }>();
    return o.projectDir ? { ...o, project: o.projectDir } : o;
  };
  const progress = () => ttyProgress(!globals().quiet, globals().verbose);
  const output = () => makeOutput(!globals().color);

  program
    .command('init')
    .description('create a project folder from a template')
    .argument('[dir]', 'folder to create', '.')
    .addOption(
      new Option('-t, --template <name>', 'template').choices([...TEMPLATES]).default('ecommerce'),
    )
    .action(async (dir: string, opts: { template: string }) => {
      const created = await initProject(dir, opts.template);
      print(
        `created ${opts.template} project in ${relative(process.cwd(), created) || '.'}\nnext: tributary -p ${relative(process.cwd(), created) || '.'} generate && tributary -p ${relative(process.cwd(), created) || '.'} run`,
      );
    });

  program
    .command('generate')
    .description("write the template's deterministic sample data into the landing folder")
    .option('--scale <factor>', 'scale factor: 1 = 100k orders, 250k order lines', positiveNumber)
    .option('--seed <n>', 'random seed (same seed, same bytes)', integer)
    .option('--json', 'print the generation report as JSON')
    .action(async (opts: { scale?: number; seed?: number; json?: boolean }) => {
      const p = progress();
      const outcome = await generateForProject(globals().project, { progress: p, ...opts });
      p.clear();
      if (opts.json) return print(JSON.stringify(outcome.report, null, 2));
      const files = outcome.report.files.map((f) => ({
        file: f.name,
        table: f.table,
        records: f.records,
        bytes: f.bytes,
      }));
      print(
        `${formatTable(
          [
            { name: 'file', kind: 'string', type: '' },
            { name: 'table', kind: 'string', type: '' },
            { name: 'records', kind: 'number', type: '' },
            { name: 'bytes', kind: 'number', type: '' },
          ],
          files,
        )}\nwrote ${relative(process.cwd(), outcome.outDir)}; defects injected and expected results: ${relative(process.cwd(), outcome.reportFile)}`,
      );
    });

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
        if (!isPipelineProject(globals().project)) {
          await dbtAction('run', { ...opts, select });
          return;
        }
        const p = progress();
        const result = await runProject(globals().project, {
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
              : `queued on the server at ${result.url} (position ${result.position}); follow it with \`tributary runs\``,
          );
          return;
        }
        print(opts.json ? JSON.stringify(result, null, 2) : formatRunSummary(result, output()));
        process.exitCode = runExitCode(result) || undefined;
      },
    );

  interface DbtCommandOptions {
    select: string[];
    exclude: string[];
    fullRefresh?: boolean;
    json?: boolean;
    profilesDir?: string;
    target?: string;
    threads?: number;
    vars?: string;
  }
  const dbtOptions = (opts: DbtCommandOptions, p: ReturnType<typeof progress>): DbtCliOptions => {
    let vars: Record<string, unknown> | undefined;
    if (opts.vars) {
      const parsed: unknown = parseYamlText(opts.vars);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new TributaryError(`--vars must be a mapping, e.g. '{"key": "value"}'`, {
          code: 'USAGE',
        });
      vars = parsed as Record<string, unknown>;
    }
    return {
      projectDir: globals().project,
      select: opts.select,
      exclude: opts.exclude,
      fullRefresh: Boolean(opts.fullRefresh),
      progress: p,
      ...(opts.profilesDir ? { profilesDir: opts.profilesDir } : {}),
      ...(opts.target ? { target: opts.target } : {}),
      ...(opts.threads ? { threads: opts.threads } : {}),
      ...(vars ? { vars } : {}),
    };
  };
  const dbtAction = async (verb: DbtVerb, opts: DbtCommandOptions) => {
    const p = progress();
    const summary = await runDbtVerb(verb, dbtOptions(opts, p));
    p.clear();
    print(
      opts.json
        ? JSON.stringify(summary, (k, v: unknown) => (k === 'error' ? undefined : v), 2)
        : formatRunSummaryDbt(summary, output()),
    );
    if (!summary.success) process.exitCode = 1;
  };
  const dbtCommand = (name: string, description: string) =>
    program
      .command(name)
      .description(description)
      .option(
        '-s, --select <select...>',
        'nodes: name, +name, name+, n+name, @name, tag:, path:, resource_type:, source:',
        [],
      )
      .option('--exclude <select...>', 'nodes to leave out', [])
      .option(
        '--profiles-dir <dir>',
        'folder holding profiles.yml (else DBT_PROFILES_DIR, ., ~/.dbt)',
      )
      .option('--target <name>', 'the profiles.yml output to use')
      .option('--threads <n>', 'nodes built at once', integer)
      .option('--vars <yaml>', 'variables, as YAML or JSON')
      .option('--json', 'print the results as JSON');
  const verbs: [DbtVerb, string][] = [
    [
      'build',
      "dbt build: seeds, models, snapshots and tests in graph order, each node's tests right after it",
    ],
    ['test', 'dbt test: run data tests'],
    ['seed', 'dbt seed: load CSV seeds'],
    ['snapshot', 'dbt snapshot: record changed rows (SCD2)'],
    ['compile', 'dbt compile: write compiled SQL to target/compiled without running it'],
  ];
  for (const [verb, description] of verbs) {
    const cmd = dbtCommand(verb, description);
    if (verb === 'build' || verb === 'seed')
      cmd.option('--full-refresh', 'rebuild incremental models and seeds from scratch');
    cmd.action((opts: DbtCommandOptions) => dbtAction(verb, opts));
  }
  dbtCommand('ls', 'dbt ls: list the selected nodes')
    .addOption(
      new Option('--output <format>', 'how to print each node')
        .choices(['selector', 'name', 'path', 'json'])
        .default('selector'),
    )
    .option('--resource-type <type...>', 'only these resource types')
    .action(async (opts: DbtCommandOptions & { output: LsOutput; resourceType?: string[] }) => {
      const p = progress();
      const text = await listDbt({
        ...dbtOptions(opts, p),
        output: opts.json ? 'json' : opts.output,
        ...(opts.resourceType ? { resourceType: opts.resourceType } : {}),
      });
      p.clear();
      if (text) print(text);
    });
  const docs = program.command('docs').description('dbt docs');
  docs
    .command('generate')
    .description('write target/manifest.json and target/catalog.json')
    .option('--profiles-dir <dir>', 'folder holding profiles.yml')
    .option('--target <name>', 'the profiles.yml output to use')
    .action(async (opts: { profilesDir?: string; target?: string }) => {
      const p = progress();
      const files = await docsGenerate(dbtOptions({ select: [], exclude: [], ...opts }, p));
      p.clear();
      print(`wrote ${files.map((f) => relative(process.cwd(), f)).join(', ')}`);
    });
  const source = program.command('source').description('dbt source commands');
  source
    .command('freshness')
    .description(
      "check each source's newest row against its freshness rules; writes target/sources.json",
    )
    .option('-s, --select <select...>', 'sources to check (source:name, source:name.table)', [])
    .option('--exclude <select...>', 'sources to leave out', [])
    .option('--profiles-dir <dir>', 'folder holding profiles.yml')
    .option('--target <name>', 'the profiles.yml output to use')
    .option('--json', 'print the results as JSON')
    .action(async (opts: DbtCommandOptions) => {
      const p = progress();
      const out = await freshnessDbt(dbtOptions(opts, p));
      p.clear();
      if (opts.json) print(JSON.stringify(out.results, null, 2));
      else
        print(
          out.results
            .map(
              (r) =>
                `${r.status.toUpperCase().padEnd(5)} ${r.unique_id}${r.max_loaded_at_time_ago_in_s !== null ? ` (newest row ${Math.round(r.max_loaded_at_time_ago_in_s / 3600)} h old)` : ''}${r.error ? `: ${r.error}` : ''}`,
            )
            .join('\n') || 'no source declares freshness',
        );
      if (!out.success) process.exitCode = 1;
    });

  program
    .command('watch')
    .description(
      "watch the landing folders: a file that has settled there runs its table's ingestion and everything downstream",
    )
    .option(
      '--settle <ms>',
      'how long a file must stay unchanged before it is taken',
      integer,
      1000,
    )
    .action(async (opts: { settle: number }) => {
      const ws = await openWorkspace(globals().project, 'watch');
      const out = output();
      const watcher = new LandingWatcher(ws, {
        settleMs: opts.settle,
        onRun: (result, tables) =>
          print(
            `${new Date().toISOString()} ${tables.join(', ')}: ${formatRunSummary(result, out).split('\n')[0]}`,
          ),
        onError: (err) => process.stderr.write(`error: ${describeError(err)}\n`),
      });
      const stopped = new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      try {
        await watcher.start();
        if (!globals().quiet)
          process.stderr.write(
            `watching ${[...new Set(ws.project.tables.flatMap((t) => (t.kind === 'files' ? [t.folder] : [])))].map((f) => relative(process.cwd(), f) || '.').join(', ')} (Ctrl-C to stop)\n`,
          );
        await stopped;
      } finally {
        await watcher.stop();
        await ws.close();
      }
    });

  program
    .command('query')
    .description(
      'run one read-only SELECT against the warehouse (sandboxed: no writes, files, settings or extensions)',
    )
    .argument('<sql>', 'the query')
    .addOption(
      new Option('-f, --format <format>', 'output format')
        .choices(['table', 'csv', 'json'])
        .default('table'),
    )
    .option('--json', 'same as --format json')
    .option('--limit <rows>', 'return at most this many rows', integer, 10_000)
    .option('--timeout <ms>', 'stop the query after this long', integer, 30_000)
    .action(
      async (
        sql: string,
        opts: { format: QueryFormat; json?: boolean; limit: number; timeout: number },
      ) => {
        const result = await queryProject(globals().project, sql, {
          rowLimit: opts.limit,
          timeoutMs: opts.timeout,
        });
        print(formatResult(result, opts.json ? 'json' : opts.format));
      },
    );

  program
    .command('catalog')
    .description('list tables with columns, types, row counts, partitions and schema versions')
    .argument('[table]', 'show one table in detail, with its schema history')
    .option('--json', 'print as JSON')
    .action(async (table: string | undefined, opts: { json?: boolean }) => {
      const listing = await readCatalog(globals().project, table);
      print(
        opts.json
          ? JSON.stringify(listing, null, 2)
          : formatCatalog(listing, output(), Boolean(table)),
      );
    });

  program
    .command('runs')
    .description('list recent runs, or the steps of one run')
    .argument('[run-id]', 'show this run')
    .option('-n, --limit <n>', 'how many runs', integer, 20)
    .option('--json', 'print as JSON')
    .action(async (runId: string | undefined, opts: { limit: number; json?: boolean }) => {
      const history = await readRuns(globals().project, runId, opts.limit);
      if (opts.json) return print(JSON.stringify(history, null, 2));
      const col = (name: string, kind: 'string' | 'number' = 'string') => ({
        name,
        kind,
        type: '',
      });
      if (history.steps) {
        print(
          formatTable(
            [
              col('asset'),
              col('status'),
              col('rows_out', 'number'),
              col('rows_rejected', 'number'),
              col('attempts', 'number'),
              col('seconds', 'number'),
              col('message'),
            ],
            history.steps.map((s) => ({
              asset: s.asset,
              status: s.status,
              attempts: s.attempts,
              seconds: seconds(s.startedAt, s.finishedAt),
              rows_out: s.rowsOut,
              rows_rejected: s.rowsRejected,
              message: s.message?.split('\n')[0] ?? null,
            })),
          ),
        );
      } else {
        print(
          formatTable(
            [
              col('run_id'),
              col('command'),
              col('trigger'),
              col('status'),
              col('started_at'),
              col('seconds', 'number'),
            ],
            history.runs.map((r) => ({
              run_id: r.runId,
              command: r.command,
              trigger: r.resumedFrom
                ? `${r.trigger ?? 'cli'} (resumes ${r.resumedFrom})`
                : r.trigger,
              status: r.status,
              started_at: r.startedAt,
              seconds: seconds(r.startedAt, r.finishedAt),
            })),
          ),
        );
      }
    });

  registerOrchestration(program, {
    project: () => globals().project,
    quiet: () => globals().quiet,
    progress,
    output,
    print,
    integer,
  });

  program
    .command('schema')
    .description(
      'write the JSON Schemas of tributary.yml, contract and dashboard files, for editors',
    )
    .option('-o, --out <dir>', 'folder to write them into (default: print tributary.schema.json)')
    .action(async (opts: { out?: string }) => {
      const schemas = jsonSchemas();
      if (!opts.out) return print(JSON.stringify(schemas['tributary.schema.json'], null, 2));
      await mkdir(resolve(opts.out), { recursive: true });
      for (const [name, schema] of Object.entries(schemas)) {
        await writeFile(join(resolve(opts.out), name), `${JSON.stringify(schema, null, 2)}\n`);
      }
      print(`wrote ${Object.keys(schemas).join(', ')} to ${opts.out}`);
    });

  program
    .command('demo')
    .description(
      'create the e-commerce demo project, generate data, run the pipeline and summarise',
    )
    .argument('[dir]', 'folder for the demo project (reused if it exists)', 'tributary-demo')
    .option('--scale <factor>', 'scale factor: 1 = 100k orders', positiveNumber)
    .option('--seed <n>', 'random seed', integer)
    .option('--json', 'print the outcome as JSON (and stop after the pipeline)')
    .option('--no-serve', 'stop after the pipeline instead of serving the dashboards')
    .option(
      '--port <port>',
      'port to serve on (default 3000, or a free one when it is taken)',
      integer,
    )
    .action(
      async (
        dir: string,
        opts: { scale?: number; seed?: number; json?: boolean; serve: boolean; port?: number },
      ) => {
        const p = progress();
        const demo = await runDemo(dir, {
          progress: p,
          ...(opts.scale !== undefined ? { scale: opts.scale } : {}),
          ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
        });
        p.clear();
        print(opts.json ? JSON.stringify(demo, null, 2) : formatDemo(demo, output()));
        if (demo.run.status !== 'succeeded') process.exitCode = 1;
        if (!opts.serve || opts.json) return;
        await serveDemo(demo.dir, opts.port, globals().quiet, print);
      },
    );

  return program;
}

/** Runs the CLI; every error becomes one message on stderr and a non-zero exit code. */
export async function main(argv: string[]): Promise<void> {
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
