/** `tributary dlq`: the dead-letter store listed, shown, replayed and purged, here or through the server. */
import { Option, type Command } from 'commander';
import { TributaryError, describeError } from '../../core/index.js';
import type { DeadLetter, DeadLetterKind, DeadLetterStatus } from '../../notify/index.js';
import { openWorkspace, replayDeadLetter } from '../../orchestrator/index.js';
import { column as col, integer, print, type CliContext } from '../context.js';
import { formatTable } from '../output.js';
import { withProject } from '../remote.js';

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

export function registerDlq(program: Command, cli: CliContext): void {
  const dlq = program
    .command('dlq')
    .description(
      'the dead-letter store: failed events, records and notifications, kept for replay',
    );
  registerDlqList(dlq, cli);
  registerDlqShow(dlq, cli);
  registerDlqReplay(dlq, cli);
  registerDlqPurge(dlq, cli);
}

/** `dlq list`: newest first, filtered by state and kind. */
function registerDlqList(dlq: Command, cli: CliContext): void {
  dlq
    .command('list')
    .description('list dead letters, newest first')
    .addOption(statusOption())
    .addOption(kindOption())
    .option('-n, --limit <n>', 'how many', integer, 50)
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
        if (opts.json) return print(JSON.stringify(entries, null, 2));
        if (!entries.length) return print('the dead-letter store is empty');
        print(formatDeadLetters(entries));
      },
    );
}

/** `dlq show`: one entry with its payload and error. */
function registerDlqShow(dlq: Command, cli: CliContext): void {
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
      if (opts.json) return print(JSON.stringify(entry, null, 2));
      print(
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
}

/** `dlq replay`: the given entries (or every pending one) through the normal path again. */
function registerDlqReplay(dlq: Command, cli: CliContext): void {
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
      if (opts.json) print(JSON.stringify(results, null, 2));
      else if (!results.length) print('nothing to replay');
      else
        print(
          results
            .map(
              (r) =>
                `${r.status === 'replayed' ? 'replayed' : cli.output().paint('red', 'failed  ')} ${r.id}${r.error ? `: ${r.error}` : ''}`,
            )
            .join('\n'),
        );
      if (results.some((r) => r.status === 'failed')) process.exitCode = 1;
    });
}

/** `dlq purge`: entries deleted by id, state or age. */
function registerDlqPurge(dlq: Command, cli: CliContext): void {
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
          print(`purged ${n} dead letter(s)`);
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
