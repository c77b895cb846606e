/**
 * The Notifier (the seeds' SNS topic with an SQS dead-letter queue): sends an alert event to
 * every channel that wants it, each independently and in parallel, retrying with backoff; what
 * still fails goes to the dead-letter store for replay instead of being lost or thrown at the
 * run that raised it.
 */
import {
  Redactor,
  TributaryError,
  backoffDelay,
  describeError,
  isTransientError,
} from '../core/index.js';
import type { AlertChannelConfig, AlertEventType, AlertsConfig } from '../project/index.js';
import { deliver, type AlertMessage } from './channels.js';
import type { DeadLetter, DeadLetterStore, ReplayHandlers } from './dead-letters.js';
import { ALERT_EVENT_TYPES, describeAlert, isAlertEvent, type AlertEvent } from './events.js';

export interface NotifierOptions {
  config: AlertsConfig;
  /** Project name, sent with every alert. */
  project: string;
  dlq: DeadLetterStore;
  /** Project folder, for `{ file: … }` secrets. */
  dir?: string;
  /** Waits between tries; injectable so tests run on fake time. */
  sleep?: (ms: number) => Promise<void>;
  /** A number in [0, 1), for jitter. */
  random?: () => number;
  /** Told about retries and dead-lettered alerts (lines are free of secrets). */
  log?: (line: string) => void;
}

/** What became of one event: channels that took it, that it was dead-lettered for, and lost. */
export interface NotifyReport {
  delivered: string[];
  deadLettered: string[];
  /** Channels whose failed alert could not even be written to the dead-letter store. */
  lost: string[];
}

/** What a dead-lettered notification holds: enough to send it again. */
export interface NotificationPayload {
  channel: string;
  event: AlertEvent;
}

/**
 * Problems in an alerts config that its schema cannot express (channel event names, an email
 * user without a password, a plain URL that is not one), each naming its config path.
 */
export function checkAlertsConfig(config: AlertsConfig): TributaryError[] {
  const problems: TributaryError[] = [];
  const problem = (path: string, message: string, hint?: string) =>
    problems.push(
      new TributaryError(message, {
        code: 'CONFIG',
        location: { path },
        ...(hint ? { hint } : {}),
      }),
    );
  for (const [name, channel] of Object.entries(config.channels)) {
    const where = `alerts.channels.${name}`;
    channel.events?.forEach((e, i) => {
      if (!(ALERT_EVENT_TYPES as readonly string[]).includes(e))
        problem(
          `${where}.events[${i}]`,
          `unknown alert event ${JSON.stringify(e)}`,
          `expected one of ${ALERT_EVENT_TYPES.join(', ')}`,
        );
    });
    if (channel.type === 'email') {
      if (channel.user !== undefined && !channel.password)
        problem(
          `${where}.password`,
          'an email channel with a user needs a password',
          'password: { env: SMTP_PASSWORD } (or { file: path })',
        );
      if (channel.password && channel.user === undefined)
        problem(`${where}.user`, 'an email channel with a password needs a user');
    } else if (typeof channel.url === 'string') {
      if (!isHttpUrl(channel.url))
        problem(
          `${where}.url`,
          channel.type === 'slack'
            ? 'not an http(s) URL'
            : `${JSON.stringify(channel.url)} is not an http(s) URL`,
          channel.type === 'slack'
            ? 'a Slack webhook URL is a secret: url: { env: SLACK_WEBHOOK_URL }'
            : undefined,
        );
    }
  }
  return problems;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Sends alert events to the configured channels, with retries and a dead-letter store. */
export class Notifier {
  private readonly config: AlertsConfig;
  private readonly project: string;
  private readonly dlq: DeadLetterStore;
  private readonly dir: string | undefined;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly log: (line: string) => void;
  /** Learns each secret as a channel reads it; shared so no message of any channel leaks one. */
  private readonly redactor = new Redactor();

  /** Throws a CONFIG error for the first problem `checkAlertsConfig` finds. */
  constructor(options: NotifierOptions) {
    const problems = checkAlertsConfig(options.config);
    if (problems.length) throw problems[0]!;
    this.config = options.config;
    this.project = options.project;
    this.dlq = options.dlq;
    this.dir = options.dir;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.log = options.log ?? (() => undefined);
  }

  /** Channel names that receive events of this type (channel `events`, else `alerts.events`). */
  channelsFor(type: AlertEventType): string[] {
    return Object.entries(this.config.channels)
      .filter(([, c]) => (c.events ?? this.config.events).includes(type))
      .map(([name]) => name);
  }

  /**
   * Sends an event to every channel that wants it, in parallel, each with the retry policy.
   * Never throws for a failed delivery: after the last try the alert goes to the dead-letter
   * store (kind `notification`), and the report says which channels got it.
   */
  async notify(event: AlertEvent): Promise<NotifyReport> {
    const names = this.channelsFor(event.type);
    const outcomes = await Promise.all(
      names.map(async (name): Promise<keyof NotifyReport> => {
        const failure = await this.deliverWithRetries(name, event);
        if (!failure) return 'delivered';
        const payload: NotificationPayload = { channel: name, event: this.redactDeep(event) };
        try {
          await this.dlq.add({
            kind: 'notification',
            source: name,
            payload,
            error: failure.error,
            attempts: failure.attempts,
            dedupeKey: dedupeKey(name, event),
          });
          this.log(
            `alerts.channels.${name}: ${event.type} alert not delivered after ${failure.attempts} attempt${failure.attempts === 1 ? '' : 's'}; kept in the dead-letter store: ${firstLine(failure.error)}`,
          );
          return 'deadLettered';
        } catch (err) {
          this.log(
            `alerts.channels.${name}: ${event.type} alert lost: not delivered (${firstLine(failure.error)}) and not stored: ${this.redactor.redact(describeError(err))}`,
          );
          return 'lost';
        }
      }),
    );
    const report: NotifyReport = { delivered: [], deadLettered: [], lost: [] };
    names.forEach((name, i) => report[outcomes[i]!].push(name));
    return report;
  }

  /**
   * Sends a dead-lettered notification once to its channel; throws (secrets masked) when it
   * fails or the channel is no longer configured. The `notification` replay handler.
   */
  async redeliver(entry: DeadLetter): Promise<void> {
    if (entry.kind !== 'notification')
      throw new TributaryError(`dead letter ${entry.id} is a ${entry.kind}, not a notification`, {
        code: 'USAGE',
      });
    const payload = entry.payload as Partial<NotificationPayload> | null;
    if (
      typeof payload !== 'object' ||
      payload === null ||
      typeof payload.channel !== 'string' ||
      !isAlertEvent(payload.event)
    )
      throw new TributaryError(
        `dead letter ${entry.id} does not hold a notification (a channel and an alert event)`,
        { code: 'INPUT' },
      );
    const channel = this.config.channels[payload.channel];
    if (!channel)
      throw new TributaryError(
        `dead letter ${entry.id} is for channel ${payload.channel}, which is no longer in alerts.channels`,
        {
          code: 'CONFIG',
          location: { path: 'alerts.channels' },
          hint: 'add the channel back to replay it, or purge the entry',
        },
      );
    await this.deliverOnce(payload.channel, channel, payload.event);
  }

  /** Replay handlers for the dead-letter store: notifications go back through `redeliver`. */
  replayHandlers(): ReplayHandlers {
    return { notification: (entry) => this.redeliver(entry) };
  }

  /** Tries a channel up to `retry.attempts` times; the last failure, or undefined when delivered. */
  private async deliverWithRetries(
    name: string,
    event: AlertEvent,
  ): Promise<{ error: string; attempts: number } | undefined> {
    const channel = this.config.channels[name]!;
    const policy = this.config.retry;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deliverOnce(name, channel, event);
        return undefined;
      } catch (err) {
        const error = this.redactor.redact(describeError(err));
        // A config problem (a missing secret, a bad URL) will not mend itself between tries.
        const config = err instanceof TributaryError && err.code === 'CONFIG';
        const retryable = !config && (policy.on === 'all' || isTransientError(err));
        if (!retryable || attempt >= policy.attempts) return { error, attempts: attempt };
        const wait = backoffDelay(policy, attempt, this.random);
        this.log(
          `alerts.channels.${name}: ${firstLine(error)}; retrying in ${wait} ms (attempt ${attempt + 1} of ${policy.attempts})`,
        );
        await this.sleep(wait);
      }
    }
  }

  private async deliverOnce(
    name: string,
    channel: AlertChannelConfig,
    event: AlertEvent,
  ): Promise<void> {
    const message: AlertMessage = { event, summary: describeAlert(event), project: this.project };
    await deliver(channel, message, {
      where: `alerts.channels.${name}`,
      timeoutMs: this.config.timeout,
      redactor: this.redactor,
      ...(this.dir === undefined ? {} : { dir: this.dir }),
    });
  }

  /** The event with every known secret masked in its strings, for storing. */
  private redactDeep<T>(value: T): T {
    if (typeof value === 'string') return this.redactor.redact(value) as T;
    if (Array.isArray(value)) return value.map((v: unknown) => this.redactDeep(v)) as T;
    if (typeof value === 'object' && value !== null)
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, this.redactDeep(v)]),
      ) as T;
    return value;
  }
}

/**
 * Alerts about the same thing collapse into one pending dead letter per channel: a stale asset
 * checked every minute while Slack is down is one entry with many attempts, not hundreds.
 */
function dedupeKey(channel: string, event: AlertEvent): string {
  switch (event.type) {
    case 'failure':
    case 'success':
    case 'refused_files':
      return `${channel}:${event.type}:${event.runId}`;
    case 'retries_exhausted':
      return `${channel}:${event.type}:${event.runId}:${event.asset}`;
    case 'freshness':
      return `${channel}:${event.type}:${event.asset}`;
    case 'stream_gap':
      return `${channel}:${event.type}:${event.stream}:${event.shardId}:${event.after}`;
    case 'sync_failures':
      return `${channel}:${event.type}:${event.runId}:${event.sync}`;
  }
}

function isHttpUrl(text: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0]!;
}
