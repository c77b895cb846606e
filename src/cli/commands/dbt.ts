/**
 * dbt's verbs on a project folder: build, run, test, seed, snapshot, compile, ls, docs generate
 * and source freshness. A plain dbt project uses its profiles.yml; a Tributary project (with
 * tributary.yml) builds in its own warehouse under the project lock, whatever profiles.yml says.
 * The verbs share their options, so they are registered here together (`run` is `run.ts`'s: it
 * falls back to dbt's run on a plain dbt project).
 */
import { Option, type Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parse as parseYamlText } from 'yaml';
import { TributaryError, describeError, type ProgressReporter } from '../../core/index.js';
import type { Engine } from '../../engines/index.js';
import {
  listNodes,
  openDbtProject,
  runOperation,
  runVerb,
  sourceFreshness,
  writeCatalog,
  writeManifest,
  type DbtVerb,
  type ParsedProject,
  type RunSummary,
  resolveWarnError,
  tuneForShortRun,
  type WarnErrorFlags,
} from '../../models/index.js';
import { CONFIG_FILE } from '../../project/index.js';
import { integer, print, type CliContext } from '../context.js';
import { DbtConsole, type LogFormat } from '../dbt-console.js';

export interface DbtCliOptions {
  projectDir: string;
  profilesDir?: string;
  target?: string;
  select?: string[];
  exclude?: string[];
  threads?: number;
  fullRefresh?: boolean;
  storeFailures?: boolean;
  /** --vars as YAML/JSON text. */
  vars?: Record<string, unknown>;
  /** --warn-error / --warn-error-options as given. */
  warnError?: WarnErrorFlags;
  progress: ProgressReporter;
}

/** True when the folder is a Tributary pipeline (its models build in the pipeline's warehouse). */
export function isPipelineProject(dir: string): boolean {
  return existsSync(join(resolve(dir), CONFIG_FILE));
}

/** Opens the project the dbt verbs act on, runs `fn`, and closes everything. */
async function withDbt<T>(
  opts: DbtCliOptions,
  fn: (pp: ParsedProject, engine: Engine) => Promise<T>,
): Promise<T> {
  if (isPipelineProject(opts.projectDir)) {
    if (opts.target)
      throw new TributaryError('--target does not apply to a Tributary project', {
        code: 'USAGE',
        hint: "the models build in tributary.yml's warehouse; run dbt verbs on a folder without tributary.yml to use profiles.yml",
      });
    // Loaded here: the orchestrator brings the pipeline's connectors, which a dbt project never
    // needs, and `tributary compile` on one should not pay for loading them.
    const { openWorkspace } = await import('../../orchestrator/index.js');
    const ws = await openWorkspace(opts.projectDir, 'dbt');
    try {
      // The pipeline parsed its models already: the policy applies to what runs from here.
      ws.models.warnError = resolveWarnError(opts.warnError ?? {}, ws.models.project.flags);
      if (opts.vars) {
        Object.assign(ws.models.project.vars, opts.vars);
        Object.assign(ws.models.project.cliVars, opts.vars);
      }
      return await fn(ws.models, ws.warehouse);
    } finally {
      await ws.close();
    }
  }
  const opened = await openDbtProject(opts.projectDir, {
    ...(opts.profilesDir ? { profilesDir: opts.profilesDir } : {}),
    ...(opts.target ? { target: opts.target } : {}),
    ...(opts.vars ? { vars: opts.vars } : {}),
    ...(opts.warnError ? { warnError: opts.warnError } : {}),
    log: (m) => opts.progress.log(m),
  });
  try {
    return await fn(opened.parsed, opened.engine);
  } finally {
    await opened.close();
  }
}

/** Runs one of the executing verbs, telling `dbtConsole` of each node as it finishes. */
async function runDbtVerb(
  verb: DbtVerb,
  opts: DbtCliOptions,
  dbtConsole?: DbtConsole,
): Promise<RunSummary> {
  return withDbt(opts, (pp, engine) => {
    dbtConsole?.useProject(pp);
    return runVerb(pp, engine, {
      verb,
      select: opts.select ?? [],
      exclude: opts.exclude ?? [],
      ...(opts.threads ? { threads: opts.threads } : {}),
      fullRefresh: Boolean(opts.fullRefresh),
      storeFailures: Boolean(opts.storeFailures),
      progress: opts.progress,
      log: (m) => opts.progress.log(m),
      ...(dbtConsole
        ? {
            onPlan: (plan) => dbtConsole.plan(plan),
            // dbt's compile prints no line per node.
            ...(verb === 'compile' ? {} : { onResult: (r, node) => dbtConsole.result(r, node) }),
          }
        : {}),
    });
  });
}

export type LsOutput = 'name' | 'selector' | 'path' | 'json';

/** `ls`: the selected nodes, as dbt prints them. */
async function listDbt(
  opts: DbtCliOptions & { resourceType?: string[]; output: LsOutput },
): Promise<string> {
  return withDbt(opts, async (pp) => {
    const nodes = listNodes(pp, {
      select: opts.select ?? [],
      exclude: opts.exclude ?? [],
      ...(opts.resourceType?.length ? { resourceType: opts.resourceType } : {}),
    });
    return nodes
      .map((n) => {
        switch (opts.output) {
          case 'name':
            return n.name;
          case 'path':
            return n.original_file_path;
          case 'json':
            return JSON.stringify({
              name: n.name,
              resource_type: n.resource_type,
              unique_id: n.unique_id,
              original_file_path: n.original_file_path,
              config: { materialized: n.config.materialized, tags: n.config.tags },
              tags: n.tags,
              depends_on: n.depends_on,
            });
          default:
            return n.fqn.join('.');
        }
      })
      .join('\n');
  });
}

/** `docs generate`: manifest.json and catalog.json (columns read from the warehouse). */
async function docsGenerate(opts: DbtCliOptions): Promise<string[]> {
  return withDbt(opts, async (pp, engine) => {
    const id = randomUUID();
    return [await writeManifest(pp, id), await writeCatalog(pp, engine, id)];
  });
}

/** `source freshness`: writes target/sources.json and returns each source's status. */
async function freshnessDbt(opts: DbtCliOptions) {
  return withDbt(opts, (pp, engine) =>
    sourceFreshness(pp, engine, { select: opts.select ?? [], exclude: opts.exclude ?? [] }),
  );
}

/** The options every dbt verb takes, as commander parses them. */
export interface DbtCommandOptions {
  select: string[];
  exclude: string[];
  fullRefresh?: boolean;
  storeFailures?: boolean;
  json?: boolean;
  profilesDir?: string;
  target?: string;
  threads?: number;
  vars?: string;
  /** How the node lines and summary print: dbt's text lines, or dbt's JSON log lines. */
  logFormat?: LogFormat;
  warnError?: boolean;
  warnErrorOptions?: string;
}

/** The parsed command line as the verbs take it (`--vars` read as YAML or JSON). */
function dbtCliOptions(
  cli: CliContext,
  opts: DbtCommandOptions,
  progress: ProgressReporter,
): DbtCliOptions {
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
    projectDir: cli.project(),
    select: opts.select,
    exclude: opts.exclude,
    fullRefresh: Boolean(opts.fullRefresh),
    storeFailures: Boolean(opts.storeFailures),
    progress,
    ...(opts.profilesDir ? { profilesDir: opts.profilesDir } : {}),
    ...(opts.target ? { target: opts.target } : {}),
    ...(opts.threads ? { threads: opts.threads } : {}),
    ...(vars ? { vars } : {}),
    warnError: {
      ...(opts.warnError !== undefined ? { warnError: opts.warnError } : {}),
      ...(opts.warnErrorOptions !== undefined ? { warnErrorOptions: opts.warnErrorOptions } : {}),
    },
  };
}

/** Runs an executing verb and prints its summary; a failed node makes the exit code 1. */
export async function dbtAction(
  cli: CliContext,
  verb: DbtVerb,
  opts: DbtCommandOptions,
): Promise<void> {
  // A compile parses, renders and exits: V8's inlining costs it more than it saves.
  if (verb === 'compile') tuneForShortRun();
  const p = cli.progress();
  // The node lines are the progress (on stdout, as dbt prints them); --json keeps stdout for
  // its one document and shows the progress line on stderr instead.
  const dbtConsole = opts.json
    ? undefined
    : new DbtConsole({
        format: opts.logFormat ?? 'text',
        quiet: cli.quiet(),
        output: cli.output(),
        fullRefresh: Boolean(opts.fullRefresh),
        write: (line) => process.stdout.write(`${line}\n`),
      });
  // What the project's Jinja logs (log(info=True), print, exceptions.warn) prints as dbt's does.
  const progress: ProgressReporter = dbtConsole
    ? { update: () => undefined, log: (m) => dbtConsole.log(m) }
    : p;
  const summary = await runDbtVerb(verb, dbtCliOptions(cli, opts, progress), dbtConsole);
  p.clear();
  if (dbtConsole) dbtConsole.summary(summary);
  else print(JSON.stringify(summary, (k, v: unknown) => (k === 'error' ? undefined : v), 2));
  if (!summary.success) process.exitCode = 1;
}

/** A dbt verb's command with the options they all share. */
function dbtCommand(program: Command, name: string, description: string): Command {
  return program
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
    .addOption(logFormatOption())
    .option('--json', 'print the results as JSON');
}

/** dbt's `--warn-error` (also DBT_WARN_ERROR). */
export function warnErrorOption(): Option {
  return new Option('--warn-error', 'turn every dbt warning into an error (also DBT_WARN_ERROR)');
}

/** dbt's `--warn-error-options` (also DBT_WARN_ERROR_OPTIONS). */
export function warnErrorOptionsOption(): Option {
  return new Option(
    '--warn-error-options <yaml>',
    'which dbt warnings become errors: {"error": "all" | [names], "warn": [names], "silence": [names]} (also DBT_WARN_ERROR_OPTIONS)',
  );
}

/** `--log-format text|json`: dbt's console lines, or one dbt structured-log JSON object a line. */
export function logFormatOption(): Option {
  return new Option('--log-format <format>', "dbt's console: text lines, or JSON log lines")
    .choices(['text', 'json'])
    .default('text');
}

const EXECUTING_VERBS: [DbtVerb, string][] = [
  [
    'build',
    "dbt build: seeds, models, snapshots and tests in graph order, each node's tests right after it",
  ],
  ['test', 'dbt test: run data tests'],
  ['seed', 'dbt seed: load CSV seeds'],
  ['snapshot', 'dbt snapshot: record changed rows (SCD2)'],
  ['compile', 'dbt compile: write compiled SQL to target/compiled without running it'],
];

/** `build`, `test`, `seed`, `snapshot` and `compile`. */
export function registerDbtVerbs(program: Command, cli: CliContext): void {
  for (const [verb, description] of EXECUTING_VERBS) {
    const cmd = dbtCommand(program, verb, description)
      .addOption(warnErrorOption())
      .addOption(warnErrorOptionsOption());
    if (verb === 'build' || verb === 'seed')
      cmd.option('--full-refresh', 'rebuild incremental models and seeds from scratch');
    if (verb === 'build' || verb === 'test')
      cmd.option('--store-failures', "keep each test's failing rows in <schema>_dbt_test__audit");
    cmd.action((opts: DbtCommandOptions) => dbtAction(cli, verb, opts));
  }
}

export function registerLs(program: Command, cli: CliContext): void {
  dbtCommand(program, 'ls', 'dbt ls: list the selected nodes')
    .addOption(
      new Option('--output <format>', 'how to print each node')
        .choices(['selector', 'name', 'path', 'json'])
        .default('selector'),
    )
    .option('--resource-type <type...>', 'only these resource types')
    .action(async (opts: DbtCommandOptions & { output: LsOutput; resourceType?: string[] }) => {
      tuneForShortRun();
      const p = cli.progress();
      const text = await listDbt({
        ...dbtCliOptions(cli, opts, p),
        output: opts.json ? 'json' : opts.output,
        ...(opts.resourceType ? { resourceType: opts.resourceType } : {}),
      });
      p.clear();
      if (text) print(text);
    });
}

/** `docs generate`. */
export function registerDocs(program: Command, cli: CliContext): void {
  const docs = program.command('docs').description('dbt docs');
  docs
    .command('generate')
    .description('write target/manifest.json and target/catalog.json')
    .option('--profiles-dir <dir>', 'folder holding profiles.yml')
    .option('--target <name>', 'the profiles.yml output to use')
    .action(async (opts: { profilesDir?: string; target?: string }) => {
      const p = cli.progress();
      const files = await docsGenerate(dbtCliOptions(cli, { select: [], exclude: [], ...opts }, p));
      p.clear();
      print(`wrote ${files.map((f) => relative(process.cwd(), f)).join(', ')}`);
    });
}

/** `source freshness`. */
export function registerSource(program: Command, cli: CliContext): void {
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
      const p = cli.progress();
      const out = await freshnessDbt(dbtCliOptions(cli, opts, p));
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
}

/**
 * `run-operation <macro> --args <yaml>`: calls one macro against the warehouse, as dbt does;
 * what it logs or prints appears as dbt prints it, and an error is dbt's "Encountered an error
 * while running operation" with exit code 1.
 */
export function registerRunOperation(program: Command, cli: CliContext): void {
  program
    .command('run-operation')
    .description('dbt run-operation: call a macro (<name> or <package>.<name>) with --args')
    .argument('<macro>', 'the macro: <name> or <package>.<name>')
    .option('--args <yaml>', "the macro's keyword arguments, as a YAML or JSON mapping", '{}')
    .option(
      '--profiles-dir <dir>',
      'folder holding profiles.yml (else DBT_PROFILES_DIR, ., ~/.dbt)',
    )
    .option('--target <name>', 'the profiles.yml output to use')
    .option('--vars <yaml>', 'variables, as YAML or JSON')
    .addOption(logFormatOption())
    .addOption(warnErrorOption())
    .addOption(warnErrorOptionsOption())
    .action(async (macro: string, opts: DbtCommandOptions & { args: string }) => {
      const args: unknown = parseYamlText(opts.args);
      if (args !== null && (typeof args !== 'object' || Array.isArray(args)))
        throw new TributaryError(`--args must be a mapping, e.g. '{"key": "value"}'`, {
          code: 'USAGE',
        });
      const dbtConsole = new DbtConsole({
        format: opts.logFormat ?? 'text',
        quiet: cli.quiet(),
        output: cli.output(),
        fullRefresh: false,
        write: (line) => process.stdout.write(`${line}\n`),
      });
      const progress: ProgressReporter = { update: () => undefined, log: (m) => dbtConsole.log(m) };
      const cliOpts = dbtCliOptions(cli, { ...opts, select: [], exclude: [] }, progress);
      try {
        await withDbt(cliOpts, (pp, engine) =>
          runOperation(pp, engine, macro, {
            args: (args ?? {}) as Record<string, unknown>,
            log: (m) => dbtConsole.log(m),
          }),
        );
      } catch (err) {
        dbtConsole.emit({
          name: 'RunningOperationCaughtError',
          code: 'Q001',
          level: 'error',
          msg: `Encountered an error while running operation: ${describeError(err)}`,
          data: { exc: describeError(err) },
        });
        process.exitCode = 1;
      }
    });
}
