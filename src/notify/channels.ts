/**
 * Alert channels (the seeds' SNS subscriptions): one delivery of one alert to a webhook (JSON
 * POST), a Slack-compatible incoming webhook, or an email through an SMTP server. A delivery
 * either succeeds or throws a DeliveryError whose message names the channel's config path and
 * has every secret masked; retries and the dead-letter store are the Notifier's business.
 * Secrets are read at delivery time, so a token rotated in the environment is picked up by the
 * next alert without a restart.
 */
import { createTransport } from 'nodemailer';
import { TributaryError, describeError, type Redactor } from '../core/index.js';
import { readSecret, type AlertChannelConfig, type SecretRef } from '../project/index.js';
import { alertDetails, type AlertEvent } from './events.js';

/** What is sent: the event, its one-line summary and the project it comes from. */
export interface AlertMessage {
  event: AlertEvent;
  summary: string;
  project: string;
}

export interface DeliveryContext {
  /** Config path of the channel, e.g. `alerts.channels.ops`, for error locations. */
  where: string;
  /** Longest one delivery may take, in milliseconds. */
  timeoutMs: number;
  /** Learns every secret read, and masks them in every message. */
  redactor: Redactor;
  /** Folder that `{ file: … }` secrets are relative to (the project folder). */
  dir?: string;
}

/**
 * A failed delivery. `transient` says whether trying again may help (no answer, a timeout,
 * 408/429/5xx, an SMTP 4xx); the message never contains a secret.
 */
class DeliveryError extends TributaryError {
  constructor(
    message: string,
    options: { transient: boolean; path: string; hint?: string; config?: boolean },
  ) {
    super(message, {
      code: options.config ? 'CONFIG' : 'INPUT',
      location: { path: options.path },
      ...(options.hint ? { hint: options.hint } : {}),
      transient: options.transient,
    });
    this.name = 'DeliveryError';
  }
}

/** How much of a failed response body an error quotes. */
const BODY_CHARS = 200;
/** Slack's limit on a section block's text. */
const SLACK_SECTION_CHARS = 3000;
/** Header names whose plain values are masked in messages anyway. */
const SENSITIVE_HEADER = /auth|token|secret|key|cookie|signature|password/i;

/** Delivers one alert to one channel; throws a DeliveryError (secrets masked) when it fails. */
export async function deliver(
  channel: AlertChannelConfig,
  message: AlertMessage,
  ctx: DeliveryContext,
): Promise<void> {
  try {
    switch (channel.type) {
      case 'webhook':
        return await deliverWebhook(channel, message, ctx);
      case 'slack':
        return await deliverSlack(channel, message, ctx);
      case 'email':
        return await deliverEmail(channel, message, ctx);
    }
  } catch (err) {
    if (err instanceof DeliveryError) throw err;
    // Anything else (a library throwing something unexpected) still leaves without secrets.
    throw new DeliveryError(ctx.redactor.redact(describeError(err)), {
      transient: false,
      path: ctx.where,
    });
  }
}

type WebhookChannel = Extract<AlertChannelConfig, { type: 'webhook' }>;
type SlackChannel = Extract<AlertChannelConfig, { type: 'slack' }>;
type EmailChannel = Extract<AlertChannelConfig, { type: 'email' }>;

async function deliverWebhook(
  channel: WebhookChannel,
  message: AlertMessage,
  ctx: DeliveryContext,
): Promise<void> {
  const target = resolveUrl(channel.url, false, ctx);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(channel.headers)) {
    headers[name] = resolveValue(value, `${ctx.where}.headers.${name}`, ctx);
    if (typeof value === 'string' && SENSITIVE_HEADER.test(name)) ctx.redactor.add(value);
  }
  await postJson(target, message, headers, ctx);
}

async function deliverSlack(
  channel: SlackChannel,
  message: AlertMessage,
  ctx: DeliveryContext,
): Promise<void> {
  // A Slack webhook URL is a credential on its own: it is masked even when written in plain text.
  const target = resolveUrl(channel.url, true, ctx);
  await postJson(target, slackBody(message), {}, ctx);
}

/** A Slack incoming-webhook body: fallback text, and a mrkdwn section with the details. */
function slackBody(message: AlertMessage): { text: string; blocks: unknown[] } {
  const { event, summary, project } = message;
  const details = alertDetails(event).map(slackEscape).join('\n');
  let section = `*${slackEscape(`[${project}] ${summary}`)}*\n\`\`\`${details}\`\`\``;
  if (section.length > SLACK_SECTION_CHARS)
    section = `${section.slice(0, SLACK_SECTION_CHARS - 7)}...\`\`\``;
  return {
    text: `[${project}] ${summary}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: section } },
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: slackEscape(`tributary | ${event.type} | ${event.at}`) },
        ],
      },
    ],
  };
}

/** Slack's three control characters in mrkdwn (https://api.slack.com/reference/surfaces/formatting). */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

async function deliverEmail(
  channel: EmailChannel,
  message: AlertMessage,
  ctx: DeliveryContext,
): Promise<void> {
  const auth =
    channel.user === undefined
      ? undefined
      : {
          user: channel.user,
          pass: channel.password
            ? resolveValue(channel.password, `${ctx.where}.password`, ctx)
            : '',
        };
  if (auth?.pass) {
    ctx.redactor.add(auth.pass, Buffer.from(auth.pass).toString('base64'));
    ctx.redactor.add(Buffer.from(`\u0000${auth.user}\u0000${auth.pass}`).toString('base64'));
  }
  const transport = createTransport({
    host: channel.host,
    port: channel.port,
    secure: channel.secure,
    ...(auth ? { auth } : {}),
    connectionTimeout: ctx.timeoutMs,
    greetingTimeout: ctx.timeoutMs,
    socketTimeout: ctx.timeoutMs,
  });
  const shown = `SMTP ${channel.host}:${channel.port}`;
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            Object.assign(new Error(`no answer within ${ctx.timeoutMs} ms`), { code: 'ETIMEDOUT' }),
          ),
        ctx.timeoutMs,
      );
    });
    await Promise.race([
      transport.sendMail({
        from: channel.from,
        to: channel.to,
        subject: emailSubject(message),
        text: emailText(message),
      }),
      deadline,
    ]);
  } catch (err) {
    const e = err as { code?: string; responseCode?: number; message?: string };
    const transient =
      (e.responseCode !== undefined && e.responseCode >= 400 && e.responseCode < 500) ||
      ['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED'].includes(e.code ?? '');
    throw new DeliveryError(ctx.redactor.redact(`${shown} failed: ${describeError(err)}`), {
      transient,
      path: ctx.where,
      ...(e.code === 'EAUTH'
        ? { hint: `check ${ctx.where}.user and the password it reads (env var or file)` }
        : {}),
    });
  } finally {
    clearTimeout(timer);
    transport.close();
  }
}

/** `[tributary] <summary>`, on one line. */
function emailSubject(message: AlertMessage): string {
  return `[tributary] ${message.summary.replace(/\s+/g, ' ').trim()}`;
}

/** The plain-text body: the summary, then one line per detail of the event. */
function emailText(message: AlertMessage): string {
  return [
    message.summary,
    '',
    `project: ${message.project}`,
    `event: ${message.event.type}`,
    ...alertDetails(message.event),
    '',
    '-- ',
    'Sent by Tributary. Alerts that cannot be delivered wait in the dead-letter store for replay.',
    '',
  ].join('\n');
}

/** A URL as messages may show it, and the URL itself. */
interface Target {
  url: URL;
  shown: string;
}

/** Reads a channel URL (plain or a secret), registers its secret parts, and checks it. */
function resolveUrl(
  value: string | SecretRef,
  alwaysSecret: boolean,
  ctx: DeliveryContext,
): Target {
  const where = `${ctx.where}.url`;
  const raw = resolveValue(value, where, ctx);
  const secret = alwaysSecret || typeof value !== 'string';
  if (secret) ctx.redactor.add(raw);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DeliveryError(
      secret ? `the URL in ${where} is not a valid URL` : `${raw} is not a valid URL`,
      { transient: false, path: where, config: true, hint: 'expected https://host/path' },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new DeliveryError(`the URL in ${where} is not http or https`, {
      transient: false,
      path: where,
      config: true,
    });
  if (secret) {
    // The token is in the path or query: mask them wherever they turn up (an echoing server).
    const rest = `${url.pathname}${url.search}`;
    ctx.redactor.add(url.href, ...(rest.length > 1 ? [rest] : []));
    if (url.pathname.length > 1) ctx.redactor.add(url.pathname);
    if (url.search.length > 1) ctx.redactor.add(url.search.slice(1));
    if (url.username || url.password) ctx.redactor.add(url.username, url.password);
    return { url, shown: `${url.origin}/***` };
  }
  return { url, shown: ctx.redactor.redact(url.href) };
}

/** A plain value as is, or a secret read now and registered with the redactor. */
function resolveValue(value: string | SecretRef, where: string, ctx: DeliveryContext): string {
  if (typeof value === 'string') return value;
  let secret: string;
  try {
    secret = readSecret(value, where, ctx.dir);
  } catch (err) {
    const e = err as TributaryError;
    throw new DeliveryError(ctx.redactor.redact(e.message), {
      transient: false,
      path: e.location?.path ?? where,
      config: true,
      ...(e.hint ? { hint: e.hint } : {}),
    });
  }
  ctx.redactor.add(secret);
  return secret;
}

/** POSTs a JSON body; a non-2xx answer or no answer in time is a DeliveryError. */
async function postJson(
  target: Target,
  body: unknown,
  headers: Record<string, string>,
  ctx: DeliveryContext,
): Promise<void> {
  const r = (s: string) => ctx.redactor.redact(s);
  let response: Response;
  let text: string;
  try {
    response = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'tributary', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(ctx.timeoutMs),
    });
    text = await response.text();
  } catch (err) {
    throw new DeliveryError(r(`POST ${target.shown} failed: ${fetchFailure(err, ctx.timeoutMs)}`), {
      transient: true,
      path: ctx.where,
      hint: 'check that the receiver is reachable from this machine (URL, network, proxy)',
    });
  }
  if (response.ok) return;
  // Masked before it is cut, so a secret straddling the cut is never half shown.
  const flat = r(text).replace(/\s+/g, ' ').trim();
  const quoted = !flat
    ? '(empty body)'
    : flat.length > BODY_CHARS
      ? `${flat.slice(0, BODY_CHARS)}...`
      : flat;
  const status = response.status;
  throw new DeliveryError(
    r(`POST ${target.shown} answered ${status} ${response.statusText}`.trim()) + `: ${quoted}`,
    {
      transient: status === 408 || status === 429 || status >= 500,
      path: ctx.where,
      ...(status === 401 || status === 403 || status === 404
        ? { hint: `check the URL and credentials of ${ctx.where}` }
        : {}),
    },
  );
}

function fetchFailure(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `${e?.message ?? String(err)}${cause ? ` (${cause})` : ''}`;
}
