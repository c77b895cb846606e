/**
 * Command-line options for the bench scripts, with the conventions of the CLI: `--help` (or `-h`)
 * prints the script's own doc comment (the first `/** … *\/` block of the file that runs, which
 * tsc keeps in dist/bench) and its options with their defaults, then exits 0; an unknown or
 * malformed option prints node's parseArgs message and a hint, then exits 2, instead of a stack
 * trace.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The text of the first doc comment in `source`, without its `*` gutter; '' when there is none. */
export function leadingDocComment(source: string): string {
  const match = /\/\*\*([\s\S]*?)\*\//.exec(source);
  if (!match) return '';
  return match[1]
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, '').trimEnd())
    .join('\n')
    .trim();
}

/** One line per option: `--name <value>  (default: x)`, or `--flag` for booleans. */
export function optionLines(options: Options): string[] {
  return Object.entries(options).map(([name, option]) => {
    const value = option.type === 'string' ? ' <value>' : '';
    const short = option.short ? `-${option.short}, ` : '';
    const fallback = option.default === undefined ? '' : `  (default: ${String(option.default)})`;
    return `  ${short}--${name}${value}${fallback}`;
  });
}

/** The usage text `--help` prints for the script at `scriptPath`. */
export function benchUsage(scriptPath: string, options: Options): string {
  let doc = '';
  try {
    doc = leadingDocComment(readFileSync(scriptPath, 'utf8'));
  } catch {
    // A script run from somewhere its file cannot be read still lists its options.
  }
  const lines = optionLines(options);
  return [
    `usage: node ${basename(scriptPath)} [options]`,
    ...(doc ? ['', doc] : []),
    '',
    'options:',
    ...(lines.length ? lines : ['  (none)']),
    '  -h, --help  this text',
    '',
  ].join('\n');
}

/** parseArgs for a bench script (`scriptUrl`: its `import.meta.url`), with `--help` and exit 2 on bad options. */
export function benchArgs<T extends ParseArgsConfig>(
  config: T,
  scriptUrl: string,
): ReturnType<typeof parseArgs<T>> {
  const argv = config.args ?? process.argv.slice(2);
  const scriptPath = fileURLToPath(scriptUrl);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(benchUsage(scriptPath, config.options ?? {}));
    process.exit(0);
  }
  try {
    return parseArgs(config);
  } catch (error) {
    process.stderr.write(
      `error: ${(error as Error).message}\n  hint: node ${basename(scriptPath)} --help lists the options\n`,
    );
    process.exit(2);
  }
}
