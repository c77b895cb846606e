/**
 * Waits between tries: exponential (backoff, 2×backoff, 4×…) capped at maxBackoff, with jitter
 * taking a random 50–100% of the wait so many retrying clients do not all come back at once.
 */
export interface BackoffPolicy {
  /** Wait before the second try, in ms. */
  backoff: number;
  /** Longest wait, in ms. */
  max_backoff: number;
  jitter: boolean;
}

/** The wait before try `attempt + 1`, after `attempt` tries (1-based) have failed. */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  // The exponent is capped: past 2^30 the cap has long applied, and 0 × Infinity would be NaN.
  const base = Math.min(
    policy.max_backoff,
    policy.backoff * 2 ** Math.min(30, Math.max(0, attempt - 1)),
  );
  return Math.round(policy.jitter ? base * (0.5 + 0.5 * random()) : base);
}
