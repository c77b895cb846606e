/**
 * `tributary deps`: dbt's `deps` — installs the packages packages.yml (or dependencies.yml)
 * declares into packages-install-path and writes package-lock.yml. Quiet by default: one line
 * per installed package on stdout (nothing with -q), warnings on stderr, progress with -v.
 * Exit code 1 when a package cannot be resolved or fetched (one message naming file and entry).
 */
import type { Command } from 'commander';
import { parse as parseYamlText } from 'yaml';
import { TributaryError } from '../../core/index.js';
import { installDeps, LOCK_FILE, type DepsResult } from '../../models/index.js';
import { loadProject } from '../../project/index.js';
import { print, type CliContext } from '../context.js';
import { isPipelineProject } from './dbt.js';

interface DepsCommandOptions {
  lock?: boolean;
  upgrade?: boolean;
  json?: boolean;
  versionCheck: boolean;
  vars?: string;
}

/** --vars as YAML or JSON: a mapping, as for the other dbt verbs. */
function varsOption(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  const parsed: unknown = parseYamlText(text);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new TributaryError(`--vars must be a mapping, e.g. '{"key": "value"}'`, {
      code: 'USAGE',
    });
  return parsed as Record<string, unknown>;
}

/** The human summary: one line per package, then where they went and what the lock did. */
function formatDeps(result: DepsResult): string {
  if (!result.specFile || !result.packages.length)
    return 'no packages declared (packages.yml or dependencies.yml)';
  const lines = result.packages.map((p) => {
    const from =
      p.kind === 'hub'
        ? `version ${p.version}${p.latest ? ` (update available: ${p.latest})` : ''}`
        : p.kind === 'git'
          ? `revision ${p.revision ?? 'HEAD'} (${p.sha?.slice(0, 10)})`
          : p.kind === 'local'
            ? p.linked
              ? 'linked'
              : 'copied'
            : 'tarball';
    return `${p.name.padEnd(24)} ${from}  ${p.source}`;
  });
  const count = `${result.packages.length} package${result.packages.length === 1 ? '' : 's'}`;
  if (!result.installed)
    lines.push(`${count} resolved; wrote ${LOCK_FILE} (--lock: nothing installed)`);
  else
    lines.push(
      `${count} in ${result.installPath}/; ${result.lock === 'reused' ? `installed from ${LOCK_FILE}` : `wrote ${LOCK_FILE}`}`,
    );
  return lines.join('\n');
}

export function registerDeps(program: Command, cli: CliContext): void {
  program
    .command('deps')
    .description(
      'dbt deps: install the packages in packages.yml/dependencies.yml into dbt_packages/ and write package-lock.yml',
    )
    .option('--lock', 'resolve the packages and write package-lock.yml without installing them')
    .option(
      '--upgrade',
      'resolve again (newest matching versions) even if package-lock.yml matches',
    )
    .option(
      '--no-version-check',
      "also consider hub versions whose require_dbt_version excludes dbt 1.9 (dbt's flag)",
    )
    .option('--vars <yaml>', 'variables for var() in packages.yml, as YAML or JSON')
    .option('--json', 'print what was installed as JSON')
    .action(async (opts: DepsCommandOptions) => {
      const p = cli.progress();
      // In a Tributary pipeline the dbt project is tributary.yml's models.project folder.
      const dir = isPipelineProject(cli.project())
        ? (await loadProject(cli.project())).paths.models
        : cli.project();
      const result = await installDeps(dir, {
        upgrade: Boolean(opts.upgrade),
        lockOnly: Boolean(opts.lock),
        versionCheck: opts.versionCheck,
        ...(opts.vars !== undefined ? { vars: varsOption(opts.vars) } : {}),
        log: (m) => p.log(m),
        warn: (m) => {
          p.clear();
          if (!cli.quiet()) process.stderr.write(`warning: ${m}\n`);
        },
      });
      p.clear();
      if (opts.json) print(JSON.stringify(result, null, 2));
      else if (!cli.quiet()) print(formatDeps(result));
    });
}
