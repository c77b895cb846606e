/**
 * `tributary demo`: the whole story in one command. A project from the e-commerce template,
 * sample data, the full pipeline, and a short business summary with where everything is.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { isErrno, type ProgressReporter } from '../../core/index.js';
import { serveProject } from './serve.js';
import type { QueryResult } from '../../engines/index.js';
import { lakeKeys, readManifest, type TableManifest } from '../../lake/index.js';
import { openWorkspace, runPipeline, type RunResult } from '../../orchestrator/index.js';
import { CONFIG_FILE, loadProject } from '../../project/index.js';
import { integer, positiveNumber, print, type CliContext } from '../context.js';
import { formatTable, type Output } from '../output.js';
import { generateForProject, generateWithOwnCollector, type GenerateOutcome } from './generate.js';
import { initProject } from './init.js';
import { chooseAppDatabase, DEFAULT_APP_DB_URL, type AppDbChoice } from './demo-appdb.js';
import { startDemoPaymentsApi } from './demo-payments.js';
import { startDemoCrm } from './demo-crm.js';

export interface DemoOptions {
  scale?: number;
  seed?: number;
  progress: ProgressReporter;
  /** The app database to load (default TRIBUTARY_DEMO_APP_DB_URL, else the local PostgreSQL). */
  appDbUrl?: string;
  /** The schema the app tables go in (default tributary_demo_app). */
  appDbSchema?: string;
}

export interface DemoOutcome {
  dir: string;
  /** Where the app tables (customers, orders, order lines) came from. */
  appDb: AppDbChoice;
  generated: GenerateOutcome;
  run: RunResult;
  reports: Record<string, QueryResult>;
  quarantine: Record<string, Record<string, number>>;
  paths: { lake: string; warehouse: string; reports: string; state: string | undefined };
}

/** Creates (or reuses) the demo project, generates data, runs everything and gathers the summary. */
export async function runDemo(dirArg: string, options: DemoOptions): Promise<DemoOutcome> {
  const dir = resolve(dirArg);
  if (!existsSync(join(dir, CONFIG_FILE))) await initProject(dir, 'ecommerce');
  // The demo folder is the demo's own: data generated with another scale or seed replaces the
  // old results instead of being appended to them as new batches.
  const previous = join(dir, '.tributary', 'generated.json');
  // The clickstream goes through the collector (the site's Kinesis producer, replayed) when the
  // project's clickstream is a stream; a project that reads it from files gets the file.
  const streamed = (await loadProject(dir)).tables.some(
    (t) => t.table === 'clickstream' && t.kind === 'stream',
  );
  if (existsSync(previous)) {
    const gen = (await loadProject(dir)).config.generator;
    const before = JSON.parse(await readFile(previous, 'utf8')) as { scale: number; seed: number };
    const scale = options.scale ?? gen?.scale;
    const seed = options.seed ?? gen?.seed;
    if (scale !== before.scale || seed !== before.seed) {
      options.progress.log(
        `new scale or seed: starting ${relative(process.cwd(), dir) || '.'} afresh`,
      );
      await rm(join(dir, '.tributary'), { recursive: true, force: true });
    }
  }
  const genOptions = {
    progress: options.progress,
    ...(options.scale !== undefined ? { scale: options.scale } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  };
  const generated = streamed
    ? await generateWithOwnCollector(dir, {
        ...genOptions,
        // Run again with the same data: the events are in the stream log already.
        skipClickstream: await streamedBefore(previous),
      })
    : await generateForProject(dir, genOptions);
  const appDb = await chooseAppDatabase(
    dir,
    options.appDbUrl ?? process.env.TRIBUTARY_DEMO_APP_DB_URL ?? DEFAULT_APP_DB_URL,
    options.progress,
    options.appDbSchema,
  );
  const payments = await startDemoPaymentsApi(dir, options.progress);
  const crm = await startDemoCrm(dir).catch(async (err: unknown) => {
    await payments.close();
    throw err;
  });
  const ws = await openWorkspace(dir, 'demo').catch(async (err: unknown) => {
    await payments.close();
    await crm.close();
    throw err;
  });
  try {
    const run = await runPipeline(ws, { progress: options.progress, command: 'demo' });
    const reports: Record<string, QueryResult> = {};
    for (const r of ws.graph.assets.values()) {
      if (r.kind !== 'report') continue;
      const file = join(ws.project.paths.reports, `${r.name}.json`);
      if (existsSync(file))
        reports[r.name] = JSON.parse(await readFile(file, 'utf8')) as QueryResult;
    }
    const quarantine: Record<string, Record<string, number>> = {};
    for (const t of ws.project.tables) {
      const m = await readManifest<TableManifest>(ws.store, lakeKeys.processedManifest(t.table));
      const reasons: Record<string, number> = {};
      for (const q of m?.quarantine ?? [])
        for (const [k, n] of Object.entries(q.reasons)) reasons[k] = (reasons[k] ?? 0) + n;
      if (Object.keys(reasons).length) quarantine[t.table] = reasons;
    }
    const p = ws.project.paths;
    return {
      dir,
      appDb,
      generated,
      run,
      reports,
      quarantine,
      paths: { lake: p.lake, warehouse: p.warehouse, reports: p.reports, state: p.state },
    };
  } finally {
    await ws.close();
    await payments.close();
    await crm.close();
  }
}

/** What the syncs sent, for the summary. */
function syncLines(run: RunResult): string[] {
  return run.steps
    .filter((s) => s.kind === 'sync' && s.status !== 'failed')
    .map(
      (s) =>
        `${s.asset}: ${s.message ?? ''} (the CRM stand-in; \`npm run crm-api\` serves it again, \`tributary syncs\` lists the runs)`,
    );
}

/** How the clickstream came in, for the summary. */
function clickstreamLine(g: GenerateOutcome): string {
  const s = g.stream;
  const n = (x: number) => x.toLocaleString('en-US');
  if (g.clickstreamSkipped)
    return `clickstream: not sent again, the stream holds it from an earlier demo run${s ? ` (${n(s.acknowledged)} events)` : ''}`;
  if (!s) return 'clickstream read from landing/clickstream.ndjson';
  return `clickstream sent through the collector's Kinesis API (PutRecords, ${Object.keys(s.shards).length} shards): ${n(s.acknowledged)} of ${n(s.records)} events into stream ${s.stream} at ${n(s.eventsPerSecond)} events/s, then flushed into the lake by the run`;
}

/** True when the last generation (same scale and seed) delivered every clickstream event to the stream. */
async function streamedBefore(previousReport: string): Promise<boolean> {
  if (!existsSync(previousReport)) return false;
  const before = JSON.parse(await readFile(previousReport, 'utf8')) as {
    stream?: { records: number; acknowledged: number };
  };
  return before.stream !== undefined && before.stream.acknowledged === before.stream.records;
}

/** How to call the CLI again: by name when it was run through a link on PATH, else the script. */
function cliInvocation(): string {
  const script = process.argv[1];
  return !script || basename(script) === 'tributary'
    ? 'tributary'
    : `node ${relative(process.cwd(), script)}`;
}

/** The summary the demo prints: revenue, orders and AOV by month, top categories, quarantine, paths. */
function formatDemo(demo: DemoOutcome, out: Output): string {
  const rel = (p: string) => relative(process.cwd(), p) || '.';
  const g = demo.generated.report;
  const orders = g.expected.orders?.records ?? 0;
  const lines: string[] = [];
  lines.push(
    out.paint(
      'bold',
      `Tributary demo: e-commerce pipeline at scale ${g.scale} (${orders.toLocaleString('en-US')} orders generated, seed ${g.seed})`,
    ),
  );
  const section = (title: string, body: string) => lines.push('', out.paint('bold', title), body);
  const monthly = demo.reports.revenue_by_month;
  if (monthly)
    section(
      'Revenue, orders and average order value by month (revenue net of discounts, before tax)',
      formatTable(monthly.columns, monthly.rows),
    );
  const top = demo.reports.top_categories;
  if (top) section('Top categories', formatTable(top.columns, top.rows));
  const qrows = Object.entries(demo.quarantine).flatMap(([table, reasons]) =>
    Object.entries(reasons).map(([reason, rows]) => ({ table, reason, rows })),
  );
  section(
    'Rows quarantined, by reason',
    qrows.length
      ? formatTable(
          [
            { name: 'table', kind: 'string', type: '' },
            { name: 'reason', kind: 'string', type: '' },
            { name: 'rows', kind: 'number', type: '' },
          ],
          qrows,
        )
      : 'none',
  );
  const tests = demo.run.steps.filter((s) => s.kind === 'test');
  const failedTests = tests.filter((s) => s.status === 'failed').length;
  const failed = demo.run.steps.filter((s) => s.status === 'failed');
  section(
    'Pipeline',
    [
      `run ${demo.run.runId}: ${demo.run.status === 'succeeded' ? out.paint('green', 'succeeded') : out.paint('red', 'failed')} in ${(demo.run.durationMs / 1000).toFixed(1)}s, ${demo.run.steps.length} assets`,
      `checks: ${tests.length - failedTests} passed, ${failedTests} failed`,
      demo.appDb.mode === 'postgres'
        ? `app tables (customers, orders, order lines) extracted from PostgreSQL: ${demo.appDb.detail}`
        : demo.appDb.detail,
      'payments pulled from the stand-in payments API (Stripe list semantics; `npm run payments-api` serves it again)',
      clickstreamLine(demo.generated),
      ...syncLines(demo.run),
      ...failed.map((s) => `${out.paint('red', 'failed')} ${s.asset}: ${s.message ?? ''}`),
    ].join('\n'),
  );
  section(
    'Where things are',
    [
      `project    ${rel(demo.dir)}`,
      `landing    ${rel(demo.generated.outDir)}`,
      `lake       ${rel(demo.paths.lake)}  (raw/, processed/, quarantine/)`,
      `warehouse  ${rel(demo.paths.warehouse)}`,
      `reports    ${rel(demo.paths.reports)}`,
      `state      ${demo.paths.state ? rel(demo.paths.state) : 'PostgreSQL (tributary.yml state:)'}`,
    ].join('\n'),
  );
  const cmd = `${cliInvocation()} -p ${rel(demo.dir)}`;
  section(
    'Next',
    [
      `${cmd} query "select * from monthly_sales order by year, month limit 5"`,
      `${cmd} query "select _line, _column, _reason, _message from quarantine.orders limit 5"`,
      `${cmd} catalog`,
      `${cmd} ls -s +fct_sales --output name`,
      `${cmd} runs`,
      `${cmd} sync crm_contacts --dry-run`,
    ].join('\n'),
  );
  return lines.join('\n');
}

/**
 * The demo's last act: serve the dashboards and print where, with a viewer token made for it.
 * Port 3000 by default, or any free one when 3000 is taken.
 */
async function serveDemo(
  dir: string,
  port: number | undefined,
  quiet: boolean,
  print: (text: string) => void,
): Promise<void> {
  const serve = (p: number) =>
    serveProject(dir, {
      host: '127.0.0.1',
      port: p,
      resume: true,
      graceMs: 10_000,
      quiet: true,
      onListening: async (url, _ws, tokens) => {
        const { token } = await tokens.create('viewer', 'demo viewer');
        print(
          [
            '',
            `Dashboards: ${url}/#/dashboards`,
            `Viewer token (log in with it; shown once): ${token}`,
            'Ctrl-C stops the server.',
          ].join('\n'),
        );
      },
    });
  try {
    await serve(port ?? 3000);
  } catch (err) {
    if (port === undefined && isErrno(err, 'EADDRINUSE')) {
      if (!quiet) process.stderr.write('port 3000 is taken; serving on a free port\n');
      await serve(0);
    } else throw err;
  }
}

export function registerDemo(program: Command, cli: CliContext): void {
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
        const p = cli.progress();
        const demo = await runDemo(dir, {
          progress: p,
          ...(opts.scale !== undefined ? { scale: opts.scale } : {}),
          ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
        });
        p.clear();
        print(opts.json ? JSON.stringify(demo, null, 2) : formatDemo(demo, cli.output()));
        if (demo.run.status !== 'succeeded') process.exitCode = 1;
        if (!opts.serve || opts.json) return;
        await serveDemo(demo.dir, opts.port, cli.quiet(), print);
      },
    );
}
