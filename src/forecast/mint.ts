/**
 * MinT reconciliation with a shrinkage covariance (Wickramasuriya, Athanasopoulos & Hyndman 2019,
 * "Optimal forecast reconciliation for hierarchical and grouped time series through trace
 * minimization"): reconciled = S (Sᵀ W⁻¹ S)⁻¹ Sᵀ W⁻¹ ŷ, with S the summing matrix (each series as a
 * sum of bottom series) and W the one-step base-forecast error covariance shrunk towards its
 * diagonal with the Schäfer–Strimmer intensity, as R's hts package computes it.
 */
import { TributaryError } from '../core/errors.js';

/** Solves A X = B in place by Gauss–Jordan elimination with partial pivoting; returns X. */
export function solve(a: Float64Array[], b: Float64Array[]): Float64Array[] {
  const n = a.length;
  const A = a.map((r) => Float64Array.from(r));
  const B = b.map((r) => Float64Array.from(r));
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++)
      if (Math.abs(A[r]![col]!) > Math.abs(A[pivot]![col]!)) pivot = r;
    if (Math.abs(A[pivot]![col]!) < 1e-12) {
      throw new TributaryError(
        'MinT: the error covariance is singular (series with identical or zero residuals)',
        {
          hint: 'use reconcile: bottom_up for this hierarchy',
        },
      );
    }
    [A[col], A[pivot]] = [A[pivot]!, A[col]!];
    [B[col], B[pivot]] = [B[pivot]!, B[col]!];
    const rowA = A[col]!;
    const rowB = B[col]!;
    const p = rowA[col]!;
    for (let j = 0; j < n; j++) rowA[j]! /= p;
    for (let j = 0; j < rowB.length; j++) rowB[j]! /= p;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = A[r]![col]!;
      if (f === 0) continue;
      const ar = A[r]!;
      const br = B[r]!;
      for (let j = 0; j < n; j++) ar[j]! -= f * rowA[j]!;
      for (let j = 0; j < br.length; j++) br[j]! -= f * rowB[j]!;
    }
  }
  return B;
}

/**
 * The shrinkage covariance of residuals (rows: time, columns: series; no NaN): λ·diag + (1−λ)·Σ,
 * Σ = EᵀE/T uncentred, λ the Schäfer–Strimmer estimate clamped to [0, 1].
 */
export function shrinkCovariance(e: readonly Float64Array[]): {
  w: Float64Array[];
  lambda: number;
} {
  const t = e.length;
  const n = e[0]!.length;
  const cov = Array.from({ length: n }, () => new Float64Array(n));
  for (const row of e)
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) cov[i]![j]! += row[i]! * row[j]!;
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) cov[j]![i] = cov[i]![j]! /= t;
  const sd = Array.from({ length: n }, (_, i) => Math.sqrt(cov[i]![i]!));
  let varSum = 0;
  let corSum = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (sd[i] === 0 || sd[j] === 0) continue;
      let s1 = 0;
      let s2 = 0;
      for (const row of e) {
        const x = (row[i]! / sd[i]!) * (row[j]! / sd[j]!);
        s1 += x;
        s2 += x * x;
      }
      varSum += (s2 - (s1 * s1) / t) / (t * (t - 1));
      const r = cov[i]![j]! / (sd[i]! * sd[j]!);
      corSum += r * r;
    }
  }
  const lambda = corSum > 0 ? Math.min(1, Math.max(0, varSum / corSum)) : 1;
  const w = cov.map((row, i) => row.map((v, j) => (i === j ? v : (1 - lambda) * v)));
  return { w, lambda };
}

/**
 * MinT-reconciled bottom-level forecasts. `base[i]` is series i's forecast (h values),
 * `leavesOf[i]` the bottom series (indexes into `bottom`) that sum to series i, and `residuals`
 * the aligned one-step residuals (rows: time, columns: series). Returns one row per bottom series.
 */
export function mintBottom(
  base: readonly (readonly number[])[],
  bottom: readonly number[],
  leavesOf: readonly number[][],
  residuals: readonly Float64Array[],
): number[][] {
  const n = base.length;
  const b = bottom.length;
  const h = base[0]!.length;
  const { w } = shrinkCovariance(residuals);
  const s = Array.from({ length: n }, (_, i) => {
    const row = new Float64Array(b);
    for (const leaf of leavesOf[i]!) row[leaf] = 1;
    return row;
  });
  const x = solve(w, s); // W⁻¹ S, n × b
  const m = Array.from({ length: b }, (_, p) => {
    const row = new Float64Array(b);
    for (let q = 0; q < b; q++) for (let i = 0; i < n; i++) row[q]! += s[i]![p]! * x[i]![q]!;
    return row;
  });
  const rhs = Array.from({ length: b }, (_, p) => {
    const row = new Float64Array(h);
    for (let i = 0; i < n; i++) {
      const xi = x[i]![p]!;
      if (xi === 0) continue;
      for (let k = 0; k < h; k++) row[k]! += xi * base[i]![k]!;
    }
    return row;
  });
  return solve(m, rhs).map((r) => Array.from(r));
}
