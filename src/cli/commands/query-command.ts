/**
 * `tributary query`'s command line; what it runs (the sandbox, or the server holding the project)
 * is query.ts's.
 */
import { Option, type Command } from 'commander';
import { integer, print, type CliContext } from '../context.js';
import { formatResult, queryProject, type QueryFormat } from './query.js';

export function registerQuery(program: Command, cli: CliContext): void {
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
        const result = await queryProject(cli.project(), sql, {
          rowLimit: opts.limit,
          timeoutMs: opts.timeout,
        });
        print(formatResult(result, opts.json ? 'json' : opts.format));
      },
    );
}
