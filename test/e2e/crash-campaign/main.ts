/**
 * The crash campaign from the command line: `npm run crash-campaign -- --trials 60 --seed 7`
 * (or `node dist/test/e2e/crash-campaign/main.js …` after `npm run build`). Prints one line per
 * trial and the summary table; exits 1 when any trial lost, doubled or left something behind.
 */
import { Command, InvalidArgumentError } from 'commander';
import { formatSummary, runCampaign } from './campaign.js';

const whole = (min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
  return n;
};

const program = new Command('crash-campaign')
  .description(
    'SIGKILL real tributary processes at random moments (landing, processing, models, reports; first run, second landing, serve), recover, and compare every zone and table with a clean run',
  )
  .option('--trials <n>', 'number of trials', whole(1), 24)
  .option('--seed <n>', 'campaign seed (the trials’ kill moments derive from it)', whole(0), 1)
  .option(
    '--trial <i...>',
    'run only these trials (0-based), to replay one',
    (v, prev: number[] = []) => [...prev, whole(0)(v)],
  )
  .option('--scale <s>', 'scale of the generated data', (v) => Number(v), 0.05)
  .option('--keep', 'keep every trial’s project (default: only those that failed)')
  .option('--json', 'print the results as JSON on stdout')
  .action(
    async (o: {
      trials: number;
      seed: number;
      trial?: number[];
      scale: number;
      keep?: boolean;
      json?: boolean;
    }) => {
      const report = await runCampaign({
        trials: o.trial ? Math.max(...o.trial) + 1 : o.trials,
        seed: o.seed,
        scale: o.scale,
        ...(o.trial ? { only: o.trial } : {}),
        ...(o.keep ? { keep: 'all' as const } : {}),
        log: (line) => process.stderr.write(`${line}\n`),
      });
      process.stderr.write(`\n${formatSummary(report)}\n`);
      if (o.json) process.stdout.write(`${JSON.stringify(report, null, 1)}\n`);
      process.exitCode = report.ok ? 0 : 1;
    },
  );

await program.parseAsync(process.argv);
