/**
 * Hierarchical reconciliation: make forecasts coherent, so the products of a category sum to the
 * category's forecast and the categories to the total's.
 *
 * A hierarchy is named by its levels from the top, e.g. `['total', 'category', 'product']`; the
 * key names are the levels after `total`. A series at depth d carries the keys of the first d
 * key levels (the total carries none), so a product series has keys {category, product} and its
 * parent is the series with keys {category}. Nodes without children are the bottom level.
 *
 * Bottom-up: every parent's point forecast becomes the sum of its children's, recursively from
 * the bottom. A parent keeps the width of its own bands around the new point (sums of children's
 * bounds would assume perfectly correlated errors and be far too wide), clamped at zero when the
 * forecast is non-negative.
 *
 * MinT (shrink), when the spec asks `reconcile: mint_shrink`: mint.ts, from the chosen methods'
 * one-step in-sample residuals; every level moves, bands are shifted the same way. It falls back
 * to bottom-up, saying why in every series' `reconciliation.note`, when the residuals cannot give
 * a covariance: fewer common periods with a residual than MINT_MIN_PERIODS, or a singular matrix
 * (e.g. a series whose residuals are all zero).
 */
import { TributaryError } from '../core/errors.js';
import { mintBottom } from './mint.js';
import type { ForecastSpec, MethodForecast, SeriesForecast } from './types.js';

/** Key names of a hierarchy's levels (its levels without a leading `total`). */
export function hierarchyKeys(levels: readonly string[]): string[] {
  return levels[0] === 'total' ? levels.slice(1) : [...levels];
}

/** A series' position: its path of key values down the hierarchy. */
function pathOf(
  keys: Record<string, string>,
  keyNames: readonly string[],
  index: number,
): string[] {
  const path: string[] = [];
  for (const name of keyNames) {
    const v = keys[name];
    if (v === undefined || v === null) break;
    path.push(v);
  }
  for (const name of keyNames.slice(path.length)) {
    if (keys[name] !== undefined && keys[name] !== null) {
      throw new TributaryError(
        `series ${index + 1} (${JSON.stringify(keys)}) has key '${name}' but not the level above it`,
        {
          hint: `a series at one hierarchy level carries the keys of every level above it: ${keyNames.join(' > ')}`,
        },
      );
    }
  }
  return path;
}

/** Children of each series (by index), from the series' keys; roots have no parent present. */
export function hierarchyChildren(
  keysList: readonly Record<string, string>[],
  levels: readonly string[],
): number[][] {
  const keyNames = hierarchyKeys(levels);
  const paths = keysList.map((k, i) => pathOf(k, keyNames, i));
  const byPath = new Map<string, number>();
  paths.forEach((p, i) => {
    const id = JSON.stringify(p);
    if (byPath.has(id)) {
      throw new TributaryError(
        `two series have the same hierarchy position ${JSON.stringify(keysList[i])}`,
      );
    }
    byPath.set(id, i);
  });
  const children: number[][] = keysList.map(() => []);
  paths.forEach((p, i) => {
    if (p.length === 0) return;
    const parent = byPath.get(JSON.stringify(p.slice(0, -1)));
    if (parent !== undefined) children[parent]!.push(i);
  });
  return children;
}

function shifted(own: MethodForecast, mean: number[], nonNegative: boolean): MethodForecast {
  const floor = (v: number): number => (nonNegative && v < 0 ? 0 : v);
  return {
    method: own.method,
    mean,
    intervals: own.intervals.map((b) => ({
      level: b.level,
      lower: b.lower.map((lo, i) => floor(Math.min(mean[i]!, lo + mean[i]! - own.mean[i]!))),
      upper: b.upper.map((hi, i) => Math.max(mean[i]!, hi + mean[i]! - own.mean[i]!)),
    })),
  };
}

/**
 * Bottom-up reconciled point forecasts: each series with children gets the sum of its
 * children's (reconciled) forecasts. `means[i]` is series i's own forecast.
 */
export function bottomUp(
  means: readonly (readonly number[])[],
  children: readonly number[][],
): number[][] {
  const done: (number[] | undefined)[] = means.map(() => undefined);
  const visit = (i: number): number[] => {
    const cached = done[i];
    if (cached) return cached;
    const kids = children[i]!;
    let value: number[];
    if (kids.length === 0) value = [...means[i]!];
    else {
      value = new Array<number>(means[i]!.length).fill(0);
      for (const c of kids) {
        const v = visit(c);
        for (let t = 0; t < value.length; t++) value[t]! += v[t]!;
      }
    }
    done[i] = value;
    return value;
  };
  return means.map((_, i) => visit(i));
}

/** The bottom series under each series (indexes into `bottom`), from the children lists. */
function leavesUnder(children: readonly number[][], bottom: readonly number[]): number[][] {
  const position = new Map(bottom.map((b, p) => [b, p]));
  const memo: (number[] | undefined)[] = children.map(() => undefined);
  const visit = (i: number): number[] => {
    const known = memo[i];
    if (known) return known;
    const kids = children[i]!;
    const leaves = kids.length === 0 ? [position.get(i)!] : kids.flatMap(visit);
    memo[i] = leaves;
    return leaves;
  };
  return children.map((_, i) => visit(i));
}

/**
 * The fewest periods with a residual for every series that MinT needs: the shrinkage intensity
 * divides by T·(T − 1), and far fewer periods than series make the sample covariance mostly
 * noise (the shrinkage then pulls it to the diagonal).
 */
export const MINT_MIN_PERIODS = 3;

/**
 * Residual rows (time × series) for MinT: the series' residuals aligned at their ends, keeping
 * the periods where every series has a finite residual.
 */
function alignedResiduals(results: readonly SeriesForecast[]): Float64Array[] {
  const length = Math.min(...results.map((r) => r.residuals?.length ?? 0));
  const rows: Float64Array[] = [];
  for (let t = 0; t < length; t++) {
    const row = new Float64Array(results.length);
    let ok = true;
    results.forEach((r, i) => {
      const v = r.residuals![r.residuals!.length - length + t]!;
      if (!Number.isFinite(v)) ok = false;
      row[i] = v;
    });
    if (ok) rows.push(row);
  }
  return rows;
}

interface Reconciled {
  means: number[][];
  how: 'bottom_up' | 'mint_shrink';
  /** Why MinT was asked for but bottom-up used. */
  note?: string;
}

/** Reconciled points: bottom-up, or MinT (shrink) when asked and residuals allow. */
function reconciledMeans(
  results: readonly SeriesForecast[],
  children: readonly number[][],
  spec: ForecastSpec,
): Reconciled {
  const base = results.map((r) => r.forecast.mean);
  if (spec.reconcile !== 'mint_shrink')
    return { means: bottomUp(base, children), how: 'bottom_up' };
  const fallBack = (why: string): Reconciled => ({
    means: bottomUp(base, children),
    how: 'bottom_up',
    note: `mint_shrink asked, bottom_up used: ${why}`,
  });
  const residuals = alignedResiduals(results);
  if (residuals.length < MINT_MIN_PERIODS) {
    return fallBack(
      `${residuals.length} period(s) where every series has an in-sample residual, MinT needs ${MINT_MIN_PERIODS}`,
    );
  }
  const bottom = children.flatMap((kids, i) => (kids.length === 0 ? [i] : []));
  let reconciled: number[][];
  try {
    reconciled = mintBottom(base, bottom, leavesUnder(children, bottom), residuals);
  } catch (err) {
    if (!(err instanceof TributaryError)) throw err;
    return fallBack(err.message);
  }
  if (reconciled.some((row) => row.some((v) => !Number.isFinite(v)))) {
    return fallBack('the MinT solution is not finite (near-singular covariance)');
  }
  // Negative bottom forecasts are clamped before summing up, so totals stay coherent.
  const leafMeans = base.map((m) => [...m]);
  bottom.forEach((b, p) => {
    leafMeans[b] = reconciled[p]!.map((v) => (spec.nonNegative && v < 0 ? 0 : v));
  });
  return { means: bottomUp(leafMeans, children), how: 'mint_shrink' };
}

/**
 * Reconciles the published forecasts of a hierarchy (see the module comment). With
 * `reconcile: mint_shrink` every series' points change (MinT); without usable residuals it falls
 * back to bottom-up. Every series gets `reconciliation` (the method applied and, after a
 * fallback, why); `reconciled` marks the series whose points changed.
 */
export function reconcileForecasts(
  results: SeriesForecast[],
  spec: ForecastSpec,
): SeriesForecast[] {
  if (!spec.hierarchy) return results;
  const children = hierarchyChildren(
    results.map((r) => r.keys),
    spec.hierarchy,
  );
  const { means, how, note } = reconciledMeans(results, children, spec);
  const reconciliation = { method: how, ...(note !== undefined ? { note } : {}) };
  return results.map((r, i) => {
    const { residuals: _dropped, ...rest } = r;
    if (how === 'bottom_up' && children[i]!.length === 0) return { ...rest, reconciliation };
    const forecast = shifted(r.forecast, means[i]!, spec.nonNegative);
    const forecasts = r.forecasts.map((f) => (f === r.forecast ? forecast : f));
    return { ...rest, forecast, forecasts, reconciled: how, reconciliation };
  });
}
