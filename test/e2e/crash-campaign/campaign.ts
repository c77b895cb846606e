/**
 * The crash campaign (issue 12): real `tributary` processes are killed at random moments across
 * landing, processing, model building and reports, in a first run, in a run of a second landing
 * (incremental), and in a run queued in `tributary serve` (serve itself is killed); each project
 * is then recovered as a user would (run again; start serve again, which resumes the run) and
 * every zone and table is compared with a clean run's: no row may be lost or doubled, no `*.tmp`
 * may be left and no run may stay "running". Each trial draws its moment from a PRNG seeded by
 * the campaign seed and its number, so `--seed S --trial N` replays it.
 */
import { cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { Rng } from '../../../templates/ecommerce/generator/prng.js';
import {
  compareWithReference,
  exists,
  saveReference,
  strayTempFiles,
  unlistedLakeFiles,
  type RelationDiff,
} from './fingerprint.js';
import { prepareDeliveries, type Deliveries } from './landing.js';
import {
  escapeRe,
  killLeftovers,
  runTributary,
  spawnTributary,
  stepOfLine,
  type Line,
  type Proc,
} from './processes.js';
import {
  PHASES,
  chooseFaultPoint,
  chooseMoment,
  describeKill,
  observeKill,
  phaseOfKind,
  readTimeline,
  type KillObservation,
  type KillPlan,
  type Phase,
  type Timeline,
} from './timeline.js';

export const SCENARIOS = ['initial', 'incremental', 'serve'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const SCENARIO_NAMES: Record<Scenario, string> = {
  initial: 'first run',
  incremental: 'run of a second landing',
  serve: 'run queued in serve',
};

export type Mechanism = 'timer' | 'fault';

export interface CampaignOptions {
  trials: number;
  seed: number;
  /** Scale of the generated data (default 0.05: about 5,000 orders). */
  scale?: number;
  /** Run only these trial numbers (0-based) of the campaign. */
  only?: number[];
  /** Whose projects to keep for a look: every trial's, failed ones' (the default), or none. */
  keep?: 'all' | 'failed' | 'none';
  log?: (line: string) => void;
}

export interface TrialPlan {
  index: number;
  scenario: Scenario;
  phase: Phase;
  mechanism: Mechanism;
}

export interface TrialResult {
  plan: TrialPlan;
  kill: string;
  /** The phases the kill landed in (empty: none of them, see `hitNote`). */
  hit: Phase[];
  /** How the phase was known: running steps in the state, the fault point, or what came next. */
  hitNote: string;
  /** Whether the process died from the kill (false: it finished first). */
  killed: boolean;
  recovered: boolean;
  lost: number;
  doubled: number;
  unexpected: number;
  diffs: RelationDiff[];
  /** Everything wrong besides rows: failed recovery, *.tmp left, a run left running… */
  problems: string[];
  /** Lake files no manifest lists (invisible leftovers of the killed process). */
  unlisted: number;
  ms: number;
  /** Where the trial's time went (ms): copy, killed run, observe, recover, compare. */
  timings: Record<string, number>;
  project: string;
  /** Whether the trial's project was kept (at `project`) for a look. */
  kept: boolean;
}

export interface CampaignReport {
  seed: number;
  scale: number;
  workDir: string;
  setupMs: number;
  totalMs: number;
  results: TrialResult[];
  /** Whether every trial recovered with nothing lost, doubled or left behind. */
  ok: boolean;
}

/** The data seed of the generated landing files (the campaign seed drives only the kills). */
const DATA_SEED = 7;
const DEFAULT_SCALE = 0.05;

/**
 * The trial plan: scenario × phase × mechanism, ordered so that any 12 consecutive trials cover
 * every scenario and phase, and any 24 every combination with both kinds of kill.
 */
export function planTrial(index: number): TrialPlan {
  const k = index % 24;
  const combo = k % 12;
  const scenario = SCENARIOS[combo % 3]!;
  const phase = PHASES[Math.floor(combo / 3)]!;
  const mechanism: Mechanism = k < 12 === (combo % 2 === 0) ? 'timer' : 'fault';
  return { index, scenario, phase, mechanism };
}

interface Setup {
  workDir: string;
  deliveries: Deliveries;
  /** The project after a clean first run, which every incremental trial starts from. */
  afterFirstRun: string;
  /** Each scenario's clean run: its saved sums and rows (`<base>.json`, `.parquet`), its timings. */
  references: Record<Scenario, { base: string; timeline: Timeline }>;
}

/**
 * Where every run of the campaign happens, one at a time. One path for all: the warehouse's
 * lake views name files by absolute path, so a project copied after its first run must sit
 * where that run was for its views to read its own lake.
 */
const projectOf = (workDir: string) => join(workDir, 'project', 'shop');

/** Runs the campaign and returns every trial's result (it never throws for a failed trial). */
export async function runCampaign(opts: CampaignOptions): Promise<CampaignReport> {
  const log = opts.log ?? (() => undefined);
  const scale = opts.scale ?? DEFAULT_SCALE;
  const started = performance.now();
  const workDir = await mkdtemp(join(tmpdir(), 'trib-crash-'));
  log(`crash campaign: seed ${opts.seed}, ${opts.trials} trial(s), scale ${scale}, in ${workDir}`);
  const setup = await prepare(workDir, scale, log).catch((err: unknown) => {
    killLeftovers(); // a clean run that failed may leave its server running
    throw err;
  });
  const setupMs = performance.now() - started;
  log(`set up in ${(setupMs / 1000).toFixed(1)} s (data, clean reference runs, control)`);
  const results: TrialResult[] = [];
  const indexes = opts.only ?? Array.from({ length: opts.trials }, (_, i) => i);
  for (const index of indexes) {
    const result = await runTrial(setup, planTrial(index), opts.seed);
    results.push(result);
    if (opts.keep === 'all' || (!trialOk(result) && opts.keep !== 'none')) {
      const kept = join(workDir, `trial-${index}`);
      await rename(join(result.project, '..'), kept);
      result.project = join(kept, 'shop');
      result.kept = true;
    }
    log(formatTrial(result, opts.seed, `${results.length}/${indexes.length}`));
  }
  const ok = results.every(trialOk);
  if (opts.keep === 'none' || (ok && opts.keep !== 'all'))
    await rm(workDir, { recursive: true, force: true });
  else await rm(join(workDir, 'project'), { recursive: true, force: true });
  return {
    seed: opts.seed,
    scale,
    workDir,
    setupMs,
    totalMs: performance.now() - started,
    results,
    ok,
  };
}

/** Whether a trial recovered with every row exactly once and nothing left behind. */
export function trialOk(r: TrialResult): boolean {
  return r.recovered && r.diffs.length === 0 && r.problems.length === 0;
}

/**
 * Data, and the clean reference run of each scenario: the first run (kept, as the start of
 * every incremental trial), the run of the second landing after it, and a run queued in serve,
 * which is also the control: it must equal the first run row for row.
 */
async function prepare(workDir: string, scale: number, log: (l: string) => void): Promise<Setup> {
  const deliveries = await prepareDeliveries(join(workDir, 'base'), scale, DATA_SEED);
  log(
    `data: e-commerce scale ${scale} seed ${DATA_SEED}; second landing: ${deliveries.secondFiles.join(', ')}`,
  );
  const scratch = join(workDir, 'scratch');
  const setup: Setup = {
    workDir,
    deliveries,
    afterFirstRun: join(workDir, 'after-first-run'),
    references: {} as Setup['references'],
  };
  for (const scenario of SCENARIOS) {
    const project = await freshProject(setup, scenario);
    const run = await startScenario(project, scenario, {});
    const origin = await run.origin;
    const end = await run.finished();
    if (!end.ok) throw new Error(`the clean ${scenario} run failed:\n${run.proc.output()}`);
    await run.stop();
    const timeline = await readTimeline(project, scratch, origin.runId, run.proc.lines, origin);
    const span =
      Math.max(...timeline.steps.map((s) => s.end)) -
      Math.min(...timeline.steps.map((s) => s.start));
    if (scenario === 'serve') {
      // Control: serve's clean run must equal the CLI's, row for row, or the comparison
      // (or the pipeline) is not deterministic and a trial's differences would mean nothing.
      const { diffs, problems } = await compareWithReference(
        project,
        scratch,
        setup.references.initial.base,
      );
      if (diffs.length || problems.length)
        throw new Error(
          `control failed: two clean runs differ, so the comparison cannot judge a trial:\n${formatDiffs(diffs, problems)}`,
        );
      setup.references.serve = { base: setup.references.initial.base, timeline };
      log(
        `reference serve: ${timeline.steps.length} steps in ${span.toFixed(0)} ms; equal to the first run's (control)`,
      );
      continue;
    }
    const base = join(workDir, `reference-${scenario}`);
    const saved = await saveReference(project, scratch, base);
    if (saved.problems.length)
      throw new Error(`the clean ${scenario} run: ${saved.problems.join('; ')}`);
    setup.references[scenario] = { base, timeline };
    if (scenario === 'initial') await cp(project, setup.afterFirstRun, { recursive: true });
    log(
      `reference ${scenario}: ${timeline.steps.length} steps in ${span.toFixed(0)} ms; ${saved.relations} relations, ${saved.rows} rows`,
    );
  }
  return setup;
}

/**
 * A fresh project of a scenario: the template with the first landing; for the incremental
 * scenario, that project after a clean first run with the second landing dropped in. Serve's
 * projects have no file-arrival trigger, so the run killed is the one `tributary run` queued
 * (the trigger would otherwise start its own run on every landing file as serve starts).
 */
async function freshProject(setup: Setup, scenario: Scenario): Promise<string> {
  const project = projectOf(setup.workDir);
  await rm(join(project, '..'), { recursive: true, force: true });
  await mkdir(join(project, '..'), { recursive: true });
  const d = setup.deliveries;
  if (scenario === 'incremental') {
    await cp(setup.afterFirstRun, project, { recursive: true });
    for (const f of d.secondFiles) await cp(join(d.second, f), join(project, 'landing', f));
    return project;
  }
  await cp(d.project, project, { recursive: true });
  if (scenario === 'serve') {
    const file = join(project, 'tributary.yml');
    const doc = parseDocument(await readFile(file, 'utf8'));
    doc.delete('triggers');
    await writeFile(file, String(doc));
  }
  return project;
}

/** A scenario's run in progress: the process to kill, and the moment its run started. */
interface ScenarioRun {
  proc: Proc;
  /** Where timings start: the spawn of a CLI run; the "run started" line of a queued run. */
  origin: Promise<{ at: number; wall: number; runId?: string }>;
  /** Runs recorded in the project's state before this one. */
  runsBefore: number;
  /** Resolves when the run ended by itself (ok) or the process died. */
  finished(): Promise<{ ok: boolean }>;
  /** Ends the process once the run is over (serve keeps running). */
  stop(): Promise<void>;
}

/** Starts the run a scenario kills. */
async function startScenario(
  project: string,
  scenario: Scenario,
  env: Record<string, string>,
): Promise<ScenarioRun> {
  const runsBefore = scenario === 'incremental' ? 1 : 0;
  if (scenario !== 'serve') {
    const proc = spawnTributary(project, ['--verbose', 'run'], env);
    return {
      proc,
      origin: Promise.resolve({ at: 0, wall: proc.spawnedWall }),
      runsBefore,
      finished: async () => ({ ok: (await proc.exited).code === 0 }),
      stop: async () => undefined,
    };
  }
  const proc = spawnTributary(project, ['serve', '--port', '0'], env);
  await proc.waitFor(/serving \S+ at http/, 60_000);
  // `tributary run` finds the server holding the project and queues the run there.
  const queued = await runTributary(project, ['run']);
  if (!/queued on the server/.test(queued.output()))
    throw new Error(`tributary run did not queue on serve:\n${queued.output()}`);
  const origin = proc.waitFor(/api: run (run_\w+) started/, 60_000).then((line) => ({
    at: line.at,
    wall: line.wall,
    runId: /(run_\w+)/.exec(line.text)![1]!,
  }));
  origin.catch(() => undefined);
  const finished = async () => {
    const end = await Promise.race([
      proc.waitFor(/api: run run_\w+ (succeeded|failed|cancelled)/, 300_000).then((l) => l.text),
      proc.exited.then(() => undefined),
    ]).catch(() => undefined);
    return { ok: end !== undefined && /succeeded/.test(end) };
  };
  return { proc, origin, runsBefore, finished, stop: () => stopServe(proc) };
}

/** SIGTERM to serve: it drains and must exit 0. */
async function stopServe(proc: Proc): Promise<void> {
  proc.child.kill('SIGTERM');
  const exit = await proc.exited;
  if (exit.code !== 0)
    throw new Error(`serve exited ${exit.code ?? exit.signal} on SIGTERM:\n${proc.output()}`);
}

/** Arms a timed SIGKILL on a run; resolves whether the process was killed by it. */
function armTimer(
  run: ScenarioRun,
  plan: Extract<KillPlan, { mechanism: 'timer' }>,
): Promise<boolean> {
  const { proc } = run;
  return new Promise<boolean>((resolve) => {
    let fired = false;
    const fire = (ms: number) => {
      if (fired) return;
      fired = true;
      setTimeout(() => resolve(proc.kill() !== undefined), Math.max(0, ms));
    };
    void run.origin.then(
      (origin) => {
        if (!plan.anchor)
          return fire(plan.delay - (performance.now() - proc.spawnedAt - origin.at));
        const anchor = new RegExp(`\\s${escapeRe(plan.anchor)} \\(\\d`);
        const seen = (l: Line) => l.at >= origin.at && anchor.test(l.text);
        const early = proc.lines.find(seen);
        if (early) return fire(plan.delay - (performance.now() - proc.spawnedAt - early.at));
        proc.onLine((l) => {
          if (seen(l)) fire(plan.delay);
        });
      },
      () => resolve(false),
    );
    // A run that ends before the kill (its steps were faster than the reference's) is killed
    // then: an idle server, or nothing for a CLI run that has exited.
    void run.finished().then(() => {
      if (!fired) {
        fired = true;
        resolve(proc.kill() !== undefined);
      }
    });
  });
}

/** One trial: a fresh project, a kill, a recovery, and the comparison with the clean run. */
async function runTrial(setup: Setup, plan: TrialPlan, seed: number): Promise<TrialResult> {
  const started = performance.now();
  const rng = new Rng(seed, `crash-trial-${plan.index}`);
  const reference = setup.references[plan.scenario];
  const kill =
    plan.mechanism === 'timer'
      ? chooseMoment(reference.timeline, plan.phase, rng)
      : chooseFaultPoint(reference.timeline, plan.phase, rng);
  const project = await freshProject(setup, plan.scenario);
  const scratch = join(setup.workDir, 'scratch');
  let mark = performance.now();
  const timings: Record<string, number> = {};
  const lap = (name: string) => {
    timings[name] = Math.round(performance.now() - mark);
    mark = performance.now();
  };
  lap('copy');
  const result: TrialResult = {
    plan,
    kill: describeKill(kill),
    hit: [],
    hitNote: '',
    killed: false,
    recovered: false,
    lost: 0,
    doubled: 0,
    unexpected: 0,
    diffs: [],
    problems: [],
    unlisted: 0,
    ms: 0,
    timings,
    project,
    kept: false,
  };
  try {
    const env: Record<string, string> =
      kill.mechanism === 'fault' ? { TRIBUTARY_FAULT: `crash:${kill.point}` } : {};
    const run = await startScenario(project, plan.scenario, env);
    if (kill.mechanism === 'timer') result.killed = await armTimer(run, kill);
    else {
      const ended = await run.finished();
      if (ended.ok)
        result.killed = run.proc.kill() !== undefined; // serve idles after the run
      else result.killed = (await run.proc.exited).code === 137;
    }
    await run.proc.exited;
    lap('killed run');
    const seen = await observeKill(project, scratch, run.runsBefore);
    Object.assign(result, classifyHit(kill, seen, run.proc, reference.timeline, result.killed));
    lap('observe');
    result.recovered = await recover(project, plan.scenario, seen, result.problems);
    lap('recover');
    if (result.recovered) await check(project, scratch, reference.base, result);
    lap('compare');
  } catch (err) {
    result.problems.push(
      `the trial itself failed: ${err instanceof Error ? err.stack : String(err)}`,
    );
  }
  // A trial that failed half-way may leave its server running on the project.
  const left = killLeftovers();
  if (left) result.problems.push(`${left} process(es) of the trial were still running; killed`);
  result.ms = performance.now() - started;
  return result;
}

/** Which phases the kill landed in, from the state, the fault point, or the progress lines. */
function classifyHit(
  kill: KillPlan,
  seen: KillObservation,
  proc: Proc,
  timeline: Timeline,
  killed: boolean,
): { hit: Phase[]; hitNote: string } {
  const phases = (kinds: string[]) => PHASES.filter((p) => kinds.some((k) => phaseOfKind(k) === p));
  if (!killed) return { hit: [], hitNote: 'the run finished before the kill' };
  if (kill.mechanism === 'fault') {
    const crashed = proc.output().includes(`crashing at ${kill.point}`);
    const asset = kill.point.startsWith('step:')
      ? kill.point.slice(5)
      : `processed:${kill.point.split(':')[1]}`;
    const kind = asset.split(':')[0]!;
    return crashed
      ? { hit: phases([kind]), hitNote: `crashed at ${kill.point}` }
      : { hit: [], hitNote: `killed after the run (${kill.point} was not reached)` };
  }
  if (!seen.runStatus) return { hit: [], hitNote: 'killed before the run was recorded (start-up)' };
  if (seen.runStatus !== 'running')
    return { hit: [], hitNote: `the run had ${seen.runStatus} when serve was killed` };
  if (seen.running.length)
    return {
      hit: phases(seen.running.map((s) => s.kind)),
      hitNote: `running: ${seen.running.map((s) => s.asset).join(', ')}`,
    };
  // Nothing recorded as running (the journal lags by up to 50 ms): the next step in the
  // reference's order that had not printed its line is what was starting or running.
  const printed = new Set(proc.lines.map((l) => stepOfLine(l.text)?.asset).filter(Boolean));
  const next = timeline.steps.find((s) => !printed.has(s.asset));
  if (!next) return { hit: [], hitNote: 'killed after every step (finishing the run)' };
  return { hit: phases([next.kind]), hitNote: `between lines; next ${next.asset} (inferred)` };
}

/**
 * Recovers as a user would: `tributary run` again; or start serve again, which resumes the run
 * the killed server left running (and when it had not recorded one, `tributary run` queued).
 */
async function recover(
  project: string,
  scenario: Scenario,
  seen: KillObservation,
  problems: string[],
): Promise<boolean> {
  try {
    if (scenario !== 'serve') {
      await runTributary(project, ['run']);
      return true;
    }
    const serve = spawnTributary(project, ['serve', '--port', '0']);
    try {
      await serve.waitFor(/serving \S+ at http/, 60_000);
      if (seen.runStatus === 'running') {
        const end = await serve.waitFor(/recovery: run run_\w+ (succeeded|failed|cancelled)/);
        if (!/succeeded/.test(end.text)) problems.push(`serve's resumed run: ${end.text}`);
      } else {
        await runTributary(project, ['run']);
        const end = await serve.waitFor(/api: run run_\w+ (succeeded|failed|cancelled)/);
        if (!/succeeded/.test(end.text))
          problems.push(`the run queued after the kill: ${end.text}`);
      }
    } finally {
      await stopServe(serve);
    }
    return problems.length === 0;
  } catch (err) {
    problems.push(`recovery failed: ${err instanceof Error ? err.message : String(err)}`);
    return false;
  }
}

/** Compares the recovered project with the clean run and checks what must not be left behind. */
async function check(
  project: string,
  scratch: string,
  reference: string,
  result: TrialResult,
): Promise<void> {
  const { diffs, problems } = await compareWithReference(project, scratch, reference);
  result.diffs = diffs;
  result.problems.push(...problems);
  for (const d of diffs) {
    result.lost += d.lost;
    result.doubled += d.doubled;
    result.unexpected += d.unexpected;
  }
  const tmp = await strayTempFiles(project);
  if (tmp.length) result.problems.push(`*.tmp left: ${tmp.join(', ')}`);
  if (await exists(join(project, '.tributary', 'lock')))
    result.problems.push('the project lock is still held after every process exited');
  result.unlisted = (await unlistedLakeFiles(project)).length;
}

/** One line per trial, with how to replay it. */
export function formatTrial(r: TrialResult, seed: number, position = ''): string {
  const { index, scenario, phase, mechanism } = r.plan;
  const hit = r.hit.length ? r.hit.join('+') : 'no phase';
  const outcome = trialOk(r)
    ? `recovered; 0 lost, 0 doubled`
    : `FAILED: ${r.lost} lost, ${r.doubled} doubled, ${r.unexpected} unexpected\n${formatDiffs(r.diffs, r.problems)}${r.kept ? `\n  project kept at ${r.project}` : ''}\n  replay: npm run crash-campaign -- --seed ${seed} --trial ${index}`;
  return `${position ? `[${position}] ` : ''}trial ${index} (seed ${seed}): ${SCENARIO_NAMES[scenario]}, aiming at ${phase} by ${mechanism}: ${r.kill} → hit ${hit} (${r.hitNote}); ${outcome} (${(r.ms / 1000).toFixed(1)} s: ${Object.entries(
    r.timings,
  )
    .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`)
    .join(', ')})`;
}

/** Differences and problems, one per line. */
export function formatDiffs(diffs: RelationDiff[], problems: string[]): string {
  return [
    ...diffs.map(
      (d) =>
        `  ${d.relation}: ${d.lost} lost, ${d.doubled} doubled, ${d.unexpected} unexpected\n${d.samples.map((s) => `    ${s}`).join('\n')}`,
    ),
    ...problems.map((p) => `  ${p}`),
  ].join('\n');
}

/** The summary table: trials per phase hit and scenario, recovered, rows lost and doubled. */
export function formatSummary(report: CampaignReport): string {
  const rows: string[][] = [];
  const line = (label: string, rs: TrialResult[]) => [
    label,
    String(rs.length),
    ...SCENARIOS.map((s) => String(rs.filter((r) => r.plan.scenario === s).length)),
    String(rs.filter((r) => r.recovered).length),
    String(rs.reduce((n, r) => n + r.lost, 0)),
    String(rs.reduce((n, r) => n + r.doubled, 0)),
    String(rs.reduce((n, r) => n + r.unexpected, 0)),
    String(rs.filter((r) => !trialOk(r)).length),
  ];
  for (const p of PHASES)
    rows.push(
      line(
        p,
        report.results.filter((r) => r.hit.includes(p)),
      ),
    );
  rows.push(
    line(
      'no phase',
      report.results.filter((r) => r.hit.length === 0),
    ),
  );
  rows.push(line('all trials', report.results));
  const header = [
    'phase hit',
    'trials',
    ...SCENARIOS,
    'recovered',
    'lost rows',
    'doubled rows',
    'unexpected rows',
    'failed',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const aimed = PHASES.map(
    (p) => `${p} ${report.results.filter((r) => r.plan.phase === p).length}`,
  ).join(', ');
  return [
    fmt(header),
    fmt(widths.map((w) => '-'.repeat(w))),
    ...rows.map(fmt),
    '',
    `aimed at: ${aimed}; kills by timer ${report.results.filter((r) => r.plan.mechanism === 'timer').length}, at fault points ${report.results.filter((r) => r.plan.mechanism === 'fault').length}`,
    `lake files no manifest lists, after recovery: ${report.results.reduce((n, r) => n + r.unlisted, 0)} (invisible; written by killed processes)`,
    `seed ${report.seed}, scale ${report.scale}; set-up ${(report.setupMs / 1000).toFixed(1)} s, total ${(report.totalMs / 1000).toFixed(1)} s`,
  ].join('\n');
}
