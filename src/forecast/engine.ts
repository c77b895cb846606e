/**
 * The forecast engine's one entry point: `forecastSeries` backtests the candidate methods on
 * every series, chooses per series (auto.ts), fits the choice on the whole series and forecasts
 * the horizon with bands at the requested levels, clamped at zero for non-negative quantities,
 * then reconciles a hierarchy. Pure: no SQL, no files (the pipeline step in run.ts does the I/O).
 */
import { describeError, TributaryError } from '../core/errors.js';
import {
  avoidZeroCrossing,
  combinationName,
  DEMAND_RATE_METHODS,
  HEDGE_ANCHORS,
  hedgeName,
  isIntermittent,
  poolMembers,
  rankMethods,
} from './auto.js';
import { averageForecasts, hedgeForecasts, runMethod } from './bands.js';
import {
  backtestSeries,
  fillRelativeScores,
  REFERENCE_METHOD,
  scoreWindow,
  summarize,
} from './backtest.js';
import type { BacktestConfig, SeriesBacktest } from './backtest.js';
import { fallbackFor, METHODS, methodByName } from './methods/index.js';
import { ARIMA_MEMORY_KEY } from './methods/arima.js';
import type { Ranked } from './auto.js';
import type { ForecastOptions, ForecastResult } from './method.js';
import { reconcileForecasts } from './reconcile.js';
import type {
  BacktestRow,
  ChosenMethod,
  ForecastProgress,
  ForecastSpec,
  MethodForecast,
  MethodScore,
  SeriesForecast,
  SeriesInput,
} from './types.js';
import { futurePeriods } from './periods.js';
import { cleanOutliers } from './outliers.js';

const lookup = methodByName;

/**
 * `outliers` when the spec does not say: `clean` (outliers.ts). Chosen by measurement on every
 * set of bench:forecast, real ones included (bench/RESULTS.md, issue 16).
 */
export const DEFAULT_OUTLIERS: 'clean' | 'keep' = 'clean';

/**
 * The `auto` candidate set for one series, simplest first (ties in score go to the earlier):
 * naive, seasonal naive, Naive2, SES, Holt, damped, Comb, Theta, OTM, DOTM, ETS; ARIMA when there is at
 * most one season, MSTL when there are several; Croston, SBA and TSB when the series is intermittent. Methods not in the registry are
 * left out.
 */
export function autoCandidates(y: readonly number[], seasonPeriods: readonly number[]): string[] {
  const seasonal = seasonPeriods.some((m) => m > 1);
  const names = ['naive'];
  if (seasonal) names.push('seasonal_naive');
  names.push('naive2', 'ses', 'holt', 'damped', 'comb', 'theta', 'otm', 'dotm', 'ets');
  const seasons = seasonPeriods.filter((m) => m > 1).length;
  // ARIMA models one season: with two or more the others stay in its errors (as a hedge anchor it
  // raised OWA on the synthetic weekly + yearly set beyond noise, bench/RESULTS.md).
  if (seasons < 2) names.push('arima');
  if (seasons >= 2) names.push('mstl');
  if (isIntermittent(y)) names.push('croston', 'sba', 'tsb');
  return names.filter((n) => METHODS.has(n));
}

function candidatesFor(y: readonly number[], spec: ForecastSpec): string[] {
  const asked =
    spec.methods === 'auto' || (spec.methods.length === 1 && spec.methods[0] === 'auto');
  if (asked) {
    const all = autoCandidates(y, spec.seasonPeriods);
    return spec.autoSkipExpensive
      ? all.filter((n) => !METHODS.get(n)!.capabilities.expensive)
      : all;
  }
  for (const name of spec.methods) lookup(name);
  return [...new Set(spec.methods)];
}

function validateSpec(spec: ForecastSpec): void {
  const whole = (v: number, min: number): boolean => Number.isInteger(v) && v >= min;
  if (!whole(spec.horizon, 1)) {
    throw new TributaryError(`forecast horizon must be a whole number >= 1, got ${spec.horizon}`);
  }
  if (!whole(spec.backtest.windows, 0) || !whole(spec.backtest.step, 1)) {
    throw new TributaryError(
      `backtest windows must be a whole number >= 0 and step >= 1, got ${spec.backtest.windows} and ${spec.backtest.step}`,
    );
  }
  for (const level of spec.levels) {
    if (!(level > 0 && level < 100))
      throw new TributaryError(
        `interval level must be between 0 and 100 (exclusive), got ${level}`,
      );
  }
  if (spec.combineTop !== undefined && !whole(spec.combineTop, 1)) {
    throw new TributaryError(`combine_top must be a whole number >= 1, got ${spec.combineTop}`);
  }
}

function checkSeries(s: SeriesInput, index: number): void {
  const where = `series ${index + 1} (${JSON.stringify(s.keys)})`;
  if (s.periods.length !== s.values.length) {
    throw new TributaryError(
      `${where} has ${s.periods.length} periods but ${s.values.length} values`,
    );
  }
  const bad = s.values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new TributaryError(
      `${where} has a non-finite value ${s.values[bad]} at period ${s.periods[bad]}`,
      {
        hint: 'fill gaps with zeros (fill_gaps: zero) or filter the missing values out of the source',
      },
    );
  }
}

/**
 * Backtest rows of a combination named `name`: `combine` makes each window's forecast from the
 * members' window forecasts (by method name), or null when it cannot (a member missing there).
 */
function combinationRows(
  y: readonly number[],
  periods: readonly string[],
  backtest: SeriesBacktest,
  name: string,
  combine: (forecastOf: (method: string) => ForecastResult | null) => ForecastResult | null,
  config: BacktestConfig,
): BacktestRow[] {
  const rows: BacktestRow[] = [];
  for (const w of backtest.windows) {
    const forecast = combine((m) => w.forecasts.get(m) ?? null);
    if (forecast === null) continue;
    rows.push(scoreWindow(y, periods, w.window, w.origin, name, forecast, config));
  }
  const reference = backtest.rows.filter((r) => r.method === REFERENCE_METHOD);
  fillRelativeScores([...reference, ...rows]);
  return rows;
}

/** The members' average, or null when one of them has no forecast. */
function averageOf(
  members: readonly string[],
): (forecastOf: (method: string) => ForecastResult | null) => ForecastResult | null {
  return (forecastOf) => {
    const parts = members.map(forecastOf);
    return parts.some((p) => p === null) ? null : averageForecasts(parts as ForecastResult[]);
  };
}

/**
 * `hedgeForecasts` of the pool and the anchors: null when a pool member has no forecast, the
 * median over the anchors that have one (null when none has).
 */
function hedgeOf(
  pool: readonly string[],
  anchors: readonly string[],
): (forecastOf: (method: string) => ForecastResult | null) => ForecastResult | null {
  return (forecastOf) => {
    const parts = pool.map(forecastOf);
    if (parts.some((p) => p === null)) return null;
    const robust = anchors.map(forecastOf).filter((p): p is ForecastResult => p !== null);
    return robust.length === 0 ? null : hedgeForecasts(parts as ForecastResult[], robust);
  };
}

/** Walks the fallback ladder from `start` to the first method that fits the whole series. */
function fitWithFallback(
  start: string,
  y: readonly number[],
  spec: ForecastSpec,
  options: ForecastOptions,
  firstReason: string | null,
  startFit?: ForecastResult,
): { method: string; result: ForecastResult; reason: string | null } {
  let name: string | null = start;
  const reasons: string[] = firstReason ? [firstReason] : [];
  while (name !== null) {
    const method = METHODS.get(name);
    const next: string | null = fallbackFor(name) ?? null;
    if (method) {
      const need = method.minLength(options);
      if (y.length < need) {
        reasons.push(`${name} needs ${need} values, series has ${y.length}`);
      } else {
        try {
          const result =
            name === start && startFit
              ? startFit
              : runMethod(method, y, spec.horizon, options, spec.nonNegative);
          if (name !== start) reasons.push(`fell back to ${name}`);
          return { method: name, result, reason: reasons.length > 0 ? reasons.join('; ') : null };
        } catch (err) {
          reasons.push(`${name} failed: ${describeError(err)}`);
        }
      }
    }
    name = next;
  }
  throw new TributaryError(
    `no forecast method could fit a series of ${y.length} values: ${reasons.join('; ')}`,
    {
      hint: 'a series needs at least one value; check the source query and its filters',
    },
  );
}

/**
 * The method to start the fallback ladder from when no backtest could rank the candidates: for
 * `auto` the most robust across the M competitions that is a candidate (Theta, then Comb), else
 * the first method the file lists.
 */
function startWithoutBacktest(candidates: readonly string[], spec: ForecastSpec): string {
  const auto = spec.methods === 'auto' || spec.methods[0] === 'auto';
  const robust = auto
    ? ['theta', 'comb', 'ets', 'ses', 'naive2'].find((m) => candidates.includes(m))
    : undefined;
  return robust ?? candidates[0] ?? 'naive';
}

function scoreOf(scores: readonly MethodScore[], name: string): MethodScore | undefined {
  return scores.find((s) => s.method === name);
}

/**
 * The methods to average for a series (one or none: no combination): the best k with
 * `combineTop`, else for `auto` the pool of methods indistinguishable from the best unless the
 * spec asks `selection: 'best'` (auto.ts). An explicit method list
 * without `combineTop` takes the best alone.
 */
function chosenMembers(
  ranked: Ranked,
  scores: readonly MethodScore[],
  spec: ForecastSpec,
): string[] {
  if (spec.combineTop !== undefined) {
    const k = Math.min(spec.combineTop, ranked.order.length);
    return k >= 2 ? ranked.order.slice(0, k) : [];
  }
  if (!isAuto(spec) || spec.selection === 'best') return [];
  if (ranked.by === 'none' || ranked.by === 'smape') return [];
  const key = ranked.by;
  return poolMembers(ranked.order, (name) => scoreOf(scores, name)?.[key] ?? null);
}

/**
 * `rankMethods` over the candidates `auto` may choose from: on an intermittent series only the
 * demand-rate estimators (`DEMAND_RATE_METHODS`, when any is a candidate), ranked by RMSSE; with
 * `selection: 'hedge'` only the usable anchors (`hedgeAnchors`), when any could be scored.
 * Every candidate is still backtested and scored; an explicit method list is ranked as given.
 */
function rankFor(
  scores: readonly MethodScore[],
  candidates: readonly string[],
  intermittent: boolean,
  spec: ForecastSpec,
  anchors: readonly string[],
): Ranked {
  if (intermittent && isAuto(spec)) {
    const rates = candidates.filter((c) => DEMAND_RATE_METHODS.includes(c));
    if (rates.length > 0) return rankMethods(scores, rates, true);
  }
  if (anchors.length > 0) {
    const robust = rankMethods(scores, anchors, false);
    if (robust.order.length > 0) return robust;
  }
  return rankMethods(scores, candidates, intermittent);
}

/** Whether `auto` hedges its pool with the anchors' median (`selection: 'hedge'`, the default). */
function hedges(spec: ForecastSpec): boolean {
  return isAuto(spec) && spec.combineTop === undefined && (spec.selection ?? 'hedge') === 'hedge';
}

/**
 * `chosen` (the pool, or [] for the single best) after `avoidZeroCrossing` for `auto` on a
 * strictly positive series; an explicit `combineTop` is left as asked. Returns the members to
 * average, or one method to fit alone, or [] when nothing was ranked.
 */
function guardedMembers(
  raw: readonly number[],
  ranked: Ranked,
  chosen: readonly string[],
  spec: ForecastSpec,
  fitOf: (name: string) => ForecastResult | null,
): string[] {
  const proposed = chosen.length >= 2 ? chosen : ranked.order.slice(0, 1);
  if (!isAuto(spec) || spec.combineTop !== undefined || proposed.length === 0) return [...proposed];
  if (!raw.every((v) => v > 0)) return [...proposed];
  return avoidZeroCrossing(proposed, ranked.order, (name) => {
    const f = fitOf(name);
    return f !== null && f.mean.some((v) => v <= 0);
  });
}

function isAuto(spec: ForecastSpec): boolean {
  return spec.methods === 'auto' || (spec.methods.length === 1 && spec.methods[0] === 'auto');
}

/**
 * The robust anchors `selection: 'hedge'` (the default for `auto`) blends the pool with and draws
 * it from (`HEDGE_ANCHORS`, auto.ts): those that are candidates and fit the whole series, less, on
 * a strictly positive series, any whose forecast reaches zero. None for an intermittent series,
 * an explicit method list, `combineTop`, `selection: 'pool'` or `'best'`.
 */
function hedgeAnchors(
  raw: readonly number[],
  candidates: readonly string[],
  intermittent: boolean,
  spec: ForecastSpec,
  fitOf: (name: string) => ForecastResult | null,
): string[] {
  if (!hedges(spec) || intermittent) return [];
  const positive = raw.every((v) => v > 0);
  return HEDGE_ANCHORS.filter((m) => {
    if (!candidates.includes(m)) return false;
    const f = fitOf(m);
    return f !== null && !(positive && f.mean.some((v) => v <= 0));
  });
}

/**
 * A combination's choice: the pool's average, or with anchors its hedge (`hedgeForecasts`),
 * backtested from the members' window forecasts like a method of its own.
 */
function combinedChoice(
  members: readonly string[],
  anchors: readonly string[],
  fit: (name: string) => ForecastResult,
  raw: readonly number[],
  periods: readonly string[],
  backtest: SeriesBacktest,
  config: BacktestConfig,
): {
  chosen: ChosenMethod;
  forecast: MethodForecast;
  fitted: (number[] | undefined)[];
  rows: BacktestRow[];
  score: MethodScore;
} {
  const memberFits = members.map(fit);
  const anchorFits = anchors.map(fit);
  const hedged = anchors.length > 0;
  const name = hedged ? hedgeName(members, anchors) : combinationName(members);
  const combine = hedged ? hedgeOf(members, anchors) : averageOf(members);
  const rows = combinationRows(raw, periods, backtest, name, combine, config);
  const score = summarize(rows, [name])[0]!;
  const chosen: ChosenMethod = {
    method: name,
    members: [...members],
    ...(hedged ? { anchors: [...anchors] } : {}),
    owa: score.owa,
    smape: score.smape,
    mase: score.mase,
    fallbackReason: null,
  };
  const result = hedged ? hedgeForecasts(memberFits, anchorFits) : averageForecasts(memberFits);
  return {
    chosen,
    forecast: { method: name, ...pickBands(result) },
    fitted: [...memberFits, ...anchorFits].map((f) => f.fitted),
    rows,
    score,
  };
}

/** Backtests, chooses and fits one series. */
export function forecastOne(s: SeriesInput, spec: ForecastSpec): SeriesForecast {
  // One memory per series: AutoETS (ets, mstl) chooses its model form on the oldest backtest
  // window and re-estimates only that form on the later windows and the final fit; ARIMA keeps
  // its order across the windows only (see below).
  const memory = new Map<string, unknown>();
  const options: ForecastOptions = {
    seasonPeriods: spec.seasonPeriods,
    levels: spec.levels,
    memory,
  };
  // `y` is what the fits see (outliers replaced unless the spec keeps them); the backtest scores
  // against the raw values and cleans each training window on its own, as the final fit does.
  const raw = s.values;
  const clean = (spec.outliers ?? DEFAULT_OUTLIERS) === 'clean';
  const cleaned = clean ? cleanOutliers(raw, spec.seasonPeriods) : { values: raw, replaced: [] };
  const y = cleaned.values;
  const candidates = candidatesFor(raw, spec);
  const config: BacktestConfig = {
    horizon: spec.horizon,
    windows: spec.backtest.windows,
    step: spec.backtest.step,
    seasonPeriods: spec.seasonPeriods,
    levels: spec.levels,
    nonNegative: spec.nonNegative,
    memory,
    ...(clean ? { prepare: (train) => cleanOutliers(train, spec.seasonPeriods).values } : {}),
  };
  const tested =
    candidates.includes(REFERENCE_METHOD) || !METHODS.has(REFERENCE_METHOD)
      ? candidates
      : [...candidates, REFERENCE_METHOD];
  const backtest = backtestSeries(raw, s.periods, tested.map(lookup), config);
  // The backtest windows reuse the ARIMA order chosen on the oldest one (for speed); the final
  // fit searches its own on the whole series, as auto.arima does on the data it is given: an
  // order chosen 3h periods earlier, refitted, forecast worse on every real group (bench/RESULTS.md,
  // issue 16, branch forecast-real3). ETS keeps its remembered form (no gain beyond noise there).
  memory.delete(ARIMA_MEMORY_KEY);
  const rows = backtest.rows;
  const scores = summarize(rows, tested);
  const intermittent = isIntermittent(raw);
  const fits = new Map<string, ForecastResult | null>();
  const fitOf = (name: string): ForecastResult | null => {
    if (!fits.has(name)) {
      try {
        fits.set(name, runMethod(lookup(name), y, spec.horizon, options, spec.nonNegative));
      } catch {
        fits.set(name, null);
      }
    }
    return fits.get(name)!;
  };
  const usable = hedgeAnchors(raw, candidates, intermittent, spec, fitOf);
  const ranked = rankFor(scores, candidates, intermittent, spec, usable);
  const members = guardedMembers(raw, ranked, chosenMembers(ranked, scores, spec), spec, fitOf);
  let chosen: ChosenMethod;
  let forecast: MethodForecast;
  let fitted: (number[] | undefined)[];
  const anchors = ranked.order.length > 0 ? usable : [];
  if (members.length >= 2 || (members.length === 1 && anchors.length > 0)) {
    const fit = (m: string): ForecastResult =>
      fitOf(m) ?? runMethod(lookup(m), y, spec.horizon, options, spec.nonNegative);
    const combo = combinedChoice(members, anchors, fit, raw, s.periods, backtest, config);
    rows.push(...combo.rows);
    scores.push(combo.score);
    ({ chosen, forecast, fitted } = combo);
  } else {
    const best = members[0] ?? ranked.order[0];
    const noScore =
      best === undefined
        ? (backtest.tooShort ?? 'no method could be scored on any backtest window')
        : null;
    const start = best ?? startWithoutBacktest(candidates, spec);
    const fit = fitWithFallback(
      start,
      y,
      spec,
      options,
      noScore ? `${noScore}; used ${start} without a backtest` : null,
      fits.get(start) ?? undefined,
    );
    const score = scoreOf(scores, fit.method);
    chosen = {
      method: fit.method,
      owa: score?.owa ?? null,
      smape: score?.smape ?? null,
      mase: score?.mase ?? null,
      fallbackReason: fit.reason,
    };
    forecast = { method: fit.method, ...pickBands(fit.result) };
    fitted = [fit.result.fitted];
  }
  const out: SeriesForecast = {
    keys: s.keys,
    chosen,
    forecast,
    forecasts: [],
    backtest: rows,
    scores,
  };
  if (clean) {
    out.outliers = cleaned.replaced.map((r) => ({
      period: s.periods[r.index] ?? String(r.index),
      value: r.value,
      replacement: r.replacement,
    }));
  }
  // Carried to reconcileForecasts (which removes them) even when the caller forecasts series one
  // at a time without the hierarchy and reconciles afterwards, as the pipeline step does.
  if (spec.reconcile === 'mint_shrink') out.residuals = residualsOf(y, fitted);
  out.forecasts = spec.keepAllMethods
    ? allForecasts(y, options, candidates, forecast, fitOf)
    : [forecast];
  return out;
}

/**
 * One-step in-sample residuals y − fitted (fitted averaged over a combination's members), NaN
 * where a member has no fitted value; NaN throughout when the method gives none.
 */
function residualsOf(y: readonly number[], fitted: readonly (number[] | undefined)[]): number[] {
  return y.map((v, t) => {
    let sum = 0;
    for (const f of fitted) {
      const x = f?.[t];
      if (x === undefined || !Number.isFinite(x)) return NaN;
      sum += x;
    }
    return fitted.length > 0 ? v - sum / fitted.length : NaN;
  });
}

function pickBands(r: ForecastResult): Omit<MethodForecast, 'method'> {
  return { mean: r.mean, intervals: r.intervals };
}

/**
 * Every candidate's forecast on the whole series (`keepAllMethods`), from the fits the choice
 * used where there are any (`fitOf` caches them), so a combination's members are the forecasts
 * listed beside it.
 */
function allForecasts(
  y: readonly number[],
  options: ForecastOptions,
  candidates: readonly string[],
  chosen: MethodForecast,
  fitOf: (name: string) => ForecastResult | null,
): MethodForecast[] {
  const out: MethodForecast[] = [chosen];
  for (const name of candidates) {
    if (name === chosen.method) continue;
    if (y.length < lookup(name).minLength(options)) continue;
    // A method that cannot fit this series has no forecast to keep; its backtest rows say why.
    const fit = fitOf(name);
    if (fit !== null) out.push({ method: name, ...pickBands(fit) });
  }
  return out;
}

/** Checks a spec and its series; throws a TributaryError naming the problem. */
export function checkForecastInput(series: readonly SeriesInput[], spec: ForecastSpec): void {
  validateSpec(spec);
  series.forEach(checkSeries);
}

/** `forecastOne` plus the names of the future periods (when the spec has a frequency). */
export function forecastWithPeriods(s: SeriesInput, spec: ForecastSpec): SeriesForecast {
  const result = forecastOne(s, spec);
  if (spec.frequency && s.periods.length > 0) {
    result.periods = futurePeriods(s.periods[s.periods.length - 1]!, spec.frequency, spec.horizon);
  }
  return result;
}

/**
 * Forecasts every series on this thread (see the module comment; parallel.ts spreads the same
 * work over worker threads). Calls `onProgress(done, total)` after each series. Throws a
 * TributaryError for an invalid spec or series (non-finite values, periods and values of
 * different lengths, an unknown method name).
 */
export function forecastSeries(
  series: readonly SeriesInput[],
  spec: ForecastSpec,
  onProgress?: ForecastProgress,
): SeriesForecast[] {
  checkForecastInput(series, spec);
  const out: SeriesForecast[] = [];
  for (const s of series) {
    out.push(forecastWithPeriods(s, spec));
    onProgress?.(out.length, series.length);
  }
  return spec.hierarchy ? reconcileForecasts(out, spec) : out;
}
