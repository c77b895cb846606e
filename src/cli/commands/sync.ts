/**
 * `tributary sync <name>`: run one sync (reverse ETL) through the orchestrator, or with --dry-run
 * print what it would send (counts and a sample of each operation) and send nothing.
 * `tributary syncs`: every sync with its last run, counts and waiting dead letters.
 */
import type { Command } from 'commander';
import { TributaryError } from '../../core/index.js';
import {
  checkSync,
  listSyncs,
  openWorkspace,
  runOneSync,
  syncRunHistory,
  type SyncCheckReport,
  type SyncCommandResult,
  type SyncRunRecord,
  type SyncSummary,
} from '../../orchestrator/index.js';
import type { SyncOutcome, SyncRecord } from '../../sync/index.js';
import { column as col, integer, print, type CliContext } from '../context.js';
import { formatTable, type Output } from '../output.js';
import { runningServer, withProject } from '../remote.js';

/** Exit codes: 0 sent (or would send) cleanly, 1 the sync failed, 4 records were rejected. */
export const SYNC_REJECTED_EXIT = 4;

async function syncHere(
  projectDir: string,
  name: string,
  opts: { dryRun?: boolean; fullResync?: boolean },
  cli: CliContext,
): Promise<SyncCommandResult> {
  let ws;
  try {
    ws = await openWorkspace(projectDir, `sync ${name}`);
  } catch (err) {
    if (!(err instanceof TributaryError && err.code === 'LOCKED')) throw err;
    const server = await runningServer(projectDir);
    if (!server) throw err;
    throw new TributaryError(`the server at ${server.url} holds the project`, {
      code: 'LOCKED',
      hint: `queue the sync there with \`tributary run sync:${name}\` (a dry run or full resync needs the server stopped)`,
    });
  }
  try {
    const progress = cli.progress();
    const result = await runOneSync(ws, name, {
      dryRun: Boolean(opts.dryRun),
      fullResync: Boolean(opts.fullResync),
      progress,
    });
    progress.clear();
    return result;
  } finally {
    await ws.close();
  }
}

/** `--check`: the mapping against the source's columns and the destination's schema. */
async function checkHere(projectDir: string, name: string): Promise<SyncCheckReport> {
  const ws = await openWorkspace(projectDir, `sync ${name} --check`);
  try {
    return await checkSync(ws, name);
  } finally {
    await ws.close();
  }
}

export function formatSyncCheck(report: SyncCheckReport, out: Output): string {
  const lines = [
    `${report.problems.length ? out.paint('red', 'problems') : out.paint('green', 'ok')} sync ${report.sync} (${report.file})`,
    `  columns: ${report.columns}`,
    `  destination fields: ${report.destination}`,
  ];
  for (const p of report.problems)
    lines.push(
      `  ${p.location.file}${p.location.line !== undefined ? `:${p.location.line}` : ''}: ${p.message}`,
    );
  return lines.join('\n');
}

function sampleLines(label: string, records: readonly SyncRecord[], total: number): string[] {
  if (!total) return [];
  const lines = [
    `${label} (${total}${records.length < total ? `, ${records.length} shown` : ''}):`,
  ];
  for (const r of records) {
    const fields = Object.entries(r.fields)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(' ');
    lines.push(`  ${r.key}${fields ? `  ${fields}` : ''}`);
  }
  return lines;
}

/** What a sync did or, dry run, would do: counts, then a sample of each operation. */
export function formatSyncOutcome(
  name: string,
  outcome: SyncOutcome,
  dryRun: boolean,
  out: Output,
): string {
  const counts = `${outcome.inserted} insert(s), ${outcome.updated} update(s), ${outcome.deleted} delete(s), ${outcome.unchanged} unchanged`;
  const lines = [
    dryRun
      ? `dry run of sync ${name}: would send ${counts}; nothing was sent`
      : `sync ${name}: sent ${counts}` +
        (outcome.rejected
          ? `, ${out.paint('red', `${outcome.rejected} rejected`)} (${(outcome.failedShare * 100).toFixed(1)}%; dead letters: tributary dlq list --kind record)`
          : ''),
  ];
  if (outcome.samples) {
    lines.push(
      ...sampleLines('inserts', outcome.samples.insert, outcome.inserted),
      ...sampleLines('updates', outcome.samples.update, outcome.updated),
      ...sampleLines('deletes', outcome.samples.delete, outcome.deleted),
    );
  }
  return lines.join('\n');
}

function registerSyncCommand(program: Command, cli: CliContext): void {
  program
    .command('sync')
    .description('send the changed rows of one sync to its destination (reverse ETL)')
    .argument('<name>', 'the sync (syncs/<name>.yml)')
    .option('--dry-run', 'print the inserts, updates and deletes it would send; send nothing')
    .option('--full-resync', 'ignore the saved state: send every row (mirror: delete the rest)')
    .option(
      '--check',
      "check the mapping against the source's columns and the destination's fields; send nothing",
    )
    .option('--json', 'print the run and the outcome as JSON')
    .action(
      async (
        name: string,
        opts: { dryRun?: boolean; fullResync?: boolean; json?: boolean; check?: boolean },
      ) => {
        if (opts.check) {
          const report = await checkHere(cli.project(), name);
          print(
            opts.json ? JSON.stringify(report, null, 2) : formatSyncCheck(report, cli.output()),
          );
          if (report.problems.length) process.exitCode = 1;
          return;
        }
        const result = await syncHere(cli.project(), name, opts, cli);
        const step = result.run.steps.find((s) => s.asset === `sync:${name}`);
        if (opts.json) print(JSON.stringify(result, null, 2));
        else if (result.outcome)
          print(formatSyncOutcome(name, result.outcome, Boolean(opts.dryRun), cli.output()));
        else
          print(
            `${cli.output().paint('red', 'failed')} sync ${name}: ${(step?.message ?? result.run.status).replaceAll('\n', '\n  ')}\nlogs: tributary logs ${result.run.runId}`,
          );
        if (result.run.status !== 'succeeded') process.exitCode = 1;
        else if (result.outcome && result.outcome.rejected > 0 && !opts.dryRun)
          process.exitCode = SYNC_REJECTED_EXIT;
      },
    );
}

function formatSyncs(syncs: SyncSummary[]): string {
  if (!syncs.length) return 'no syncs: add one as syncs/<name>.yml (see docs/syncs.md)';
  const table = formatTable(
    [
      col('sync'),
      col('destination'),
      col('mode'),
      col('last_run'),
      col('status'),
      col('inserted', 'number'),
      col('updated', 'number'),
      col('deleted', 'number'),
      col('rejected', 'number'),
      col('dead_letters', 'number'),
    ],
    syncs.map((s) => ({
      sync: s.name,
      destination: `${s.destination} (${s.destinationType}) ${s.object}`,
      mode: s.mode,
      last_run: s.lastRun?.startedAt ?? 'never',
      // A turned-off sync says so rather than show a last run it will not repeat.
      status: s.disabled ? 'disabled' : (s.lastRun?.status ?? null),
      inserted: s.lastRun?.inserted ?? null,
      updated: s.lastRun?.updated ?? null,
      deleted: s.lastRun?.deleted ?? null,
      rejected: s.lastRun?.rejected ?? null,
      dead_letters: s.pendingDeadLetters,
    })),
  );
  const skipped = syncs.filter((s) => s.disabled).map((s) => `skipped ${s.name}: ${s.disabled}`);
  return [table, ...skipped].join('\n');
}

function formatHistory(runs: SyncRunRecord[]): string {
  if (!runs.length) return 'this sync has not run yet';
  return formatTable(
    [
      col('run_id'),
      col('started_at'),
      col('status'),
      col('inserted', 'number'),
      col('updated', 'number'),
      col('deleted', 'number'),
      col('rejected', 'number'),
      col('unchanged', 'number'),
      col('message'),
    ],
    runs.map((r) => ({
      run_id: r.dryRun ? `${r.runId} (dry run)` : r.runId,
      started_at: r.startedAt,
      status: r.status,
      inserted: r.inserted,
      updated: r.updated,
      deleted: r.deleted,
      rejected: r.rejected,
      unchanged: r.unchanged,
      message: r.message.split('\n')[0] ?? '',
    })),
  );
}

function registerSyncsCommand(program: Command, cli: CliContext): void {
  program
    .command('syncs')
    .description("list syncs with their last run, counts and failures, or one sync's history")
    .argument('[name]', "show this sync's runs")
    .option('-n, --limit <n>', 'how many runs of one sync', integer, 20)
    .option('--json', 'print as JSON')
    .action(async (name: string | undefined, opts: { limit: number; json?: boolean }) => {
      const enc = encodeURIComponent;
      if (name) {
        const runs = await withProject(
          cli.project(),
          'syncs',
          (ws) => syncRunHistory(ws, name, opts.limit),
          (api) => api.get<SyncRunRecord[]>(`/api/syncs/${enc(name)}/runs?limit=${opts.limit}`),
        );
        return print(opts.json ? JSON.stringify(runs, null, 2) : formatHistory(runs));
      }
      const syncs = await withProject(cli.project(), 'syncs', listSyncs, (api) =>
        api.get<SyncSummary[]>('/api/syncs'),
      );
      print(opts.json ? JSON.stringify(syncs, null, 2) : formatSyncs(syncs));
    });
}

/** Registers `sync` and `syncs`. */
export function registerSync(program: Command, cli: CliContext): void {
  registerSyncCommand(program, cli);
  registerSyncsCommand(program, cli);
}
