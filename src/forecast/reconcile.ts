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
 */
import { TributaryError } from '../core/errors.js';
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

/** Reconciles the published forecasts of a hierarchy (see the module comment). */
export function reconcileForecasts(
  results: SeriesForecast[],
  spec: ForecastSpec,
): SeriesForecast[] {
  if (!spec.hierarchy) return results;
  const children = hierarchyChildren(
    results.map((r) => r.keys),
    spec.hierarchy,
  );
  const means = bottomUp(
    results.map((r) => r.forecast.mean),
    children,
  );
  return results.map((r, i) => {
    if (children[i]!.length === 0) return r;
    const forecast = shifted(r.forecast, means[i]!, spec.nonNegative);
    const forecasts = r.forecasts.map((f) => (f === r.forecast ? forecast : f));
    return { ...r, forecast, forecasts, reconciled: 'bottom_up' };
  });
}
