/**
 * The email channel against a real SMTP server (smtp-server on 127.0.0.1, no TLS): the message's
 * envelope, headers and body, logging in with a password read from the environment, a refused
 * login that leaves no password in the dead-letter store, and a server that never greets.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDuckDB, type Engine } from '../../src/engines/index.js';
import { DeadLetterStore, Notifier, type AlertEvent } from '../../src/notify/index.js';
import { alertsSchema } from '../../src/project/index.js';
import { parseMail, startSilentServer, startSmtp } from './receivers.js';

const event: AlertEvent = {
  type: 'retries_exhausted',
  runId: 'run_mail',
  asset: 'source:shop.orders',
  attempts: 3,
  error: 'GET https://api.example.com/orders answered 503 Service Unavailable',
  at: '2025-03-01T02:00:00.000Z',
};
const PASSWORD = 'smtpPassw0rd!secret';

describe('email channel', () => {
  let engine: Engine;
  let dlq: DeadLetterStore;
  beforeEach(async () => {
    engine = await openDuckDB({ path: ':memory:' });
    dlq = await DeadLetterStore.open(engine);
    process.env.TRIB_TEST_SMTP_PASSWORD = PASSWORD;
  });
  afterEach(async () => {
    delete process.env.TRIB_TEST_SMTP_PASSWORD;
    await engine.close();
  });

  function notifier(channel: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    return new Notifier({
      config: alertsSchema.parse({
        channels: {
          mail: {
            type: 'email',
            host: '127.0.0.1',
            from: 'tributary@example.com',
            to: ['oncall@example.com', 'data@example.com'],
            ...channel,
          },
        },
        ...extra,
      }),
      project: 'shop',
      dlq,
      sleep: async () => undefined,
    });
  }

  it('sends the alert with its from, to, subject and details', async () => {
    const smtp = await startSmtp();
    const n = notifier({ port: smtp.port });
    expect(await n.notify(event)).toEqual({ delivered: ['mail'], deadLettered: [], lost: [] });
    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail.from).toBe('tributary@example.com');
    expect(mail.to).toEqual(['oncall@example.com', 'data@example.com']);
    expect(mail.user).toBeUndefined();
    const { headers, body } = parseMail(mail.raw);
    expect(headers.from).toBe('tributary@example.com');
    expect(headers.to).toBe('oncall@example.com, data@example.com');
    expect(headers.subject).toBe(
      '[tributary] source:shop.orders failed after 3 attempts in run run_mail: GET https://api.example.com/orders answered 503 Service Unavailable',
    );
    expect(body).toContain('project: shop\nevent: retries_exhausted\nrun: run_mail\n');
    expect(body).toContain('asset: source:shop.orders\nattempts: 3\n');
    expect(body).toContain('error: GET https://api.example.com/orders answered 503');
  });

  it('logs in with the user and the password read from the environment', async () => {
    const smtp = await startSmtp({ user: 'alerts', password: PASSWORD });
    const n = notifier({
      port: smtp.port,
      user: 'alerts',
      password: { env: 'TRIB_TEST_SMTP_PASSWORD' },
    });
    expect((await n.notify(event)).delivered).toEqual(['mail']);
    expect(smtp.mails[0]!.user).toBe('alerts');
  });

  it('dead-letters an alert whose login is refused, without the password anywhere', async () => {
    const smtp = await startSmtp({ user: 'alerts', password: 'another one' });
    const n = notifier(
      { port: smtp.port, user: 'alerts', password: { env: 'TRIB_TEST_SMTP_PASSWORD' } },
      { retry: { attempts: 2, backoff: 1, on: 'transient' } },
    );
    expect((await n.notify(event)).deadLettered).toEqual(['mail']);
    expect(smtp.mails).toEqual([]);
    const [entry] = await dlq.list();
    // A refused login will not pass on its own: with on: transient it is not retried.
    expect(entry!.attempts).toBe(1);
    expect(entry!.error).toMatch(/SMTP 127\.0\.0\.1:\d+ failed: .*Invalid/);
    expect(entry!.error).toContain('hint: check alerts.channels.mail.user');
    const stored = JSON.stringify(entry);
    expect(stored).not.toContain(PASSWORD);
    expect(stored).not.toContain(Buffer.from(PASSWORD).toString('base64'));
  });

  it('gives up on a server that never greets after the timeout', async () => {
    const silent = await startSilentServer();
    const n = notifier({ port: silent.port }, { retry: { attempts: 1 }, timeout: '300ms' });
    const started = performance.now();
    expect((await n.notify(event)).deadLettered).toEqual(['mail']);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(5000);
    const [entry] = await dlq.list();
    expect(entry!.error).toMatch(
      /SMTP 127\.0\.0\.1:\d+ failed: .*(Greeting never received|no answer within 300 ms)/,
    );
  });
});
