/** `tributary generate`: the template's deterministic sample data, written to the landing folder. */
import type { Command } from 'commander';
import { mkdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { isErrno, writeFileAtomic, type ProgressReporter } from '../../core/index.js';
import { loadProject } from '../../project/index.js';
import {
  generateEcommerce,
  type GenerateReport,
} from '../../../templates/ecommerce/generator/index.js';
import { TributaryError } from '../../core/index.js';
import { column, integer, positiveNumber, print, type CliContext } from '../context.js';
import { formatTable } from '../output.js';
import {
  KinesisReplay,
  connectReplay,
  withOwnCollector,
  type StreamReplayOptions,
  type StreamReplaySummary,
} from './generate-stream.js';

export interface GenerateOptions {
  scale?: number;
  seed?: number;
  progress: ProgressReporter;
  /** Replay the clickstream into the collector instead of writing clickstream.ndjson. */
  stream?: StreamReplayOptions;
  /** Neither write nor send the clickstream (it was streamed before: the demo run again). */
  skipClickstream?: boolean;
}

export interface GenerateOutcome {
  outDir: string;
  reportFile: string;
  report: GenerateReport;
  /** Set with `stream`: what the replay into the collector did (with skipClickstream: the last one). */
  stream?: StreamReplaySummary;
  /** True when the clickstream was neither written nor sent (skipClickstream). */
  clickstreamSkipped?: boolean;
}

/** Writes the sample data a project's `generator:` block describes; flags override it. */
export async function generateForProject(
  projectDir: string,
  options: GenerateOptions,
): Promise<GenerateOutcome> {
  const project = await loadProject(projectDir);
  const gen = project.config.generator;
  if (!gen) {
    throw new TributaryError('this project has no generator: block in tributary.yml', {
      code: 'CONFIG',
      hint: 'add `generator: { template: ecommerce }` or drop your own files into the landing folder',
    });
  }
  const scale = options.scale ?? gen.scale;
  const seed = options.seed ?? gen.seed;
  if (!(scale > 0) || !Number.isFinite(scale))
    throw new TributaryError(`--scale must be a positive number, not ${scale}`, { code: 'USAGE' });
  const outDir = resolve(project.dir, gen.out);
  await mkdir(outDir, { recursive: true });
  // Connect first: a missing key or collector fails before any file is written.
  const target =
    options.stream && !options.skipClickstream
      ? await connectReplay(project, options.stream)
      : undefined;
  let replay: KinesisReplay | undefined;
  try {
    const report = await generateEcommerce({
      outDir,
      scale,
      seed,
      onProgress: (done, total, label) =>
        options.progress.update({ label: `generate ${label}`, done, total, unit: 'rows' }),
      ...(options.skipClickstream && { clickstreamSink: () => DISCARD }),
      ...(target && {
        clickstreamSink: (events: number) =>
          (replay = new KinesisReplay(target.client, target.stream, target.endpoint, {
            total: events,
            progress: options.progress,
            label: `stream ${target.stream}`,
            ...(options.stream?.rate !== undefined && { rate: options.stream.rate }),
          })),
      }),
    });
    const reportFile = join(project.paths.work, 'generated.json');
    // Skipped: the events the stream holds are still those of the last replay, which stays on record.
    const stream =
      replay?.result() ?? (options.skipClickstream ? await lastReplay(reportFile) : undefined);
    await writeFileAtomic(reportFile, JSON.stringify({ ...report, stream }, null, 1));
    return {
      outDir,
      reportFile,
      report,
      ...(stream && { stream }),
      ...(options.skipClickstream && { clickstreamSkipped: true }),
    };
  } finally {
    target?.client.destroy();
  }
}

/** The replay summary of the last generation, if it streamed. */
async function lastReplay(reportFile: string): Promise<StreamReplaySummary | undefined> {
  try {
    return (JSON.parse(await readFile(reportFile, 'utf8')) as { stream?: StreamReplaySummary })
      .stream;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

/** A sink that drops the clickstream lines. */
const DISCARD = {
  add: () => false,
  flush: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

/**
 * Generates with the clickstream replayed into a collector this process runs for the call
 * (`withOwnCollector`): the demo's and tests' way to stream when no `tributary collect` runs.
 */
export async function generateWithOwnCollector(
  projectDir: string,
  options: Omit<GenerateOptions, 'stream'> & { rate?: number },
): Promise<GenerateOutcome> {
  const { rate, ...rest } = options;
  if (options.skipClickstream) return generateForProject(projectDir, rest);
  return withOwnCollector(await loadProject(projectDir), (stream) =>
    generateForProject(projectDir, {
      ...rest,
      stream: { ...stream, ...(rate !== undefined && { rate }) },
    }),
  );
}

/** True when the project's clickstream table is fed by a stream. */
async function clickstreamIsStreamed(projectDir: string): Promise<boolean> {
  const project = await loadProject(projectDir);
  return project.tables.some((t) => t.table === 'clickstream' && t.kind === 'stream');
}

/** The replay's summary lines. */
function formatReplay(s: StreamReplaySummary): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = [
    `streamed ${n(s.acknowledged)} of ${n(s.records)} clickstream events into ${s.stream} at ${s.endpoint} in ${s.seconds.toFixed(1)}s (${n(s.eventsPerSecond)} events/s${s.rate ? `, rate ${n(s.rate)}/s asked` : ''}); ${n(s.requests)} PutRecords requests, ${n(s.retried)} records retried`,
    `per shard: ${Object.entries(s.shards)
      .sort()
      .map(([shard, count]) => `${shard} ${n(count)}`)
      .join(', ')}`,
  ];
  const errors = Object.entries(s.errors);
  if (errors.length)
    lines.push(`errors seen: ${errors.map(([code, count]) => `${code} ${n(count)}`).join(', ')}`);
  if (s.failed)
    lines.push(`${n(s.failed)} events were still refused after every retry and are not delivered`);
  return lines.join('\n');
}

export function registerGenerate(program: Command, cli: CliContext): void {
  program
    .command('generate')
    .description("write the template's deterministic sample data into the landing folder")
    .option('--scale <factor>', 'scale factor: 1 = 100k orders, 250k order lines', positiveNumber)
    .option('--seed <n>', 'random seed (same seed, same bytes)', integer)
    .option(
      '--stream',
      'replay the clickstream into the collector with the Kinesis SDK instead of writing clickstream.ndjson',
    )
    .option(
      '--rate <events>',
      'with --stream: events per second (default: as fast as acknowledged)',
      positiveNumber,
    )
    .option(
      '--endpoint <url>',
      'with --stream: the collector URL (default: stream.collector of tributary.yml)',
    )
    .option('--access-key-id <id>', 'with --stream: producer key id (default AWS_ACCESS_KEY_ID)')
    .option(
      '--secret-access-key <secret>',
      'with --stream: its secret (default AWS_SECRET_ACCESS_KEY; the environment keeps it out of ps)',
    )
    .option('--json', 'print the generation report as JSON')
    .action(async (opts: GenerateFlags) => {
      const streamOnly = (['rate', 'endpoint', 'accessKeyId', 'secretAccessKey'] as const).filter(
        (k) => opts[k] !== undefined,
      );
      if (!opts.stream && streamOnly.length)
        throw new TributaryError(
          `--${streamOnly[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies only with --stream`,
          {
            code: 'USAGE',
          },
        );
      const p = cli.progress();
      const outcome = await generateForProject(cli.project(), {
        progress: p,
        ...(opts.scale !== undefined && { scale: opts.scale }),
        ...(opts.seed !== undefined && { seed: opts.seed }),
        ...(opts.stream && { stream: replayOptions(opts) }),
      });
      p.clear();
      if (opts.stream && outcome.stream?.failed) process.exitCode = 1;
      if (opts.json)
        return print(
          JSON.stringify(
            outcome.stream ? { ...outcome.report, stream: outcome.stream } : outcome.report,
            null,
            2,
          ),
        );
      const files = outcome.report.files.map((f) => ({
        file: f.name,
        table: f.table,
        records: f.records,
        bytes: f.bytes,
      }));
      print(
        `${formatTable(
          [column('file'), column('table'), column('records', 'number'), column('bytes', 'number')],
          files,
        )}\nwrote ${relative(process.cwd(), outcome.outDir)}; defects injected and expected results: ${relative(process.cwd(), outcome.reportFile)}${outcome.stream ? `\n${formatReplay(outcome.stream)}` : (await clickstreamIsStreamed(cli.project())) ? '\nnote: this project takes its clickstream from a stream, not from clickstream.ndjson; send the events with `tributary generate --stream` (a running `tributary collect` or `serve`, and a key from `tributary token create --role producer`)' : ''}`,
      );
    });
}

interface GenerateFlags {
  scale?: number;
  seed?: number;
  json?: boolean;
  stream?: boolean;
  rate?: number;
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** The --stream flags as replay options. */
function replayOptions(opts: GenerateFlags): StreamReplayOptions {
  return {
    ...(opts.rate !== undefined && { rate: opts.rate }),
    ...(opts.endpoint !== undefined && { endpoint: opts.endpoint }),
    ...(opts.accessKeyId !== undefined && { accessKeyId: opts.accessKeyId }),
    ...(opts.secretAccessKey !== undefined && { secretAccessKey: opts.secretAccessKey }),
  };
}
