/**
 * When to kill: the crash campaign aims each kill inside a phase of a run (landing, processing,
 * model building, tests and reports), from the step timings of a clean reference run. A kill is
 * either a SIGKILL at a random moment inside a step of the phase, timed from the last progress
 * line the reference printed before that moment (so the process's start-up time does not blur
 * it), or a crash at one of the fault points of src/core/faults.ts (`crash:step:<asset>` as a
 * step starts, `crash:before-commit:<table>` between writing a batch and committing it).
 */
import type { Rng } from '../../../templates/ecommerce/generator/prng.js';
import { openCopies } from './fingerprint.js';
import { stepOfLine, type Line } from './processes.js';

export const PHASES = ['raw', 'processed', 'model', 'report'] as const;
export type Phase = (typeof PHASES)[number];

export const PHASE_NAMES: Record<Phase, string> = {
  raw: 'landing (raw)',
  processed: 'processing',
  model: 'model building',
  report: 'tests and reports',
};

/** The phase an asset kind belongs to. */
export function phaseOfKind(kind: string): Phase | undefined {
  if (kind === 'raw' || kind === 'processed') return kind;
  if (kind === 'model' || kind === 'snapshot' || kind === 'seed') return 'model';
  if (kind === 'test' || kind === 'report') return 'report';
  return undefined;
}

/** A step of a reference run: when it ran, in ms from the run's origin. */
export interface StepSpan {
  asset: string;
  kind: string;
  status: string;
  start: number;
  end: number;
}

/** A reference run as the campaign saw it: its steps and the progress lines it printed. */
export interface Timeline {
  steps: StepSpan[];
  /** Steps' progress lines: which asset, and when the line arrived (ms from the origin). */
  anchors: { asset: string; at: number }[];
}

/**
 * Reads a run's steps from a project's state and the lines its process printed. `origin` is the
 * moment everything is measured from: the spawn of a CLI run, the "run started" line of serve.
 */
export async function readTimeline(
  project: string,
  scratch: string,
  runId: string | undefined,
  lines: Line[],
  origin: { at: number; wall: number },
): Promise<Timeline> {
  const copies = await openCopies(project, scratch);
  try {
    const id =
      runId ??
      String(
        (await copies.engine.query(`SELECT run_id FROM st.runs ORDER BY started_at DESC LIMIT 1`))
          .rows[0]!.run_id,
      );
    const { rows } = await copies.engine.query(
      `SELECT asset, kind, status, started_at, finished_at FROM st.steps WHERE run_id = $1 ORDER BY started_at`,
      [id],
    );
    const steps = rows.map((r) => ({
      asset: String(r.asset),
      kind: String(r.kind),
      status: String(r.status),
      start: Date.parse(String(r.started_at)) - origin.wall,
      end: Date.parse(String(r.finished_at ?? r.started_at)) - origin.wall,
    }));
    const anchors = lines
      .filter((l) => l.at >= origin.at)
      .flatMap((l) => {
        const step = stepOfLine(l.text);
        return step ? [{ asset: step.asset, at: l.at - origin.at }] : [];
      });
    return { steps, anchors };
  } finally {
    await copies.close();
  }
}

/** A kill: a SIGKILL at a moment, or a crash at a fault point. */
export type KillPlan =
  | {
      mechanism: 'timer';
      /** Where in the reference the kill aims: this step, this many ms after the origin. */
      step: string;
      target: number;
      /** The progress line of this step is the clock the delay runs from (none: the origin). */
      anchor: string | undefined;
      delay: number;
    }
  | { mechanism: 'fault'; point: string };

/** Describes a kill plan in a few words. */
export function describeKill(plan: KillPlan): string {
  if (plan.mechanism === 'fault') return `TRIBUTARY_FAULT=crash:${plan.point}`;
  const from = plan.anchor ? `the line of ${plan.anchor}` : 'the start';
  return `SIGKILL ${plan.delay.toFixed(1)} ms after ${from} (inside ${plan.step})`;
}

const inPhase = (phase: Phase) => (s: StepSpan) => phaseOfKind(s.kind) === phase;

/** A random moment inside a step of `phase` (long steps are likelier, as time spent is). */
export function chooseMoment(timeline: Timeline, phase: Phase, rng: Rng): KillPlan {
  const spans = timeline.steps.filter(inPhase(phase)).filter((s) => s.end > s.start);
  if (!spans.length) throw new Error(`the reference run has no ${phase} step to aim at`);
  const total = spans.reduce((n, s) => n + (s.end - s.start), 0);
  let pick = rng.float() * total;
  let span = spans[0]!;
  for (const s of spans) {
    span = s;
    if (pick < s.end - s.start) break;
    pick -= s.end - s.start;
  }
  const target = span.start + Math.min(pick, span.end - span.start);
  const before = timeline.anchors.filter((a) => a.at <= target - 1);
  const anchor = before.at(-1);
  return {
    mechanism: 'timer',
    step: span.asset,
    target,
    anchor: anchor?.asset,
    delay: target - (anchor?.at ?? 0),
  };
}

/** A fault point inside `phase`: where a step of it starts, or (processing) before a commit. */
export function chooseFaultPoint(timeline: Timeline, phase: Phase, rng: Rng): KillPlan {
  const steps = timeline.steps.filter(inPhase(phase));
  // Steps that did work in the reference are the interesting ones; up-to-date ones do little.
  const working = steps.filter((s) => s.status === 'succeeded');
  const pool = working.length ? working : steps;
  const points = pool.map((s) => `step:${s.asset}`);
  if (phase === 'processed')
    for (const s of working) points.push(`before-commit:${s.asset.slice('processed:'.length)}`);
  if (!points.length) throw new Error(`the reference run has no ${phase} step to crash in`);
  return { mechanism: 'fault', point: points[rng.int(points.length)]! };
}

/** What a killed run's state says was happening when it died. */
export interface KillObservation {
  /** The killed run's status in the state ('running' when it died mid-run; undefined: never recorded). */
  runStatus: string | undefined;
  /** Steps recorded as running (the journal lags a step's start by up to 50 ms). */
  running: { asset: string; kind: string }[];
  /** Steps recorded as finished. */
  finished: string[];
}

/** Reads a killed project's state: the runs left "running" and their running steps. */
export async function observeKill(
  project: string,
  scratch: string,
  runsBefore: number,
): Promise<KillObservation> {
  const copies = await openCopies(project, scratch);
  try {
    const none = { runStatus: undefined, running: [], finished: [] };
    if (!copies.hasState) return none;
    const runs = await copies.engine.query(
      `SELECT run_id, status FROM st.runs ORDER BY started_at DESC`,
    );
    if (runs.rows.length <= runsBefore) return none;
    const runId = runs.rows[0]!.run_id;
    const { rows } = await copies.engine.query(
      `SELECT asset, kind, status FROM st.steps WHERE run_id = $1`,
      [runId],
    );
    return {
      runStatus: String(runs.rows[0]!.status),
      running: rows
        .filter((r) => r.status === 'running')
        .map((r) => ({ asset: String(r.asset), kind: String(r.kind) })),
      finished: rows.filter((r) => r.status !== 'running').map((r) => String(r.asset)),
    };
  } finally {
    await copies.close();
  }
}
