/**
 * The Notifier against real HTTP receivers: webhook and Slack bodies and headers, retries with
 * backoff on fake time, the dead-letter store when a channel stays down (with no secret in what
 * is stored), timeouts, channels independent of each other, and replay of what failed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDuckDB, type Engine } from '../../src/engines/index.js';
import {
  DeadLetterStore,
  Notifier,
  checkAlertsConfig,
  type AlertEvent,
  type NotificationPayload,
} from '../../src/notify/index.js';
import { alertsSchema } from '../../src/project/index.js';
import { answer, startReceiver } from './receivers.js';

const failure: AlertEvent = {
  type: 'failure',
  runId: 'run_abc',
  command: 'run',
  failedSteps: [
    { asset: 'processed:orders', message: 'contract check failed: 12 rows <rejected> & more' },
    { asset: 'model:fct_orders', message: 'upstream failed' },
  ],
  at: '2025-03-01T02:00:00.000Z',
};
const success: AlertEvent = {
  type: 'success',
  runId: 'run_ok',
  command: 'build',
  durationMs: 2400,
  at: '2025-03-01T02:00:00.000Z',
};
const stale = (at: string): AlertEvent => ({
  type: 'freshness',
  asset: 'processed:orders',
  maxAgeMs: 26 * 3_600_000,
  lastUpdatedAt: '2025-03-01T00:00:00.000Z',
  at,
});

const SLACK_TOKEN = 'T0001/B0002/slacksecretXYZ123';
const HOOK_TOKEN = 'hooktokenQWE987';
const HEADER_SECRET = 'headersecretASD456';

describe('Notifier over HTTP', () => {
  let engine: Engine;
  let dlq: DeadLetterStore;
  let sleeps: number[];
  let logs: string[];
  const sleep = async (ms: number) => void sleeps.push(ms);

  beforeEach(async () => {
    engine = await openDuckDB({ path: ':memory:' });
    dlq = await DeadLetterStore.open(engine);
    sleeps = [];
    logs = [];
  });
  afterEach(async () => {
    delete process.env.TRIB_TEST_SLACK_URL;
    delete process.env.TRIB_TEST_HOOK_URL;
    delete process.env.TRIB_TEST_HOOK_SECRET;
    await engine.close();
  });

  /** A Notifier over an alerts config written as tributary.yml would (defaults applied). */
  function notifier(alerts: unknown, extra: { random?: () => number } = {}): Notifier {
    return new Notifier({
      config: alertsSchema.parse(alerts),
      project: 'shop',
      dlq,
      sleep,
      log: (line) => logs.push(line),
      ...extra,
    });
  }

  it('posts the event, its summary and the project as JSON to a webhook, with its headers', async () => {
    const rx = await startReceiver();
    process.env.TRIB_TEST_HOOK_SECRET = HEADER_SECRET;
    const n = notifier({
      channels: {
        hook: {
          type: 'webhook',
          url: `${rx.url}/alerts?x=1`,
          headers: { 'x-team': 'data', authorization: { env: 'TRIB_TEST_HOOK_SECRET' } },
        },
      },
    });
    expect(await n.notify(failure)).toEqual({ delivered: ['hook'], deadLettered: [], lost: [] });
    expect(rx.requests).toHaveLength(1);
    const req = rx.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/alerts?x=1');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['x-team']).toBe('data');
    expect(req.headers.authorization).toBe(HEADER_SECRET);
    expect(JSON.parse(req.body)).toEqual({
      event: failure,
      summary:
        'run run_abc failed: 2 steps failed (processed:orders: contract check failed: 12 rows <rejected> & more; model:fct_orders: upstream failed)',
      project: 'shop',
    });
    expect(await dlq.list()).toEqual([]);
  });

  it('posts a Slack incoming-webhook body: fallback text and a mrkdwn section, escaped', async () => {
    const rx = await startReceiver();
    process.env.TRIB_TEST_SLACK_URL = `${rx.url}/services/${SLACK_TOKEN}`;
    const n = notifier({
      channels: { slack: { type: 'slack', url: { env: 'TRIB_TEST_SLACK_URL' } } },
    });
    expect((await n.notify(failure)).delivered).toEqual(['slack']);
    const req = rx.requests[0]!;
    expect(req.path).toBe(`/services/${SLACK_TOKEN}`);
    const body = JSON.parse(req.body) as {
      text: string;
      blocks: { type: string; text?: { type: string; text: string }; elements?: unknown[] }[];
    };
    expect(body.text).toMatch(/^\[shop\] run run_abc failed: 2 steps failed/);
    expect(body.blocks[0]!.type).toBe('section');
    expect(body.blocks[0]!.text!.type).toBe('mrkdwn');
    const section = body.blocks[0]!.text!.text;
    expect(section).toMatch(/^\*\[shop\] run run_abc failed/);
    expect(section).toContain(
      'processed:orders: contract check failed: 12 rows &lt;rejected&gt; &amp; more',
    );
    expect(section).not.toContain('<rejected>');
    expect(body.blocks[1]).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'tributary | failure | 2025-03-01T02:00:00.000Z' }],
    });
  });

  it('sends each channel only the event types it asks for, else those of alerts.events', async () => {
    const all = await startReceiver();
    const defaults = await startReceiver();
    const n = notifier({
      channels: {
        all: { type: 'webhook', url: all.url, events: ['success', 'failure'] },
        defaults: { type: 'webhook', url: defaults.url },
      },
    });
    expect(n.channelsFor('success')).toEqual(['all']);
    expect(await n.notify(success)).toEqual({ delivered: ['all'], deadLettered: [], lost: [] });
    expect((await n.notify(failure)).delivered).toEqual(['all', 'defaults']);
    expect((await n.notify(stale(failure.at))).delivered).toEqual(['defaults']);
    expect(all.requests).toHaveLength(2);
    expect(defaults.requests).toHaveLength(2);
  });

  it('retries a receiver that fails twice and delivers on the third try, backing off', async () => {
    const rx = await startReceiver((_req, res, n) =>
      n <= 2 ? answer(res, 500, 'busy') : answer(res, 200, 'ok'),
    );
    const n = notifier({
      channels: { hook: { type: 'webhook', url: rx.url } },
      retry: { attempts: 3, backoff: '1s', max_backoff: '1m', jitter: false },
    });
    expect((await n.notify(failure)).delivered).toEqual(['hook']);
    expect(rx.requests).toHaveLength(3);
    expect(sleeps).toEqual([1000, 2000]);
    expect(logs[0]).toMatch(
      /alerts\.channels\.hook.*answered 500.*busy; retrying in 1000 ms \(attempt 2 of 3\)/,
    );
    expect(await dlq.list()).toEqual([]);
  });

  it('caps the backoff at max_backoff and jitters it between 50 and 100 percent', async () => {
    const rx = await startReceiver((_req, res, n) =>
      n <= 3 ? answer(res, 503) : answer(res, 200, 'ok'),
    );
    const n = notifier(
      {
        channels: { hook: { type: 'webhook', url: rx.url } },
        retry: { attempts: 4, backoff: 1000, max_backoff: 1500, jitter: true },
      },
      { random: () => 0.5 },
    );
    expect((await n.notify(failure)).delivered).toEqual(['hook']);
    expect(sleeps).toEqual([750, 1125, 1125]);
  });

  it('dead-letters an alert a receiver keeps refusing, with attempts and error, and no secret', async () => {
    // The receiver echoes the request line and headers back, as some broken proxies do.
    const rx = await startReceiver((req, res) =>
      answer(res, 503, `cannot take ${req.path} with ${JSON.stringify(req.headers)}`),
    );
    process.env.TRIB_TEST_HOOK_URL = `${rx.url}/hooks/${HOOK_TOKEN}`;
    process.env.TRIB_TEST_HOOK_SECRET = HEADER_SECRET;
    const secretEvent: AlertEvent = {
      ...failure,
      failedSteps: [{ asset: 'sync:crm', message: `POST ${rx.url}/hooks/${HOOK_TOKEN} failed` }],
    };
    const n = notifier({
      channels: {
        hook: {
          type: 'webhook',
          url: { env: 'TRIB_TEST_HOOK_URL' },
          headers: { 'x-signature': { env: 'TRIB_TEST_HOOK_SECRET' } },
        },
      },
      retry: { attempts: 3, backoff: 10, jitter: false },
    });
    expect(await n.notify(secretEvent)).toEqual({
      delivered: [],
      deadLettered: ['hook'],
      lost: [],
    });
    expect(rx.requests).toHaveLength(3);
    expect(rx.requests[0]!.headers['x-signature']).toBe(HEADER_SECRET);
    const [entry, ...rest] = await dlq.list();
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({
      kind: 'notification',
      source: 'hook',
      attempts: 3,
      status: 'pending',
    });
    expect(entry!.error).toContain('alerts.channels.hook');
    expect(entry!.error).toContain(
      `POST ${rx.url}/*** answered 503 Service Unavailable: cannot take ***`,
    );
    const payload = entry!.payload as NotificationPayload;
    expect(payload.channel).toBe('hook');
    expect(payload.event.type).toBe('failure');
    const stored = JSON.stringify(entry);
    for (const secret of [HOOK_TOKEN, HEADER_SECRET]) {
      expect(stored).not.toContain(secret);
      expect(logs.join('\n')).not.toContain(secret);
    }
    expect(logs.at(-1)).toMatch(/not delivered after 3 attempts; kept in the dead-letter store/);
  });

  it('cuts the quoted response body to 200 characters', async () => {
    const rx = await startReceiver((_req, res) => answer(res, 400, `${'x'.repeat(300)}END`));
    const n = notifier({
      channels: { hook: { type: 'webhook', url: rx.url } },
      retry: { attempts: 1 },
    });
    await n.notify(failure);
    const [entry] = await dlq.list();
    expect(entry!.error).toContain(`answered 400 Bad Request: ${'x'.repeat(200)}...`);
    expect(entry!.error).not.toContain('END');
  });

  it('gives up on a receiver that never answers after the timeout', async () => {
    const rx = await startReceiver(() => undefined);
    const n = notifier({
      channels: { hook: { type: 'webhook', url: rx.url } },
      retry: { attempts: 1 },
      timeout: '200ms',
    });
    const started = performance.now();
    expect((await n.notify(failure)).deadLettered).toEqual(['hook']);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(5000);
    const [entry] = await dlq.list();
    expect(entry!.error).toMatch(
      /POST http:\/\/127\.0\.0\.1:\d+\/ failed: no answer within 200 ms/,
    );
    expect(rx.requests).toHaveLength(1);
  });

  it('delivers channels in parallel: one stuck receiver does not hold up another', async () => {
    let fastArrived!: () => void;
    const arrived = new Promise<void>((r) => (fastArrived = r));
    // The slow receiver answers only once the fast one has its request; delivered one after
    // the other, the slow one would time out instead.
    const slow = await startReceiver(async (_req, res) => {
      await arrived;
      answer(res, 500, 'slow and broken');
    });
    const fast = await startReceiver((_req, res) => {
      fastArrived();
      answer(res, 200, 'ok');
    });
    const n = notifier({
      channels: {
        slow: { type: 'webhook', url: slow.url },
        fast: { type: 'webhook', url: fast.url },
      },
      retry: { attempts: 1 },
      timeout: '3s',
    });
    expect(await n.notify(failure)).toEqual({
      delivered: ['fast'],
      deadLettered: ['slow'],
      lost: [],
    });
    const [entry] = await dlq.list();
    expect(entry!.error).toContain('answered 500');
  });

  it('does not retry a channel whose secret is missing, and names the config path', async () => {
    const n = notifier({
      channels: { slack: { type: 'slack', url: { env: 'TRIB_TEST_SLACK_URL' } } },
    });
    expect((await n.notify(failure)).deadLettered).toEqual(['slack']);
    expect(sleeps).toEqual([]);
    const [entry] = await dlq.list();
    expect(entry!.attempts).toBe(1);
    expect(entry!.error).toContain('alerts.channels.slack.url');
    expect(entry!.error).toContain('environment variable TRIB_TEST_SLACK_URL is not set');
  });

  it('with on: transient retries a 503 but not a 400', async () => {
    const rx = await startReceiver((req, res) =>
      req.path === '/bad' ? answer(res, 400, 'bad request') : answer(res, 503),
    );
    const n = notifier({
      channels: {
        bad: { type: 'webhook', url: `${rx.url}/bad` },
        busy: { type: 'webhook', url: `${rx.url}/busy` },
      },
      retry: { attempts: 3, backoff: 10, jitter: false, on: 'transient' },
    });
    expect((await n.notify(failure)).deadLettered).toEqual(['bad', 'busy']);
    const bySource = Object.fromEntries((await dlq.list()).map((e) => [e.source, e.attempts]));
    expect(bySource).toEqual({ bad: 1, busy: 3 });
  });

  it('keeps one pending dead letter per channel and stale asset, counting attempts', async () => {
    const rx = await startReceiver((_req, res) => answer(res, 500));
    const n = notifier({
      channels: { hook: { type: 'webhook', url: rx.url } },
      retry: { attempts: 2, backoff: 10, jitter: false },
    });
    await n.notify(stale('2025-03-02T03:00:00.000Z'));
    await n.notify(stale('2025-03-02T04:00:00.000Z'));
    const entries = await dlq.list();
    expect(entries).toHaveLength(1);
    expect(entries[0]!.attempts).toBe(4);
    expect((entries[0]!.payload as NotificationPayload).event.at).toBe('2025-03-02T04:00:00.000Z');
  });

  it('replays a dead-lettered alert once the receiver is back, exactly once', async () => {
    let up = false;
    const rx = await startReceiver((_req, res) => (up ? answer(res, 200) : answer(res, 502)));
    const n = notifier({
      channels: { hook: { type: 'webhook', url: rx.url } },
      retry: { attempts: 1 },
    });
    await n.notify(failure);
    const [entry] = await dlq.list();
    up = true;
    const replayed = await dlq.replay(entry!.id, n.replayHandlers());
    expect(replayed.status).toBe('replayed');
    expect(rx.requests).toHaveLength(2);
    expect(JSON.parse(rx.requests[1]!.body)).toMatchObject({ event: failure, project: 'shop' });
    await expect(dlq.replay(entry!.id, n.replayHandlers())).rejects.toThrow(/already replayed/);
    expect(rx.requests).toHaveLength(2);
  });

  it('leaves a replay that fails again pending, with one more attempt and a masked error', async () => {
    const rx = await startReceiver((req, res) => answer(res, 500, `no ${req.path}`));
    process.env.TRIB_TEST_SLACK_URL = `${rx.url}/services/${SLACK_TOKEN}`;
    const n = notifier({
      channels: { slack: { type: 'slack', url: { env: 'TRIB_TEST_SLACK_URL' } } },
      retry: { attempts: 2, backoff: 10 },
    });
    await n.notify(failure);
    const [entry] = await dlq.list();
    expect(entry!.attempts).toBe(2);
    const err = await dlq.replay(entry!.id, n.replayHandlers()).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('answered 500');
    expect((err as Error).message).not.toContain(SLACK_TOKEN);
    const after = (await dlq.get(entry!.id))!;
    expect(after).toMatchObject({ status: 'pending', attempts: 3 });
    expect(after.error).toContain('answered 500');
    expect(JSON.stringify(after)).not.toContain(SLACK_TOKEN);
  });

  it('refuses to redeliver to a channel no longer configured', async () => {
    const entry = await dlq.add({
      kind: 'notification',
      source: 'gone',
      payload: { channel: 'gone', event: failure },
      error: 'x',
      attempts: 1,
    });
    const n = notifier({ channels: {} });
    await expect(dlq.replay(entry.id, n.replayHandlers())).rejects.toThrow(
      /channel gone, which is no longer in alerts\.channels/,
    );
    expect((await dlq.get(entry.id))!.status).toBe('pending');
  });

  it('refuses to redeliver a payload that is not a notification', async () => {
    const entry = await dlq.add({
      kind: 'notification',
      source: 'hook',
      payload: { channel: 'hook', event: { type: 'bogus' } },
      error: 'x',
      attempts: 1,
    });
    const n = notifier({ channels: { hook: { type: 'webhook', url: 'http://127.0.0.1:9/' } } });
    await expect(n.redeliver(entry)).rejects.toThrow(/does not hold a notification/);
  });

  it('reports a channel as lost when the dead-letter store cannot take its alert', async () => {
    const rx = await startReceiver((_req, res) => answer(res, 500));
    const n = notifier({
      channels: { hook: { type: 'webhook', url: rx.url } },
      retry: { attempts: 1 },
    });
    await engine.close();
    expect(await n.notify(failure)).toEqual({ delivered: [], deadLettered: [], lost: ['hook'] });
    expect(logs.at(-1)).toMatch(/alerts\.channels\.hook: failure alert lost/);
    engine = await openDuckDB({ path: ':memory:' });
  });
});

describe('checkAlertsConfig', () => {
  it('finds unknown event names, an email user without a password and a plain non-URL', () => {
    const problems = checkAlertsConfig(
      alertsSchema.parse({
        channels: {
          hook: { type: 'webhook', url: 'not a url', events: ['failure', 'sucess'] },
          mail: { type: 'email', host: 'smtp', from: 'a@b.c', to: ['d@e.f'], user: 'bot' },
          slack: { type: 'slack', url: 'ftp://x' },
        },
      }),
    );
    expect(problems.map((p) => p.format())).toEqual([
      '(alerts.channels.hook.events[1]): unknown alert event "sucess"\n  hint: expected one of failure, retries_exhausted, success, freshness, refused_files, stream_gap',
      '(alerts.channels.hook.url): "not a url" is not an http(s) URL',
      '(alerts.channels.mail.password): an email channel with a user needs a password\n  hint: password: { env: SMTP_PASSWORD } (or { file: path })',
      '(alerts.channels.slack.url): not an http(s) URL\n  hint: a Slack webhook URL is a secret: url: { env: SLACK_WEBHOOK_URL }',
    ]);
  });

  it('is what the Notifier constructor throws on', async () => {
    const engine = await openDuckDB({ path: ':memory:' });
    try {
      const dlq = await DeadLetterStore.open(engine);
      expect(
        () =>
          new Notifier({
            config: alertsSchema.parse({
              channels: { hook: { type: 'webhook', url: 'http://x', events: ['nope'] } },
            }),
            project: 'p',
            dlq,
          }),
      ).toThrow(/unknown alert event "nope"/);
    } finally {
      await engine.close();
    }
  });
});
