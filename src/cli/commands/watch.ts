/** `tributary watch`: a file that settles in a landing folder runs its table and what is downstream. */
import type { Command } from 'commander';
import { relative } from 'node:path';
import { describeError } from '../../core/index.js';
import { DEFAULT_SETTLE_MS, LandingWatcher, openWorkspace } from '../../orchestrator/index.js';
import { integer, print, type CliContext } from '../context.js';
import { formatRunSummary } from './run.js';

export function registerWatch(program: Command, cli: CliContext): void {
  program
    .command('watch')
    .description(
      "watch the landing folders: a file that has settled there runs its table's ingestion and everything downstream",
    )
    .option(
      '--settle <ms>',
      'how long a file must stay unchanged before it is taken',
      integer,
      DEFAULT_SETTLE_MS,
    )
    .action(async (opts: { settle: number }) => {
      const ws = await openWorkspace(cli.project(), 'watch');
      const out = cli.output();
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
        if (!cli.quiet())
          process.stderr.write(
            `watching ${[...new Set(ws.project.tables.flatMap((t) => (t.kind === 'files' ? [t.folder] : [])))].map((f) => relative(process.cwd(), f) || '.').join(', ')} (Ctrl-C to stop)\n`,
          );
        await stopped;
      } finally {
        await watcher.stop();
        await ws.close();
      }
    });
}
