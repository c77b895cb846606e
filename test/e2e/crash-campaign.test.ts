/**
 * Issue 12's crash campaign, a fixed sample of it in CI: real `tributary` processes are killed
 * (SIGKILL at a random moment, or a crash at a fault point) during landing, processing, model
 * building and tests/reports, in a first run, in the run of a second landing, and in a run queued
 * in `tributary serve`; each project is recovered as a user would and every zone and table is
 * compared with a clean run (test/e2e/crash-campaign/). 24 trials cover each kind of run × phase
 * × kind of kill once; `TRIBUTARY_CRASH_TRIALS` sets how many, `TRIBUTARY_CRASH_SEED` the seed,
 * `TRIBUTARY_CRASH_KEEP=1` keeps the projects of failed trials; `npm run crash-campaign --
 * --trials 60` runs a longer campaign. A failure names the trial, its seed, the phase, the
 * relation and the rows lost or doubled, and how to replay it.
 *
 * The kills are timed (a delay after a progress line, drawn from a clean run's step timings):
 * what a crash campaign is about. Nothing here waits on a timer to synchronise.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  SCENARIOS,
  formatSummary,
  formatTrial,
  runCampaign,
  trialOk,
  type CampaignReport,
  type TrialResult,
} from './crash-campaign/campaign.js';
import { PHASES } from './crash-campaign/timeline.js';

const TRIALS = Number(process.env.TRIBUTARY_CRASH_TRIALS ?? 24);
const SEED = Number(process.env.TRIBUTARY_CRASH_SEED ?? 12);

describe(`the crash campaign (${TRIALS} trials, seed ${SEED})`, () => {
  let report: CampaignReport;
  const lines: string[] = [];
  const describeFailures = (pick: (r: TrialResult) => boolean) =>
    report.results.filter(pick).map((r) => formatTrial(r, SEED));

  beforeAll(async () => {
    report = await runCampaign({
      trials: TRIALS,
      seed: SEED,
      keep: process.env.TRIBUTARY_CRASH_KEEP ? 'failed' : 'none',
      log: (line) => lines.push(line),
    });
    // The one account of the campaign in the test output: every trial, then the summary table.
    console.log(`${lines.join('\n')}\n\n${formatSummary(report)}`);
  }, 30 * 60_000);

  it('runs at least 20 trials', () => {
    expect(TRIALS).toBeGreaterThanOrEqual(20);
    expect(report.results).toHaveLength(TRIALS);
  });

  it('recovers every killed project by running again or restarting serve', () => {
    expect(describeFailures((r) => !r.recovered)).toEqual([]);
  });

  it('loses no row of any zone or table', () => {
    expect(describeFailures((r) => r.lost > 0)).toEqual([]);
  });

  it('doubles no row of any zone or table', () => {
    expect(describeFailures((r) => r.doubled > 0)).toEqual([]);
  });

  it('changes no row of any zone or table', () => {
    expect(describeFailures((r) => r.unexpected > 0)).toEqual([]);
  });

  it('leaves no *.tmp, no lock and no run "running", and raw bytes match their batch ids', () => {
    expect(describeFailures((r) => r.problems.length > 0)).toEqual([]);
    expect(report.results.filter((r) => !trialOk(r))).toEqual([]);
  });

  it('kills inside every phase, and inside every kind of run', () => {
    const count = (pick: (r: TrialResult) => boolean) => report.results.filter(pick).length;
    const missed = [
      ...PHASES.map((p) => [`phase ${p}`, count((r) => r.hit.includes(p))] as const),
      ...SCENARIOS.map(
        (s) => [`run ${s}`, count((r) => r.plan.scenario === s && r.hit.length > 0)] as const,
      ),
    ].filter(([, n]) => n === 0);
    expect(missed).toEqual([]);
  });
});
