/**
 * Normal prediction intervals from per-step standard errors: the closed forms of Hyndman &
 * Athanasopoulos, Forecasting: Principles and Practice (3rd ed.), section 5.5, assume normal
 * one-step errors, so the band at level L is mean ± z·se with z the (50 + L/2)% normal quantile.
 */
import type { IntervalBand } from './method.js';

/**
 * The inverse of the standard normal CDF (Acklam's rational approximation, relative error below
 * 1.15e-9), for 0 < p < 1.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269];
  const a4 = -30.66479806614716;
  const a5 = 2.506628277459239;
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972];
  const b4 = -13.28068155288572;
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734];
  const c4 = 4.374664141464968;
  const c5 = 2.938163982698783;
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low || p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(p < low ? p : 1 - p));
    const num = ((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c4) * q + c5;
    const den = (((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1;
    x = p < low ? num / den : -num / den;
  } else {
    const q = p - 0.5;
    const r = q * q;
    const num = (((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a4) * r + a5) * q;
    const den = ((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b4) * r + 1;
    x = num / den;
  }
  return x;
}

/** The z multiplier of a central interval at `level` percent (80 -> 1.2816, 95 -> 1.96). */
export function zForLevel(level: number): number {
  return normalQuantile(0.5 + level / 200);
}

/**
 * Symmetric normal bands mean ± z·se[k] for each level, in the order asked. A non-finite or
 * negative standard error counts as zero, so bands stay finite and contain the point.
 */
export function normalBands(
  mean: ArrayLike<number>,
  se: ArrayLike<number>,
  levels: readonly number[],
): IntervalBand[] {
  return levels.map((level) => {
    const z = zForLevel(level);
    const lower = new Array<number>(mean.length);
    const upper = new Array<number>(mean.length);
    for (let k = 0; k < mean.length; k++) {
      const s = se[k]!;
      const width = Number.isFinite(s) && s > 0 ? z * s : 0;
      lower[k] = mean[k]! - width;
      upper[k] = mean[k]! + width;
    }
    return { level, lower, upper };
  });
}

/** Root mean square of the finite values of `residuals` (NaN entries skipped); 0 when none. */
export function residualRms(residuals: ArrayLike<number>, dof = 0): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < residuals.length; i++) {
    const r = residuals[i]!;
    if (Number.isFinite(r)) {
      sum += r * r;
      count++;
    }
  }
  const denominator = count - dof > 0 ? count - dof : count;
  return denominator > 0 ? Math.sqrt(sum / denominator) : 0;
}
