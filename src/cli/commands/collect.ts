/**
 * `tributary collect`: the collector on its own. One process opens the project (its lock: it is
 * the stream log's and the raw zone's writer while it runs), creates the streams tributary.yml
 * lists, serves the producer API (Kinesis, Firehose, POST /api/events) on stream.collector's
 * address and flushes micro-batches into the raw zone, until SIGTERM or Ctrl-C. Processing runs
 * with the pipeline (`tributary run` after it stops, or `tributary serve`, which collects too and
 * triggers processing on each batch). On shared state it listens for revocations as serve does, so
 * a producer key revoked anywhere is refused at once. Quiet by default: it prints the URL producers send to, and errors.
 */
import type { Command } from 'commander';
import { openWorkspace } from '../../orchestrator/index.js';
import { TokenStore } from '../../serve/index.js';
import { streamTables, type Collecting } from '../../stream/index.js';
import { integer, print, type CliContext } from '../context.js';
import { collectFor } from './streams.js';

interface CollectOptions {
  host?: string;
  port?: number;
  json?: boolean;
  verbose?: boolean;
}

export function registerCollect(program: Command, cli: CliContext): void {
  program
    .command('collect')
    .description(
      'run the stream collector (Kinesis/Firehose API, POST /api/events) and flush its streams into the lake, until stopped',
    )
    .option('--host <host>', 'address to listen on (default stream.collector.host, 127.0.0.1)')
    .option(
      '--port <port>',
      'port to listen on (default stream.collector.port, 4567; 0: any)',
      integer,
    )
    .option('--json', 'print where it listens as one JSON line')
    .option('--verbose', 'log each batch landed and the streams collected, on stderr')
    .action(async (opts: CollectOptions) => collect(cli, opts));
}

async function collect(cli: CliContext, opts: CollectOptions): Promise<void> {
  const ws = await openWorkspace(cli.project(), 'collect');
  // Quiet by default: the URL on stdout, errors (a failed flush, a retention gap) on stderr.
  const quiet = cli.quiet() || opts.verbose !== true;
  const log = (line: string) => {
    if (!quiet || line.startsWith('error'))
      process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  };
  let collecting: Collecting | undefined;
  let tokens: TokenStore | undefined;
  // Between flushes nothing else may keep the event loop (and so the process) alive.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    tokens = await TokenStore.open(ws.state.engine);
    // Shared state: a producer key revoked by any process (a serve replica, `tributary token
    // revoke`) is refused here from the notice on, not up to the credential cache's 5 s later.
    if (ws.shared) await tokens.watchRevocations();
    collecting = await collectFor(ws, {
      tokens,
      log,
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      onBatch: (table, result) =>
        log(
          `${table.id}: landed ${result.records} record(s)${result.rejected ? `, ${result.rejected} for quarantine` : ''}`,
        ),
    });
    const streams = await collecting.runtime.log.listStreams();
    const tables = streamTables(ws.project).map((t) => t.id);
    if (opts.json)
      print(JSON.stringify({ url: collecting.url, pid: process.pid, streams, tables }));
    else print(collecting.url);
    log(
      `collecting ${streams.length} stream(s) (${streams.join(', ') || 'none yet'}) into ${tables.length} table(s) (pid ${process.pid})`,
    );
    await new Promise<void>((resolve) => {
      const onSignal = (signal: NodeJS.Signals) => {
        log(`${signal}: finishing requests in flight and the batch being flushed, then stopping`);
        resolve();
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
    });
  } finally {
    clearInterval(keepAlive);
    await collecting?.stop();
    await tokens?.close();
    await ws.close();
  }
}
