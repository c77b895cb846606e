/**
 * Choosing a method per series from its backtest: `auto` ranks the candidates by their mean
 * per-window score against Naive2 ((sMAPE/sMAPE_naive2 + MASE/MASE_naive2)/2, lower is better);
 * intermittent series (`isIntermittent`) by their mean RMSSE instead (see `rankMethods`).
 * Only methods scored on as many windows as the best-covered one compete, so a method that could
 * run on the newest window alone is not compared on easier ground. Ties go to the simpler
 * method: the candidate list is ordered simplest first.
 *
 * What is taken from the ranking (`ForecastSpec.selection`):
 * - `hedge` (the default): the `pool` below, averaged half and half with the median of robust
 *   anchors (`HEDGE_ANCHORS`: ETS, the optimised Theta model OTM, damped trend, Comb, ARIMA), as SCUM
 *   (Petropoulos & Svetunkov 2020, the median of four robust methods, OWA about 0.85 on M4)
 *   combines without selecting. OTM (Fiorucci et al. 2016) took standard Theta's place: lower OWA
 *   on the real yearly and monthly series and the synthetic monthly set, no set worse beyond
 *   noise (bench/RESULTS.md, issue 16, branch forecast-theta). Automatic ARIMA (`arima`, R's
 *   auto.arima) joined them as a fifth anchor, the median of five: lower OWA on the real yearly,
 *   quarterly and monthly series beyond noise, no set worse beyond noise (bench/RESULTS.md,
 *   issue 16, branch forecast-arima); M4 found ETS, ARIMA and Theta together beat both Theta and
 *   Comb on every frequency.
 *   Three backtest windows pick the best by chance more often than not (Fildes & Petropoulos
 *   2015); the fixed anchors keep half of every forecast on methods that are good on average, and
 *   the pool keeps the other half on what this series' backtest favours. With `hedge` the pool is
 *   drawn from the anchors themselves (the engine's `rankFor`; from every candidate only when
 *   none of them could be scored), as an intermittent series' pool is drawn from the demand-rate
 *   methods: over three windows naive, Naive2 or SES won the ranking by chance on series where
 *   they are poor on average, and half of the forecast went to them. Decided on the even-indexed
 *   half of the 551 real series and confirmed on the odd half (bench/RESULTS.md, issue 16, branch
 *   forecast-real3). Measured on
 *   bench:forecast and on 546 real yearly, quarterly and monthly series (bench/RESULTS.md, issue
 *   16). Not used for intermittent series, `combineTop` or an explicit method list.
 * - `pool`: forecast pooling (Kourentzes, Barrow & Petropoulos 2019, "Another look
 *   at forecast selection and combination: evidence from forecast pooling"): the methods whose
 *   score is within POOL_GAP (relative) of the best, at most POOL_MAX of them, are averaged. A
 *   few backtest windows cannot tell methods that close apart, so picking one of them is mostly
 *   picking noise; averaging them is the robust choice the M competitions keep finding. When no
 *   other method is that close the best is taken alone. Intermittent series are pooled the same
 *   way on their RMSSE ranking, among the demand-rate methods only (`DEMAND_RATE_METHODS`), so
 *   their average is a rate too. On a series that has never been zero, members whose forecast
 *   reaches zero are left out (`avoidZeroCrossing`).
 * - `best`: the single best.
 * - `combineTop: k` (k >= 2) overrides both: the best k, however far apart.
 *
 * When nothing could be scored (the series is too short for any window) or a method cannot fit
 * the whole series, a fixed ladder of simpler methods (`fallbackFor` in methods/index.ts) is walked down and the
 * reason recorded.
 */
import type { MethodScore } from './types.js';

/** Scores closer than this (relative) count as a tie. */
const TIE = 1e-9;

export interface Ranked {
  /** Methods in rank order, best first (only those eligible to be chosen). */
  order: string[];
  /**
   * How the ranking was made: by OWA (RMSSE for an intermittent series), or by the next key when
   * the first could not be scored (no Naive2 reference, a constant training window).
   */
  by: 'owa' | 'mase' | 'rmsse' | 'smape' | 'none';
}

function keyOf(score: MethodScore, by: Ranked['by']): number | null {
  if (by === 'owa') return score.owa;
  if (by === 'mase') return score.mase;
  if (by === 'rmsse') return score.rmsse ?? null;
  if (by === 'smape') return score.smape;
  return null;
}

/**
 * Ranks candidate methods (simplest first in `candidates`) by backtest score. Methods scored on
 * fewer windows than the best-covered one are left out; so is any method without a score.
 * An intermittent series is ranked by mean RMSSE (then MASE, OWA, sMAPE when that could not be
 * scored), as M5 scored its intermittent daily unit sales: sMAPE is 200% on every period with
 * zero demand and a non-zero forecast (Hyndman 2006, "Another look at forecast-accuracy metrics
 * for intermittent demand"), and MASE, an absolute error, is smallest for the median, which is
 * zero for a series with zero demand on more than half its periods (Kolassa 2016, "Evaluating
 * predictive count data distributions in retail sales forecasting"), so both rank "forecast
 * nothing" (often naive's last value) first. A squared error is smallest for the mean demand
 * rate, which is what Croston/SBA/TSB and SES estimate and what stock is planned from.
 * Measured on bench:forecast, 4 held-out origins (bench/RESULTS.md): ranking by RMSSE instead of
 * MASE lowers auto's MASE as well as its RMSSE on both intermittent sets (synthetic 1.007 -> 0.961
 * of Naive2's MASE, template products 0.981 -> 0.978), since MASE over three windows kept picking
 * the last value.
 */
export function rankMethods(
  scores: readonly MethodScore[],
  candidates: readonly string[],
  intermittent = false,
): Ranked {
  const byName = new Map(scores.map((s) => [s.method, s]));
  const present = candidates
    .map((c) => byName.get(c))
    .filter((s): s is MethodScore => s !== undefined);
  const most = Math.max(0, ...present.map((s) => s.windows));
  if (most === 0) return { order: [], by: 'none' };
  const eligible = present.filter((s) => s.windows === most);
  const keys = intermittent
    ? (['rmsse', 'mase', 'owa', 'smape'] as const)
    : (['owa', 'mase', 'smape'] as const);
  for (const by of keys) {
    const keyed = eligible.filter((s) => keyOf(s, by) !== null);
    if (keyed.length === 0) continue;
    const index = (name: string): number => candidates.indexOf(name);
    keyed.sort((a, b) => {
      const ka = keyOf(a, by)!;
      const kb = keyOf(b, by)!;
      if (Math.abs(ka - kb) <= TIE * Math.max(Math.abs(ka), Math.abs(kb))) {
        return index(a.method) - index(b.method);
      }
      return ka - kb;
    });
    return { order: keyed.map((s) => s.method), by };
  }
  return { order: [], by: 'none' };
}

/** Scores within this share of the best count as indistinguishable from it (`pool`). */
export const POOL_GAP = 0.05;
/** At most this many methods are pooled. */
export const POOL_MAX = 3;

/**
 * The methods `pool` averages: the best and those ranked after it whose score is within
 * POOL_GAP of the best's, at most POOL_MAX. `order` is `rankMethods`' order, `scoreOf` the key it
 * ranked by. Ranked by OWA or MASE the scores are positive; a best score of 0 pools only exact
 * ties.
 */
export function poolMembers(
  order: readonly string[],
  scoreOf: (method: string) => number | null,
): string[] {
  const first = order[0];
  if (first === undefined) return [];
  const best = scoreOf(first);
  if (best === null) return [first];
  const limit = best + Math.abs(best) * POOL_GAP;
  const members = [first];
  for (const name of order.slice(1)) {
    if (members.length >= POOL_MAX) break;
    const v = scoreOf(name);
    if (v === null || v > limit) break;
    members.push(name);
  }
  return members;
}

/** The robust methods `selection: 'hedge'` blends with the pool (their median). */
export const HEDGE_ANCHORS: readonly string[] = ['ets', 'otm', 'damped', 'comb', 'arima'];

/** The name of a hedged pool, as written to result tables: `combine(a,b;median(ets,…))`. */
export function hedgeName(pool: readonly string[], anchors: readonly string[]): string {
  return `combine(${pool.join(',')};median(${anchors.join(',')}))`;
}

/** The name of a combination of methods, as written to result tables. */
export function combinationName(members: readonly string[]): string {
  return `combine(${members.join(',')})`;
}

/**
 * What `auto` chooses from on an intermittent series: the methods that estimate the demand rate
 * (SES on the demand, Croston, SBA, TSB: the intermittent-demand benchmarks of M5). Every other
 * candidate is still backtested and reported, but is not chosen: on a mostly-zero series naive
 * and seasonal naive forecast the last zeros, and trend and seasonal models extrapolate a few
 * sales; over three backtest windows the RMSSE ranking let them into the pool by chance.
 * Measured on bench:forecast, 4 held-out origins (bench/RESULTS.md, issue 16): template products
 * RMSSE 0.861 -> 0.845 of Naive2's (bootstrap 90% interval of the change -0.025..-0.008), MASE
 * 0.964 -> 0.957; synthetic intermittent RMSSE 0.772 -> 0.770, MASE 0.964 -> 0.972 (interval
 * -0.009..+0.021: within noise).
 */
export const DEMAND_RATE_METHODS: readonly string[] = ['ses', 'croston', 'sba', 'tsb'];

/**
 * Intermittent demand per Syntetos–Boylan: average inter-demand interval (periods per non-zero
 * value) above 1.32. A series with no demand at all counts as intermittent.
 */
export function isIntermittent(y: readonly number[]): boolean {
  let nonZero = 0;
  for (const v of y) if (v !== 0) nonZero++;
  if (nonZero === 0) return true;
  return y.length / nonZero > 1.32;
}

/**
 * For a series whose history is strictly positive, leaves out of `members` (a pool, or the single
 * best) every method whose point forecast reaches zero or below within the horizon: a linear
 * trend extrapolated past the bound, which the non-negative clamp turns into forecasts of exactly
 * zero for a quantity that has never been zero. fpp3 (Hyndman & Athanasopoulos, section 13.3
 * "Ensuring forecasts stay within limits") keeps such forecasts positive by modelling on the log
 * scale; choosing among the candidates that stay positive is the cheap form of that. When every
 * member crosses, the best-ranked method in `order` that stays positive is taken alone; when none
 * does, `members` is kept as it is. Measured on bench:forecast (bench/RESULTS.md, issue 16):
 * random walks with drift OWA 1.012 -> 0.980 against Naive2, every other set unchanged.
 */
export function avoidZeroCrossing(
  members: readonly string[],
  order: readonly string[],
  crossesZero: (method: string) => boolean,
): string[] {
  const kept = members.filter((m) => !crossesZero(m));
  if (kept.length > 0) return kept;
  const alternative = order.find((m) => !crossesZero(m));
  return alternative === undefined ? [...members] : [alternative];
}
