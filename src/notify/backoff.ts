/**
 * Backoff between tries: the one formula behind alert delivery retries and (through the
 * orchestrator) step retries, so `retry:` means the same thing wherever it is written.
 */
import type { RetryPolicy } from '../project/index.js';

/**
 * Milliseconds to wait after failed try number `attempt` (1-based) before the next one:
 * `backoff` doubled per try, capped at `max_backoff`; with `jitter`, a random 50–100% of that
 * (`random` returns a number in [0, 1)), so many retrying clients spread out without any wait
 * collapsing to nothing.
 */
export function backoffDelay(
  policy: Pick<RetryPolicy, 'backoff' | 'max_backoff' | 'jitter'>,
  attempt: number,
  random: () => number = Math.random,
): number {
  if (!(policy.backoff > 0) || !(policy.max_backoff > 0)) return 0;
  const n = Math.max(1, Math.floor(attempt));
  // 2 ** 1100 is Infinity, and min() of it is the cap: no overflow for any attempt count.
  const wait = Math.min(policy.max_backoff, policy.backoff * 2 ** (n - 1));
  if (!policy.jitter) return Math.round(wait);
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(wait * (0.5 + 0.5 * r));
}
