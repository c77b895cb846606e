/** backoffDelay (notify's export of core's): the wait between tries of alerts and steps. */
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/notify/index.js';

const policy = { backoff: 1000, max_backoff: 60_000, jitter: false };

describe('backoffDelay', () => {
  it('waits the backoff after the first try and doubles it after each further try', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(policy, n))).toEqual([
      1000, 2000, 4000, 8000, 16000,
    ]);
  });

  it('never waits longer than max_backoff', () => {
    expect(backoffDelay(policy, 7)).toBe(60_000);
    expect(backoffDelay(policy, 60)).toBe(60_000);
    expect(backoffDelay({ ...policy, max_backoff: 1500 }, 2)).toBe(1500);
  });

  it('stays at the cap for attempt counts whose doubling overflows', () => {
    expect(backoffDelay(policy, 5000)).toBe(60_000);
    expect(backoffDelay({ ...policy, jitter: true }, 5000, () => 0)).toBe(30_000);
  });

  it('with jitter waits a random 50 to 100 percent of the backoff', () => {
    const jittered = { ...policy, jitter: true };
    expect(backoffDelay(jittered, 1, () => 0)).toBe(500);
    expect(backoffDelay(jittered, 1, () => 0.5)).toBe(750);
    expect(backoffDelay(jittered, 3, () => 0.999999)).toBe(4000);
    expect(backoffDelay(jittered, 8, () => 0.25)).toBe(37_500);
  });

  it('does not call random without jitter', () => {
    expect(
      backoffDelay(policy, 2, () => {
        throw new Error('random called');
      }),
    ).toBe(2000);
  });

  it('treats an attempt below 1 as the first', () => {
    expect(backoffDelay(policy, 0)).toBe(1000);
    expect(backoffDelay(policy, -3)).toBe(1000);
  });

  it('waits nothing when the backoff is zero', () => {
    expect(backoffDelay({ ...policy, backoff: 0 }, 20)).toBe(0);
    expect(backoffDelay({ ...policy, backoff: 0, jitter: true }, 3, () => 0.7)).toBe(0);
  });

  it('rounds to whole milliseconds', () => {
    expect(backoffDelay({ ...policy, backoff: 333, jitter: true }, 1, () => 0.3)).toBe(216);
  });
});
