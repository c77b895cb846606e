/**
 * The orchestration part of the command line: `graph`, `logs`, `backfill`, `partitions`,
 * `schedules`, `serve` and `dlq`. Registered on the program by main.ts, sharing its global
 * options and output helpers.
 */
import { Option, type Command } from 'commander';
import { TributaryError, describeError, type ProgressReporter } from '../core/index.js';
import type { DeadLetter, DeadLetterKind, DeadLetterStatus } from '../notify/index.js';
import { openWorkspace, replayDeadLetter } from '../orchestrator/index.js';
import { serveProject } from './commands/serve.js';
import { TokenStore, type Role, type TokenInfo } from '../serve/index.js';
import { withProject, type RemoteApi } from './remote.js';
import {
  listSchedules,
  readLogs,
  readPartitions,
  renderGraph,
  runBackfill,
  type GraphFormat,
} from './commands/orchestrate.js';
import { formatRunSummary, runExitCode } from './commands/run.js';
import { formatTable, type Output } from './output.js';

export interface CliContext {
  project(): string;
  quiet(): boolean;
  progress(): ProgressReporter & { clear(): void };
  output(): Output;
  print(text: string): void;
  integer(value: string): number;
}

const col = (name: string, kind: 'string' | 'number' = 'string') => ({ name, kind, type: '' });

export function registerOrchestration(program: Command, cli: CliContext): void {
  program
    .command('graph')
    .description('print the asset graph: every source table, lake table, model, test and report')
    .argument('[select...]', 'show only these assets (name, +name, name+, tag:x, kind:model)')
    .option('--exclude <select...>', 'assets to leave out', [])
    .addOption(
      new Option('-f, --format <format>', 'output format')
        .choices(['text', 'dot', 'json'])
        .default('text'),
    )
    .option('--json', 'same as --format json')
    .action(
      async (
        select: string[],
        opts: { exclude: string[]; format: GraphFormat; json?: boolean },
      ) => {
        cli.print(
          await renderGraph(cli.project(), select, opts.exclude, opts.json ? 'json' : opts.format),
        );
      },
    );

  program
    .command('logs')
    .description("print a run's log, or one step's")
    .argument('<run-id>', 'the run (see `tributary runs`)')
    .argument('[step]', 'one step: its asset key (model:fct_sales) or name')
    .option('--json', 'print as JSON')
    .action(async (runId: string, step: string | undefined, opts: { json?: boolean }) => {
      const lines = await readLogs(cli.project(), runId, step);
      if (opts.json) return cli.print(JSON.stringify(lines, null, 2));
      if (!lines.length)
        return cli.print(`run ${runId}${step ? ` step ${step}` : ''} logged nothing`);
      const width = Math.max(...lines.map((l) => l.asset.length));
      cli.print(
        lines
          .map(
            (l) =>
              `${l.at}  ${step ? '' : `${l.asset.padEnd(width)}  `}${l.line.replaceAll('\n', '\n    ')}`,
          )
          .join('\n'),
      );
    });

  program
    .command('backfill')
    .description('run the daily partitions of a partitioned model that are missing or failed')
    .argument('<asset>', 'the partitioned model (assets: <name>: partitions: in tributary.yml)')
    .option('--from <date>', 'first partition, YYYY-MM-DD (default: the first)')
    .option('--to <date>', 'last partition, YYYY-MM-DD (default: yesterday)')
    .option('--partitions <dates...>', 'run these partitions, whatever their status')
    .option('--all', 'run every partition in the range, not only missing or failed ones')
    .option('-c, --concurrency <n>', 'partitions to run at once', cli.integer)
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
        if (opts.json) return cli.print(JSON.stringify(result, null, 2));
        if (!result.steps.length)
          return cli.print('nothing to backfill: every partition in the range succeeded');
        cli.print(formatRunSummary(result, cli.output()));
        process.exitCode = runExitCode(result) || undefined;
      },
    );

  program
    .command('partitions')
    .description('show the status of every partition of a partitioned model')
    .argument('<asset>', 'the partitioned model')
    .option('--json', 'print as JSON')
    .action(async (asset: string, opts: { json?: boolean }) => {
      const states = await readPartitions(cli.project(), asset);
      if (opts.json) return cli.print(JSON.stringify(states, null, 2));
      const counts = new Map<string, number>();
      for (const p of states.partitions) counts.set(p.status, (counts.get(p.status) ?? 0) + 1);
      cli.print(
        `${states.asset}: ${states.partitions.length} partitions (${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')})\n` +
          formatTable(
            [col('partition'), col('status'), col('run_id'), col('updated_at'), col('message')],
            states.partitions.map((p) => ({
              partition: p.partition,
              status: p.status,
              run_id: p.runId,
              updated_at: p.updatedAt,
              message: p.message?.split('\n')[0] ?? null,
            })),
          ),
      );
    });

  program
    .command('schedules')
    .description('list the schedules of tributary.yml with their next ticks')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const schedules = await listSchedules(cli.project());
      if (opts.json) return cli.print(JSON.stringify(schedules, null, 2));
      if (!schedules.length) return cli.print('no schedules in tributary.yml');
      cli.print(
        formatTable(
          [col('schedule'), col('cron'), col('timezone'), col('catch_up'), col('next')],
          schedules.map((s) => ({
            schedule: s.name,
            cron: s.cron,
            timezone: s.timezone,
            catch_up: s.catchUp,
            next: s.enabled ? (s.next[0] ?? null) : 'disabled',
          })),
        ),
      );
    });

  program
    .command('serve')
    .description(
      'run the scheduler (cron schedules, file-arrival and upstream-updated triggers, freshness, alerts) and the HTTP API with the web UI, until stopped',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free one)', cli.integer, 3000)
    .option(
      '--no-resume',
      'mark runs a crashed process left running as failed, without resuming them',
    )
    .option(
      '--grace <ms>',
      'on SIGTERM, how long running steps may take to finish before they are interrupted',
      cli.integer,
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

  const token = program
    .command('token')
    .description('API tokens: create (shown once), list, revoke');
  token
    .command('create')
    .description(
      'create a token for the API and the web UI; it is printed once, only its hash is kept',
    )
    .addOption(
      new Option(
        '--role <role>',
        'viewer reads; operator also runs and replays; admin also manages tokens',
      )
        .choices(['viewer', 'operator', 'admin'])
        .makeOptionMandatory(),
    )
    .option('--name <name>', 'who or what it is for')
    .option('--json', 'print as JSON')
    .action(async (opts: { role: Role; name?: string; json?: boolean }) => {
      const created = await withTokens(
        cli.project(),
        'token create',
        (tokens) => tokens.create(opts.role, opts.name),
        async (api) => {
          const { token, ...info } = await api.post<TokenInfo & { token: string }>('/api/tokens', {
            role: opts.role,
            ...(opts.name ? { name: opts.name } : {}),
          });
          return { info, token };
        },
      );
      if (opts.json)
        return cli.print(JSON.stringify({ ...created.info, token: created.token }, null, 2));
      cli.print(created.token);
      process.stderr.write(
        `token ${created.info.id} (${created.info.name}, role ${created.info.role}); store it now: it is not shown again\n`,
      );
    });
  token
    .command('list')
    .description('list tokens (never their secrets)')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await withTokens(
        cli.project(),
        'token list',
        (tokens) => tokens.list(),
        (api) => api.get<TokenInfo[]>('/api/tokens'),
      );
      if (opts.json) return cli.print(JSON.stringify(list, null, 2));
      cli.print(
        formatTable(
          [
            col('id'),
            col('name'),
            col('role'),
            col('kind'),
            col('created_at'),
            col('last_used_at'),
            col('revoked_at'),
          ],
          list.map((t) => ({
            id: t.id,
            name: t.name,
            role: t.role,
            kind: t.kind,
            created_at: t.createdAt,
            last_used_at: t.lastUsedAt,
            revoked_at: t.revokedAt,
          })),
        ),
      );
    });
  token
    .command('revoke')
    .description('revoke a token: it stops working at once')
    .argument('<id>')
    .action(async (id: string) => {
      const revoked = await withTokens(
        cli.project(),
        'token revoke',
        (tokens) => tokens.revoke(id),
        (api) => api.delete<TokenInfo>(`/api/tokens/${encodeURIComponent(id)}`),
      );
      cli.print(`revoked ${revoked.id} (${revoked.name})`);
    });

  const dlq = program
    .command('dlq')
    .description(
      'the dead-letter store: failed events, records and notifications, kept for replay',
    );
  const statusOption = () =>
    new Option('--status <status>', 'only entries in this state').choices([
      'pending',
      'replaying',
      'replayed',
    ]);
  const kindOption = () =>
    new Option('--kind <kind>', 'only entries of this kind').choices([
      'notification',
      'event',
      'record',
    ]);
  dlq
    .command('list')
    .description('list dead letters, newest first')
    .addOption(statusOption())
    .addOption(kindOption())
    .option('-n, --limit <n>', 'how many', cli.integer, 50)
    .option('--json', 'print as JSON')
    .action(
      async (opts: {
        status?: DeadLetterStatus;
        kind?: DeadLetterKind;
        limit: number;
        json?: boolean;
      }) => {
        const query = new URLSearchParams({
          ...(opts.status ? { status: opts.status } : {}),
          ...(opts.kind ? { kind: opts.kind } : {}),
        }).toString();
        const entries = (
          await withProject(
            cli.project(),
            'dlq list',
            (ws) =>
              ws.dlq.list({
                ...(opts.status ? { status: opts.status } : {}),
                ...(opts.kind ? { kind: opts.kind } : {}),
                limit: opts.limit,
              }),
            (api) => api.get<DeadLetter[]>(`/api/dlq${query ? `?${query}` : ''}`),
          )
        ).slice(0, opts.limit);
        if (opts.json) return cli.print(JSON.stringify(entries, null, 2));
        if (!entries.length) return cli.print('the dead-letter store is empty');
        cli.print(formatDeadLetters(entries));
      },
    );
  dlq
    .command('show')
    .description('show one dead letter with its payload and error')
    .argument('<id>')
    .option('--json', 'print as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const entry = await withProject(
        cli.project(),
        'dlq show',
        (ws) => ws.dlq.get(id),
        (api) => api.get<DeadLetter>(`/api/dlq/${encodeURIComponent(id)}`),
      );
      if (!entry)
        throw new TributaryError(`no dead letter ${id}`, {
          code: 'NOT_FOUND',
          hint: '`tributary dlq list` lists them',
        });
      if (opts.json) return cli.print(JSON.stringify(entry, null, 2));
      cli.print(
        [
          `id:         ${entry.id}`,
          `kind:       ${entry.kind} (${entry.source})`,
          `status:     ${entry.status}${entry.replayedAt ? ` at ${entry.replayedAt}` : ''}`,
          `attempts:   ${entry.attempts}`,
          `first seen: ${entry.firstSeen}`,
          `last seen:  ${entry.lastSeen}`,
          `error:      ${entry.error}`,
          `payload:    ${JSON.stringify(entry.payload, null, 2).replaceAll('\n', '\n            ')}`,
        ].join('\n'),
      );
    });
  dlq
    .command('replay')
    .description('send dead letters through the normal path again; each is applied once')
    .argument('[ids...]', 'entries to replay (default: every pending one)')
    .option('--json', 'print as JSON')
    .action(async (ids: string[], opts: { json?: boolean }) => {
      type Outcome = { id: string; status: 'replayed' | 'failed'; error?: string };
      const each = async (targets: string[], replay: (id: string) => Promise<unknown>) => {
        const out: Outcome[] = [];
        for (const id of targets) {
          try {
            await replay(id);
            out.push({ id, status: 'replayed' });
          } catch (err) {
            out.push({ id, status: 'failed', error: describeError(err) });
          }
        }
        return out;
      };
      const results = await withProject(
        cli.project(),
        'dlq replay',
        async (ws) =>
          each(
            ids.length
              ? ids
              : (await ws.dlq.list({ status: 'pending', limit: 10_000 })).map((e) => e.id),
            (id) => replayDeadLetter(ws, id),
          ),
        async (api) =>
          each(
            ids.length
              ? ids
              : (await api.get<DeadLetter[]>('/api/dlq?status=pending')).map((e) => e.id),
            (id) => api.post(`/api/dlq/${encodeURIComponent(id)}/replay`),
          ),
      );
      if (opts.json) cli.print(JSON.stringify(results, null, 2));
      else if (!results.length) cli.print('nothing to replay');
      else
        cli.print(
          results
            .map(
              (r) =>
                `${r.status === 'replayed' ? 'replayed' : cli.output().paint('red', 'failed  ')} ${r.id}${r.error ? `: ${r.error}` : ''}`,
            )
            .join('\n'),
        );
      if (results.some((r) => r.status === 'failed')) process.exitCode = 1;
    });
  dlq
    .command('purge')
    .description('delete dead letters')
    .argument('[ids...]', 'entries to delete')
    .addOption(statusOption())
    .option('--before <time>', 'entries last seen before this ISO time')
    .option('--all', 'every entry')
    .action(
      async (
        ids: string[],
        opts: { status?: DeadLetterStatus; before?: string; all?: boolean },
      ) => {
        if (!ids.length && !opts.status && !opts.before && !opts.all) {
          throw new TributaryError('say what to purge: ids, --status, --before or --all', {
            code: 'USAGE',
          });
        }
        const ws = await openWorkspace(cli.project(), 'dlq purge');
        try {
          const n = await ws.dlq.purge({
            ...(ids.length ? { ids } : {}),
            ...(opts.status ? { status: opts.status } : {}),
            ...(opts.before ? { before: opts.before } : {}),
            // Everything: every entry was last seen before the far future.
            ...(opts.all ? { before: '9999-12-31T00:00:00Z' } : {}),
          });
          cli.print(`purged ${n} dead letter(s)`);
        } finally {
          await ws.close();
        }
      },
    );
}

function formatDeadLetters(entries: DeadLetter[]): string {
  return formatTable(
    [
      col('id'),
      col('kind'),
      col('source'),
      col('status'),
      col('attempts', 'number'),
      col('last_seen'),
      col('error'),
    ],
    entries.map((e) => ({
      id: e.id,
      kind: e.kind,
      source: e.source,
      status: e.status,
      attempts: e.attempts,
      last_seen: e.lastSeen,
      error: e.error.split('\n')[0]!.slice(0, 80),
    })),
  );
}

/** Runs a token command on the project's token store, or through its running server. */
function withTokens<T>(
  projectDir: string,
  command: string,
  local: (tokens: TokenStore) => Promise<T>,
  remote: (api: RemoteApi) => Promise<T>,
): Promise<T> {
  return withProject(
    projectDir,
    command,
    async (ws) => local(await TokenStore.open(ws.state.engine)),
    remote,
  );
}
