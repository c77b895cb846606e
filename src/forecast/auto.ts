/**
 * Choosing a method per series from its backtest: `auto` ranks the candidates by their mean
 * per-window score against Naive2 ((sMAPE/sMAPE_naive2 + MASE/MASE_naive2)/2, lower is better)
 * and takes the best, or the best k to average when `combineTop` is k >= 2. Only methods scored
 * on as many windows as the best-covered one compete, so a method that could run on the newest
 * window alone is not compared on easier ground. Ties go to the simpler method: the candidate
 * list is ordered simplest first.
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
  /** How the ranking was made: by OWA, or by MASE/sMAPE when no Naive2 reference scored. */
  by: 'owa' | 'mase' | 'smape' | 'none';
}

function keyOf(score: MethodScore, by: Ranked['by']): number | null {
  if (by === 'owa') return score.owa;
  if (by === 'mase') return score.mase;
  if (by === 'smape') return score.smape;
  return null;
}

/**
 * Ranks candidate methods (simplest first in `candidates`) by backtest score. Methods scored on
 * fewer windows than the best-covered one are left out; so is any method without a score.
 */
export function rankMethods(scores: readonly MethodScore[], candidates: readonly string[]): Ranked {
  const byName = new Map(scores.map((s) => [s.method, s]));
  const present = candidates
    .map((c) => byName.get(c))
    .filter((s): s is MethodScore => s !== undefined);
  const most = Math.max(0, ...present.map((s) => s.windows));
  if (most === 0) return { order: [], by: 'none' };
  const eligible = present.filter((s) => s.windows === most);
  for (const by of ['owa', 'mase', 'smape'] as const) {
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

/** The name of a combination of methods, as written to result tables. */
export function combinationName(members: readonly string[]): string {
  return `combine(${members.join(',')})`;
}

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
