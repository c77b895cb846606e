/**
 * The scheduler with a fake clock and a fake run executor on a real (small) workspace: cron ticks
 * in a time zone, no overlap, catch-up after downtime with the last tick kept in state,
 * upstream-updated triggers, freshness alerted once, and the run queue's order and shutdown.
 */
import { describe, expect, it } from 'vitest';
import { Cron } from 'croner';
import { TributaryError } from '../../src/core/index.js';
import {
  RunQueue,
  Scheduler,
  claimRunTick,
  compileSchedule,
  openWorkspace,
  runPipeline,
  ticksBetween,
  type Clock,
  type FreshnessAlert,
  type RunRequest,
  type RunResult,
  type SchedulerEvent,
  type StepResult,
  type Workspace,
} from '../../src/orchestrator/index.js';
import type { ScheduleConfig } from '../../src/project/index.js';
import { tempDir, writeFiles } from '../helpers.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

/** Lets promise chains and I/O callbacks that are already due run. */
async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Waits (in real time, for state writes) until `cond` holds; fails after 5 s. */
async function until(cond: () => boolean, what = 'condition'): Promise<void> {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} never happened`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A clock whose time moves only when told to; due timers fire in time order. */
class FakeClock implements Clock {
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  /** Awaited after each timer fires: the scheduler's claims in state, before time moves on. */
  afterTimer: (() => Promise<void>) | undefined;

  constructor(private t: number) {}

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing each timer at its time and letting async work run after it. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers)
        if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
      await this.afterTimer?.();
    }
    this.t = end;
    await settle();
  }

  /** Moves to an absolute time. */
  advanceTo(ms: number): Promise<void> {
    return this.advance(ms - this.t);
  }
}

/** items.csv → processed.items → model a → model b, plus orchestration yaml. */
function project(yaml: string): string {
  const dir = tempDir('trib-sched-');
  writeFiles(dir, {
    'tributary.yml': `name: s
sources:
  app:
    type: files
    path: landing
    tables:
      items: { files: "items*.csv" }
${yaml}`,
    'contracts/items.yml': `primary_key: [id]
columns:
  - { name: id, type: bigint, required: true }
  - { name: label, type: string }
`,
    'landing/items-1.csv': 'id,label\n1,a\n2,b\n',
    'models/_sources.yml': `version: 2
sources:
  - name: lake
    schema: processed
    tables: [{ name: items }]
`,
    'models/a.sql': `select id, label from {{ source('lake', 'items') }}`,
    'models/b.sql': `select count(*) as n from {{ ref('a') }}`,
  });
  return dir;
}

async function withProject<T>(yaml: string, fn: (ws: Workspace) => Promise<T>): Promise<T> {
  const ws = await openWorkspace(project(yaml), 'test');
  try {
    return await fn(ws);
  } finally {
    await ws.close();
  }
}

type Recorded = RunRequest & { at: number; runId: string };

/** A scheduler on a fake clock whose runs are recorded and return at once (or when released). */
function harness(
  ws: Workspace,
  start: number,
  opts: {
    steps?: (req: RunRequest) => StepResult[];
    onFreshness?: (a: FreshnessAlert) => Promise<unknown>;
    freshnessEveryMs?: number;
  } = {},
) {
  const clock = new FakeClock(start);
  const requests: Recorded[] = [];
  const events: SchedulerEvent[] = [];
  const holds: Deferred<void>[] = [];
  /** Runs' tick claims in flight (real writes), awaited before time moves on. */
  const claiming = new Set<Promise<void>>();
  const make = () =>
    new Scheduler(ws, {
      clock,
      onEvent: (e) => events.push(e),
      ...(opts.onFreshness ? { onFreshness: opts.onFreshness } : {}),
      ...(opts.freshnessEveryMs ? { freshnessEveryMs: opts.freshnessEveryMs } : {}),
      execute: async (req): Promise<RunResult> => {
        // As runPipeline does: a scheduled run claims its tick as it is recorded.
        const claim = ws.state.atomically((state) => claimRunTick(state, req.tick));
        claiming.add(claim);
        try {
          await claim;
        } finally {
          claiming.delete(claim);
        }
        const runId = `run_${requests.length + 1}`;
        requests.push({ ...req, at: clock.now(), runId });
        req.onStart?.(runId);
        const gate = holds.shift();
        if (gate) await gate.promise;
        return {
          runId,
          status: 'succeeded',
          durationMs: 0,
          steps: opts.steps?.(req) ?? [],
          refusedFiles: [],
        };
      },
    });
  const scheduler = make();
  // A tick is claimed in state (a real write) when its run starts, or when it is skipped: let
  // those finish before time moves on.
  clock.afterTimer = async () => {
    await scheduler.idle();
    await Promise.allSettled([...claiming]);
  };
  return {
    clock,
    requests,
    events,
    make,
    scheduler,
    /** The next run waits until the returned deferred is resolved. */
    holdNext(): Deferred<void> {
      const d = deferred();
      holds.push(d);
      return d;
    },
    kinds: (kind: SchedulerEvent['kind']) => events.filter((e) => e.kind === kind),
  };
}

const schedule = (p: Partial<ScheduleConfig> & { cron: string }): ScheduleConfig => ({
  timezone: 'UTC',
  select: [],
  exclude: [],
  catch_up: 'latest',
  enabled: true,
  ...p,
});

const step = (asset: string, status: StepResult['status']): StepResult => ({
  asset,
  kind: asset.startsWith('model:') ? 'model' : 'processed',
  status,
  durationMs: 1,
});

describe('cron ticks in a time zone', () => {
  const berlin = compileSchedule(
    'nightly',
    schedule({ cron: '0 2 * * *', timezone: 'Europe/Berlin' }),
  );

  it('puts 02:00 Berlin at 01:00Z in winter and 00:00Z in summer', () => {
    expect(ticksBetween(berlin, at('2024-01-10T00:00:00Z'), at('2024-01-12T00:00:00Z'))).toEqual([
      at('2024-01-10T01:00:00Z'),
      at('2024-01-11T01:00:00Z'),
    ]);
    // `after` is exclusive (2024-07-10T00:00Z is a tick), `until` inclusive.
    expect(ticksBetween(berlin, at('2024-07-10T00:00:00Z'), at('2024-07-12T00:00:00Z'))).toEqual([
      at('2024-07-11T00:00:00Z'),
      at('2024-07-12T00:00:00Z'),
    ]);
  });

  it('runs once on the days the clocks change: right after the jump in spring, once in autumn', () => {
    // 2024-03-31 has no 02:00 in Berlin (02:00 → 03:00 CEST = 01:00Z).
    expect(
      ticksBetween(berlin, at('2024-03-29T12:00:00Z'), at('2024-04-01T12:00:00Z')).map(iso),
    ).toEqual(['2024-03-30T01:00:00.000Z', '2024-03-31T01:00:00.000Z', '2024-04-01T00:00:00.000Z']);
    // 2024-10-27 has 02:30 twice; the schedule runs once.
    const half = compileSchedule('h', schedule({ cron: '30 2 * * *', timezone: 'Europe/Berlin' }));
    expect(
      ticksBetween(half, at('2024-10-26T12:00:00Z'), at('2024-10-28T12:00:00Z')).map(iso),
    ).toEqual(['2024-10-27T00:30:00.000Z', '2024-10-28T01:30:00.000Z']);
  });

  it('counts ticks after `after` up to and including `until`, at most `limit`', () => {
    const hourly = compileSchedule('h', schedule({ cron: '0 * * * *' }));
    expect(ticksBetween(hourly, at('2024-01-10T01:00:00Z'), at('2024-01-10T03:00:00Z'))).toEqual([
      at('2024-01-10T02:00:00Z'),
      at('2024-01-10T03:00:00Z'),
    ]);
    expect(
      ticksBetween(hourly, at('2024-01-10T00:00:00Z'), at('2024-01-11T00:00:00Z'), 5),
    ).toHaveLength(5);
    expect(ticksBetween(hourly, at('2024-01-10T01:00:00Z'), at('2024-01-10T01:59:59Z'))).toEqual(
      [],
    );
  });

  for (const [season, start, due] of [
    ['winter', '2024-01-09T23:00:00Z', '2024-01-10T01:00:00Z'],
    ['summer', '2024-07-09T22:00:00Z', '2024-07-10T00:00:00Z'],
  ] as const) {
    it(`fires a Europe/Berlin 02:00 schedule at ${due.slice(11, 16)}Z in ${season}`, async () => {
      await withProject(
        `schedules:\n  nightly: { cron: "0 2 * * *", timezone: Europe/Berlin }\n`,
        async (ws) => {
          const h = harness(ws, at(start));
          await h.scheduler.start();
          try {
            expect(h.scheduler.nextTicks()).toEqual([{ schedule: 'nightly', next: iso(at(due)) }]);
            await h.clock.advanceTo(at(due) - 1000);
            expect(h.requests).toHaveLength(0);
            await h.clock.advance(1000);
            expect(h.requests.map((r) => [r.trigger, iso(r.at)])).toEqual([
              ['schedule:nightly', iso(at(due))],
            ]);
          } finally {
            await h.scheduler.stop();
          }
        },
      );
    });
  }

  it('refuses a bad cron, naming the schedule and its cron in tributary.yml', () => {
    let err: unknown;
    try {
      compileSchedule('nightly', schedule({ cron: '0 25 * * *' }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TributaryError);
    expect((err as TributaryError).code).toBe('CONFIG');
    expect((err as TributaryError).location).toEqual({
      file: 'tributary.yml',
      path: 'schedules.nightly.cron',
    });
    expect((err as TributaryError).message).toMatch(/schedule nightly: .*hour/);
  });

  it('refuses a bad time zone, naming the schedule and its timezone in tributary.yml', () => {
    let err: unknown;
    try {
      compileSchedule('nightly', schedule({ cron: '0 2 * * *', timezone: 'Europe/Atlantis' }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TributaryError);
    expect((err as TributaryError).code).toBe('CONFIG');
    expect((err as TributaryError).location?.path).toBe('schedules.nightly.timezone');
    expect((err as TributaryError).message).toMatch(/schedule nightly: .*Europe\/Atlantis/);
  });

  it('refuses a schedule whose select names no asset when the scheduler is made', async () => {
    await withProject(
      `schedules:\n  nightly: { cron: "0 2 * * *", select: ["+model:nope"] }\n`,
      async (ws) => {
        expect(() => new Scheduler(ws, { clock: new FakeClock(0) })).toThrow(
          expect.objectContaining({
            code: 'CONFIG',
            message: 'schedules.nightly: model:nope matches no asset',
          }),
        );
      },
    );
  });
});

describe('schedules', () => {
  const yaml = `schedules:
  every10:
    cron: "*/10 * * * *"
    select: ["+model:b"]
    exclude: ["raw:app.items"]
  off: { cron: "* * * * *", enabled: false }
`;

  it('runs a due tick with trigger schedule:<name> and its select and exclude, and keeps the tick in state', async () => {
    await withProject(yaml, async (ws) => {
      const h = harness(ws, at('2024-01-10T00:05:00Z'));
      await h.scheduler.start();
      expect(h.scheduler.nextTicks()).toEqual([
        { schedule: 'every10', next: '2024-01-10T00:10:00.000Z' },
      ]);
      await h.clock.advance(20 * MIN); // to 00:25
      await h.scheduler.stop();
      expect(h.requests.map((r) => [r.trigger, iso(r.at), r.select, r.exclude])).toEqual([
        ['schedule:every10', '2024-01-10T00:10:00.000Z', ['+model:b'], ['raw:app.items']],
        ['schedule:every10', '2024-01-10T00:20:00.000Z', ['+model:b'], ['raw:app.items']],
      ]);
      expect(h.requests[0]!.command).toBe('schedule every10 (2024-01-10T00:10:00.000Z)');
      expect(h.kinds('tick')).toHaveLength(2);
      expect(h.kinds('run_finished').map((e) => e.message)).toEqual([
        'schedule:every10: run run_1 succeeded',
        'schedule:every10: run run_2 succeeded',
      ]);
      expect(await ws.state.lastTick('every10')).toBe('2024-01-10T00:20:00.000Z');
      expect(await ws.state.lastTick('off')).toBeUndefined();
    });
  });

  it('reports how late a tick started: latency from due to run_started', async () => {
    await withProject(yaml, async (ws) => {
      const h = harness(ws, at('2024-01-10T00:05:00Z'));
      await h.scheduler.start();
      try {
        // Another run holds the queue across the 00:10 tick for 3 minutes.
        const held = h.holdNext();
        const other = h.scheduler.queue.submit({ trigger: 'manual' });
        await h.clock.advance(5 * MIN); // 00:10: the tick is queued behind the manual run
        expect(h.requests.map((r) => r.trigger)).toEqual(['manual']);
        await h.clock.advance(3 * MIN);
        held.resolve();
        await other;
        await until(() => h.requests.length === 2, 'the scheduled run');
        const started = h.kinds('run_started');
        expect(started.map((e) => [e.runId, e.latencyMs])).toEqual([
          ['run_1', undefined],
          ['run_2', 3 * MIN],
        ]);
      } finally {
        await h.scheduler.stop();
      }
    });
  });

  it('skips a tick while the schedule’s previous run is still running, and runs the next one after', async () => {
    await withProject(yaml, async (ws) => {
      const h = harness(ws, at('2024-01-10T00:05:00Z'));
      await h.scheduler.start();
      try {
        const held = h.holdNext();
        await h.clock.advance(5 * MIN); // 00:10: starts and keeps running
        expect(h.requests).toHaveLength(1);
        await h.clock.advance(10 * MIN); // 00:20: still running
        expect(h.requests).toHaveLength(1);
        expect(h.kinds('skipped').map((e) => [e.schedule, e.message])).toEqual([
          [
            'every10',
            'every10: tick 2024-01-10T00:20:00.000Z skipped, its previous run has not finished',
          ],
        ]);
        held.resolve();
        await until(() => h.kinds('run_finished').length === 1, 'the first run finishing');
        await h.clock.advance(10 * MIN); // 00:30
        expect(h.requests.map((r) => iso(r.at))).toEqual([
          '2024-01-10T00:10:00.000Z',
          '2024-01-10T00:30:00.000Z',
        ]);
      } finally {
        await h.scheduler.stop();
      }
      // A skipped tick counts as handled: a restart does not run it.
      expect(await ws.state.lastTick('every10')).toBe('2024-01-10T00:30:00.000Z');
    });
  });

  it('leaves a tick whose run was queued but never started unclaimed, and the next start runs it', async () => {
    await withProject(
      `schedules:\n  every10: { cron: "*/10 * * * *", catch_up: latest }\n`,
      async (ws) => {
        const h = harness(ws, at('2024-01-10T00:05:00Z'));
        await h.scheduler.start();
        // A manual run holds the queue across the 00:10 tick: its run is queued, not recorded.
        const held = h.holdNext();
        const manual = h.scheduler.queue.submit({ trigger: 'manual' });
        await h.clock.advance(5 * MIN);
        expect(h.kinds('tick')).toHaveLength(1);
        // The process stops (as a leader dies) before the tick's run starts: it is dropped.
        const closing = h.scheduler.queue.close();
        held.resolve();
        await closing;
        await h.scheduler.stop();
        await manual;
        expect(h.requests.map((r) => r.trigger)).toEqual(['manual']);
        expect(await ws.state.lastTick('every10')).toBe('2024-01-10T00:05:00.000Z');
        // The next leader catches it up: at least once for a tick whose run was not recorded.
        const next = harness(ws, at('2024-01-10T00:12:00Z'));
        await next.scheduler.start();
        await until(() => next.requests.length === 1, 'the caught-up run');
        await next.scheduler.stop();
        expect(next.requests[0]!.command).toBe('schedule every10 (2024-01-10T00:10:00.000Z)');
        expect(await ws.state.lastTick('every10')).toBe('2024-01-10T00:10:00.000Z');
      },
    );
  });

  it('re-checks a tick more than a day away and fires it once, on time', async () => {
    await withProject(`schedules:\n  weekly: { cron: "0 2 * * 1" }\n`, async (ws) => {
      const h = harness(ws, at('2024-01-09T03:00:00Z')); // a Tuesday
      await h.scheduler.start();
      try {
        await h.clock.advance(13 * DAY);
        expect(h.requests.map((r) => iso(r.at))).toEqual([
          '2024-01-15T02:00:00.000Z',
          '2024-01-22T02:00:00.000Z',
        ]);
      } finally {
        await h.scheduler.stop();
      }
    });
  });

  it('stops ticking when stopped, leaving no timers', async () => {
    await withProject(yaml, async (ws) => {
      const h = harness(ws, at('2024-01-10T00:05:00Z'));
      await h.scheduler.start();
      expect(h.clock.pending).toBe(1); // the disabled schedule arms nothing
      await h.scheduler.stop();
      expect(h.clock.pending).toBe(0);
      await h.clock.advance(HOUR);
      expect(h.requests).toHaveLength(0);
    });
  });
});

describe('catch-up after downtime', () => {
  const yaml = (policy: string) =>
    `schedules:\n  hourly: { cron: "0 * * * *", catch_up: ${policy} }\n`;
  const lastTick = '2024-01-10T00:00:00.000Z';
  const restart = at('2024-01-10T03:30:00Z'); // 01:00, 02:00 and 03:00 were missed

  for (const [policy, expected] of [
    ['none', []],
    ['latest', ['2024-01-10T03:00:00.000Z']],
    ['all', ['2024-01-10T01:00:00.000Z', '2024-01-10T02:00:00.000Z', '2024-01-10T03:00:00.000Z']],
  ] as const) {
    it(`catch_up ${policy} runs ${expected.length} of 3 missed ticks, and a second start runs none again`, async () => {
      await withProject(yaml(policy), async (ws) => {
        await ws.state.setLastTick('hourly', lastTick);
        const h = harness(ws, restart);
        await h.scheduler.start();
        await until(() => h.requests.length === expected.length, 'the catch-up runs');
        await settle();
        await h.scheduler.stop();
        expect(h.requests.map((r) => r.command)).toEqual(
          expected.map((t) => `schedule hourly (${t})`),
        );
        expect(h.requests.every((r) => r.trigger === 'schedule:hourly')).toBe(true);
        expect(h.kinds('caught_up').map((e) => e.message)).toEqual([
          `hourly: 3 tick(s) missed while stopped; catch_up ${policy} runs ${expected.length}`,
        ]);
        expect(await ws.state.lastTick('hourly')).toBe('2024-01-10T03:00:00.000Z');

        // Restarted again at the same time: nothing was missed since.
        const again = harness(ws, restart + 10 * MIN);
        await again.scheduler.start();
        await settle();
        await again.scheduler.stop();
        expect(again.requests).toEqual([]);
        expect(again.kinds('caught_up')).toEqual([]);
      });
    });
  }

  it('measures a catch-up run’s latency from when it was queued, not from the old tick', async () => {
    await withProject(yaml('latest'), async (ws) => {
      await ws.state.setLastTick('hourly', lastTick);
      const h = harness(ws, restart);
      await h.scheduler.start();
      await h.scheduler.stop();
      expect(h.kinds('run_started').map((e) => e.latencyMs)).toEqual([0]);
    });
  });

  it('does not catch up a brand-new schedule, and starts counting from now', async () => {
    await withProject(yaml('all'), async (ws) => {
      const h = harness(ws, restart);
      await h.scheduler.start();
      await settle();
      await h.scheduler.stop();
      expect(h.requests).toEqual([]);
      expect(h.kinds('caught_up')).toEqual([]);
      expect(await ws.state.lastTick('hourly')).toBe(iso(restart));
    });
  });

  it('after a long downtime, catch_up latest runs the latest tick, and a restart does not run again', async () => {
    // Every minute for 8 days: more ticks than ticksBetween's limit of 10,000.
    await withProject(
      `schedules:\n  minutely: { cron: "* * * * *", catch_up: latest }\n`,
      async (ws) => {
        await ws.state.setLastTick('minutely', '2024-01-01T00:00:00.000Z');
        const now = at('2024-01-09T00:00:30Z');
        const h = harness(ws, now);
        await h.scheduler.start();
        await until(() => h.requests.length === 1, 'the catch-up run');
        await h.scheduler.stop();
        expect(h.requests[0]!.command).toBe('schedule minutely (2024-01-09T00:00:00.000Z)');
        expect(h.kinds('caught_up').map((e) => e.message)).toEqual([
          'minutely: 10000+ tick(s) missed while stopped; catch_up latest runs 1',
        ]);
        expect(await ws.state.lastTick('minutely')).toBe('2024-01-09T00:00:00.000Z');

        const again = harness(ws, now);
        await again.scheduler.start();
        await settle();
        await again.scheduler.stop();
        expect(again.requests).toEqual([]);
      },
    );
  });
});

describe('upstream-updated triggers', () => {
  const yaml = `triggers:
  items_changed: { on: asset_updated, assets: ["processed:items"] }
  b_only: { on: asset_updated, assets: ["model:a"], run: ["model:b"] }
`;

  it('queues a run of what is downstream when a run updated a watched asset; its own run does not fire it again', async () => {
    await withProject(yaml, async (ws) => {
      // Every run reports processed:items updated, the trigger's own run included.
      const h = harness(ws, at('2024-01-10T00:00:00Z'), {
        steps: () => [step('processed:items', 'succeeded')],
      });
      try {
        const first = await h.scheduler.queue.submit({ trigger: 'manual' });
        expect(first?.runId).toBe('run_1');
        await until(() => h.kinds('run_finished').length === 2, 'the triggered run');
        await settle(20);
        expect(h.requests.map((r) => [r.trigger, r.select, r.exclude])).toEqual([
          ['manual', undefined, undefined],
          ['trigger:items_changed', ['model:a+'], ['processed:items']],
        ]);
        expect(h.kinds('trigger').map((e) => e.message)).toEqual([
          'items_changed: processed:items updated by run run_1',
        ]);
      } finally {
        await h.scheduler.stop();
      }
    });
  });

  it('runs the assets a trigger names in run:', async () => {
    await withProject(yaml, async (ws) => {
      const h = harness(ws, at('2024-01-10T00:00:00Z'), {
        steps: (req) => (req.trigger === 'manual' ? [step('model:a', 'succeeded')] : []),
      });
      try {
        await h.scheduler.queue.submit({ trigger: 'manual' });
        await until(() => h.requests.length === 2, 'the triggered run');
        expect(h.requests[1]).toMatchObject({
          trigger: 'trigger:b_only',
          select: ['model:b'],
          exclude: [],
        });
      } finally {
        await h.scheduler.stop();
      }
    });
  });

  it('does not fire for an asset that was up to date, failed or skipped', async () => {
    await withProject(yaml, async (ws) => {
      const h = harness(ws, at('2024-01-10T00:00:00Z'), {
        steps: () => [
          step('processed:items', 'up_to_date'),
          step('model:a', 'failed'),
          step('model:b', 'skipped'),
        ],
      });
      try {
        await h.scheduler.queue.submit({ trigger: 'manual' });
        await settle(20);
        expect(h.requests.map((r) => r.trigger)).toEqual(['manual']);
        expect(h.kinds('trigger')).toEqual([]);
      } finally {
        await h.scheduler.stop();
      }
    });
  });

  it('fires after a scheduled run too', async () => {
    await withProject(`${yaml}schedules:\n  hourly: { cron: "0 * * * *" }\n`, async (ws) => {
      const h = harness(ws, at('2024-01-10T00:30:00Z'), {
        steps: (req) =>
          req.trigger === 'schedule:hourly' ? [step('processed:items', 'succeeded')] : [],
      });
      await h.scheduler.start();
      try {
        await h.clock.advance(30 * MIN);
        await until(() => h.requests.length === 2, 'the triggered run');
        expect(h.requests.map((r) => r.trigger)).toEqual([
          'schedule:hourly',
          'trigger:items_changed',
        ]);
      } finally {
        await h.scheduler.stop();
      }
    });
  });
});

describe('freshness', () => {
  const yaml = `assets:
  items: { freshness: { max_age: 1h } }
  "model:b": { freshness: { max_age: 2h } }
`;

  it('alerts once for an asset never updated, and clears when it is updated', async () => {
    await withProject(yaml, async (ws) => {
      const alerts: FreshnessAlert[] = [];
      const h = harness(ws, Date.now(), {
        onFreshness: async (a) => {
          alerts.push(a);
        },
      });
      const first = await h.scheduler.checkFreshness();
      const second = await h.scheduler.checkFreshness();
      expect(first.map((a) => a.asset).sort()).toEqual(['model:b', 'processed:items']);
      expect(second).toEqual([]);
      expect(alerts.map((a) => [a.asset, a.lastUpdatedAt, a.maxAgeMs]).sort()).toEqual([
        ['model:b', null, 2 * HOUR],
        ['processed:items', null, HOUR],
      ]);
      expect(
        h
          .kinds('freshness')
          .map((e) => e.message)
          .sort(),
      ).toEqual([
        'model:b is stale: last updated never, max age 7200s',
        'processed:items is stale: last updated never, max age 3600s',
      ]);

      // The real pipeline updates processed:items (and builds the models).
      const run = await runPipeline(ws);
      expect(run.status).toBe('succeeded');
      expect(await h.scheduler.checkFreshness()).toEqual([]);
      expect(alerts).toHaveLength(2);

      // Stale again an hour later: a new breach, alerted once with when it was last updated.
      await h.clock.advance(HOUR + MIN);
      const stale = await h.scheduler.checkFreshness();
      expect(stale.map((a) => a.asset)).toEqual(['processed:items']);
      expect(stale[0]!.lastUpdatedAt).not.toBeNull();
      expect(h.clock.now() - Date.parse(stale[0]!.lastUpdatedAt!)).toBeGreaterThan(HOUR);
      expect(await h.scheduler.checkFreshness()).toEqual([]);
      expect(alerts).toHaveLength(3);
    });
  });

  it('checks on start and then every freshnessEveryMs, for a model whose version is recorded', async () => {
    await withProject(yaml, async (ws) => {
      const alerts: FreshnessAlert[] = [];
      const h = harness(ws, Date.now(), {
        freshnessEveryMs: 10 * MIN,
        onFreshness: async (a) => {
          alerts.push(a);
        },
      });
      await ws.state.setAssetVersion('model:b', 'fp1');
      await h.scheduler.start();
      try {
        expect(alerts.map((a) => a.asset)).toEqual(['processed:items']);
        expect(h.clock.pending).toBe(1); // the next check
        // A check re-arms its timer when it is done (state reads are real I/O): step by step.
        let checks = 0;
        const check = async () => {
          await h.clock.advance(10 * MIN);
          expect(h.clock.pending).toBe(0);
          await until(() => h.clock.pending === 1, 'the check re-arming');
          checks++;
        };
        while (alerts.length < 2 && checks < 20) await check();
        // model:b is older than 2 h only at the 13th check (2 h 10 min).
        expect(checks).toBe(13);
        for (let i = 0; i < 3; i++) await check();
        expect(alerts.map((a) => a.asset)).toEqual(['processed:items', 'model:b']);
        expect(alerts[1]!.lastUpdatedAt).not.toBeNull();
      } finally {
        await h.scheduler.stop();
      }
    });
  });
});

describe('the run queue', () => {
  const result = (runId: string): RunResult => ({
    runId,
    status: 'succeeded',
    refusedFiles: [],
    durationMs: 0,
    steps: [],
  });

  /** A queue whose runs wait until released, recording what they were given. */
  function held() {
    const runs: { req: RunRequest; gate: Deferred<void> }[] = [];
    const finished: [string, string | undefined, unknown][] = [];
    const queue = new RunQueue(
      async (req) => {
        const gate = deferred();
        runs.push({ req, gate });
        await gate.promise;
        if (req.command === 'throws') throw new Error('could not start');
        return result(req.trigger);
      },
      (req, r, err) => finished.push([req.trigger, r?.runId, err]),
    );
    return { queue, runs, finished };
  }

  it('runs one at a time, in order: the second starts after the first finished', async () => {
    const { queue, runs, finished } = held();
    const a = queue.submit({ trigger: 'a' });
    const b = queue.submit({ trigger: 'b' });
    await settle();
    expect(runs.map((r) => r.req.trigger)).toEqual(['a']);
    expect(queue.size).toBe(2);
    expect(queue.isBusy('a') && queue.isBusy('b')).toBe(true);
    runs[0]!.gate.resolve();
    expect((await a)?.runId).toBe('a');
    await settle();
    expect(runs.map((r) => r.req.trigger)).toEqual(['a', 'b']);
    expect(queue.isBusy('a')).toBe(false);
    runs[1]!.gate.resolve();
    expect((await b)?.runId).toBe('b');
    expect(queue.isBusy('b')).toBe(false);
    expect(queue.size).toBe(0);
    expect(finished).toEqual([
      ['a', 'a', undefined],
      ['b', 'b', undefined],
    ]);
  });

  it('rejects the submit of a run that throws, and goes on with the next', async () => {
    const { queue, runs, finished } = held();
    const bad = queue.submit({ trigger: 'a', command: 'throws' });
    const good = queue.submit({ trigger: 'b' });
    await settle();
    runs[0]!.gate.resolve();
    await expect(bad).rejects.toThrow('could not start');
    await settle();
    runs[1]!.gate.resolve();
    expect((await good)?.runId).toBe('b');
    expect(finished.map(([t, id, e]) => [t, id, (e as Error | undefined)?.message])).toEqual([
      ['a', undefined, 'could not start'],
      ['b', 'b', undefined],
    ]);
  });

  it('on close(drain) drops queued runs (resolved undefined), asks the running one to stop, and waits for it', async () => {
    const { queue, runs } = held();
    const a = queue.submit({ trigger: 'a' });
    const b = queue.submit({ trigger: 'b' });
    await settle();
    let closed = false;
    const closing = queue.close('drain').then(() => (closed = true));
    expect(await b).toBeUndefined();
    expect(queue.isBusy('b')).toBe(false);
    expect(runs[0]!.req.stop!.aborted).toBe(true);
    expect(runs[0]!.req.abort!.aborted).toBe(false);
    await settle();
    expect(closed).toBe(false); // the running one has not finished
    runs[0]!.gate.resolve();
    expect((await a)?.runId).toBe('a');
    await closing;
    expect(runs).toHaveLength(1);
    expect(await queue.submit({ trigger: 'c' })).toBeUndefined();
    expect(runs).toHaveLength(1);
  });

  it('keeps going when the finished callback throws: each submit still settles, the next run starts', async () => {
    const ran: string[] = [];
    const queue = new RunQueue(
      async (req) => {
        ran.push(req.trigger);
        return result(req.trigger);
      },
      () => {
        throw new Error('listener broke');
      },
    );
    const a = queue.submit({ trigger: 'a' });
    const b = queue.submit({ trigger: 'b' });
    const settled = await Promise.race([
      Promise.allSettled([a, b]),
      new Promise((r) => setTimeout(() => r('stalled'), 1000)),
    ]);
    expect(settled).not.toBe('stalled');
    expect(ran).toEqual(['a', 'b']);
    expect(queue.isBusy('a') || queue.isBusy('b')).toBe(false);
  });

  it('on close(abort) also aborts the running one', async () => {
    const { queue, runs } = held();
    const a = queue.submit({ trigger: 'a' });
    await settle();
    const closing = queue.close('abort');
    expect(runs[0]!.req.stop!.aborted).toBe(true);
    expect(runs[0]!.req.abort!.aborted).toBe(true);
    runs[0]!.gate.resolve();
    await a;
    await closing;
  });

  it('abortCurrent aborts only the run in progress; the next gets fresh signals', async () => {
    const { queue, runs } = held();
    const a = queue.submit({ trigger: 'a' });
    const b = queue.submit({ trigger: 'b' });
    await settle();
    queue.abortCurrent();
    expect(runs[0]!.req.abort!.aborted).toBe(true);
    expect(runs[0]!.req.stop!.aborted).toBe(true);
    runs[0]!.gate.resolve();
    await a;
    await settle();
    expect(runs[1]!.req.trigger).toBe('b');
    expect(runs[1]!.req.abort!.aborted).toBe(false);
    expect(runs[1]!.req.stop!.aborted).toBe(false);
    runs[1]!.gate.resolve();
    expect((await b)?.runId).toBe('b');
  });
});

// croner is used directly only to check compileSchedule returns a paused, usable Cron.
it('compileSchedule returns a paused cron that never runs by itself', () => {
  const cron = compileSchedule('h', schedule({ cron: '* * * * * *' }));
  expect(cron).toBeInstanceOf(Cron);
  expect(cron.isRunning()).toBe(false);
  expect(cron.nextRun(new Date('2024-01-10T00:00:00Z'))?.toISOString()).toBe(
    '2024-01-10T00:00:01.000Z',
  );
});
