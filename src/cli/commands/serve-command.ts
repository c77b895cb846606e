/**
 * `tributary serve`'s command line; what it runs (the scheduler and the HTTP API until stopped)
 * is serve.ts's.
 */
import type { Command } from 'commander';
import { integer, type CliContext } from '../context.js';
import { serveProject } from './serve.js';

export function registerServe(program: Command, cli: CliContext): void {
  program
    .command('serve')
    .description(
      'run the scheduler (cron schedules, file-arrival and upstream-updated triggers, freshness, alerts) and the HTTP API with the web UI, until stopped',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free one)', integer, 3000)
    .option(
      '--no-resume',
      'mark runs a crashed process left running as failed, without resuming them',
    )
    .option(
      '--grace <ms>',
      'on SIGTERM, how long running steps may take to finish before they are interrupted',
      integer,
      30_000,
    )
    .option('--tls-cert <pem>', 'serve HTTPS with this certificate (with --tls-key; or serve.tls)')
    .option('--tls-key <pem>', 'the private key of --tls-cert (PEM, unencrypted)')
    .action(
      async (opts: {
        host: string;
        port: number;
        resume: boolean;
        grace: number;
        tlsCert?: string;
        tlsKey?: string;
      }) => {
        await serveProject(cli.project(), {
          host: opts.host,
          port: opts.port,
          resume: opts.resume,
          graceMs: opts.grace,
          quiet: cli.quiet(),
          ...(opts.tlsCert !== undefined ? { tlsCert: opts.tlsCert } : {}),
          ...(opts.tlsKey !== undefined ? { tlsKey: opts.tlsKey } : {}),
        });
      },
    );
}
