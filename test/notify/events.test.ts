/** Alert events: the one-line summaries people read, the detail lines, and the shape check. */
import { describe, expect, it } from 'vitest';
import {
  alertDetails,
  describeAlert,
  isAlertEvent,
  type AlertEvent,
} from '../../src/notify/index.js';

const at = '2025-03-02T04:00:00.000Z';

describe('describeAlert', () => {
  it('names a failed run and its failed steps with their messages', () => {
    expect(
      describeAlert({
        type: 'failure',
        runId: 'run_x',
        command: 'run',
        failedSteps: [
          { asset: 'processed:orders', message: 'type check failed\n  on 3 rows' },
          { asset: 'model:fct', message: 'syntax error' },
        ],
        at,
      }),
    ).toBe(
      'run run_x failed: 2 steps failed (processed:orders: type check failed on 3 rows; model:fct: syntax error)',
    );
  });

  it('names at most three failed steps and counts the rest, cutting long messages', () => {
    const steps = ['a', 'b', 'c', 'd', 'e'].map((asset) => ({ asset, message: 'm'.repeat(500) }));
    const text = describeAlert({
      type: 'failure',
      runId: 'r',
      command: 'run',
      failedSteps: steps,
      at,
    });
    expect(text).toMatch(
      /^run r failed: 5 steps failed \(a: m+\.\.\.; b: m+\.\.\.; c: m+\.\.\.; and 2 more\)$/,
    );
    expect(text).toContain(`a: ${'m'.repeat(117)}...;`);
  });

  it('says a run failed when no step is named', () => {
    expect(
      describeAlert({ type: 'failure', runId: 'r', command: 'run', failedSteps: [], at }),
    ).toBe('run r failed');
  });

  it('names the asset, attempts, run and error of exhausted retries', () => {
    expect(
      describeAlert({
        type: 'retries_exhausted',
        runId: 'run_y',
        asset: 'source:shop.orders',
        attempts: 1,
        error: 'timeout',
        at,
      }),
    ).toBe('source:shop.orders failed after 1 attempt in run run_y: timeout');
  });

  it('gives the command and duration of a successful run', () => {
    expect(
      describeAlert({ type: 'success', runId: 'run_z', command: 'build', durationMs: 2400, at }),
    ).toBe('run run_z (build) succeeded in 2.4s');
  });

  it('says how long ago a stale asset was updated, and its max age', () => {
    expect(
      describeAlert({
        type: 'freshness',
        asset: 'processed:orders',
        maxAgeMs: 26 * 3_600_000,
        lastUpdatedAt: '2025-03-01T00:00:00.000Z',
        at,
      }),
    ).toBe(
      'processed:orders is stale: last updated 28h ago, at 2025-03-01T00:00:00.000Z (max age 26h)',
    );
  });

  it('says an asset never updated has never been', () => {
    expect(
      describeAlert({
        type: 'freshness',
        asset: 'processed:orders',
        maxAgeMs: 3_600_000,
        lastUpdatedAt: null,
        at,
      }),
    ).toBe('processed:orders has never been updated (max age 1h)');
  });
});

describe('alertDetails', () => {
  it('lists every failed step on its own line', () => {
    expect(
      alertDetails({
        type: 'failure',
        runId: 'r',
        command: 'run',
        failedSteps: [
          { asset: 'a', message: 'x' },
          { asset: 'b', message: 'y' },
        ],
        at,
      }),
    ).toEqual(['run: r', 'command: run', `at: ${at}`, 'failed steps (2):', '  a: x', '  b: y']);
  });

  it('says never for an asset never updated', () => {
    expect(
      alertDetails({ type: 'freshness', asset: 'a', maxAgeMs: 60_000, lastUpdatedAt: null, at }),
    ).toContain('last updated: never');
  });
});

describe('isAlertEvent', () => {
  const events: AlertEvent[] = [
    {
      type: 'failure',
      runId: 'r',
      command: 'run',
      failedSteps: [{ asset: 'a', message: 'm' }],
      at,
    },
    { type: 'retries_exhausted', runId: 'r', asset: 'a', attempts: 2, error: 'e', at },
    { type: 'success', runId: 'r', command: 'run', durationMs: 1, at },
    { type: 'freshness', asset: 'a', maxAgeMs: 1, lastUpdatedAt: null, at },
  ];

  it('accepts every event type read back from JSON', () => {
    for (const e of events) expect(isAlertEvent(JSON.parse(JSON.stringify(e)))).toBe(true);
  });

  it('rejects unknown types, missing fields and wrong field types', () => {
    expect(isAlertEvent(null)).toBe(false);
    expect(isAlertEvent({ ...events[0], type: 'crash' })).toBe(false);
    expect(isAlertEvent({ ...events[1], attempts: '2' })).toBe(false);
    expect(isAlertEvent({ ...events[0], failedSteps: [{ asset: 'a' }] })).toBe(false);
    const { at: _at, ...noTime } = events[2]!;
    expect(isAlertEvent(noTime)).toBe(false);
  });
});
