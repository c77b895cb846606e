/**
 * mulberry32: a small seeded PRNG for everything that must replay the same draws from a seed
 * (benchmarks' inputs, crash trials' kill moments, backoff jitter in tests). Not for secrets.
 * Returns numbers in [0, 1).
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
