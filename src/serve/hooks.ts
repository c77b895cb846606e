/**
 * What every request to the API passes through, whatever its route: security headers on every
 * response; authentication by bearer token or session cookie and the role a route needs; the
 * same-origin rule for changes a browser's cookie could make on its own (CSRF); JSON as the only
 * body a change may carry; and the audit log, written before a change runs and after it ends.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { allows, type Role, type TokenInfo, type TokenStore } from './auth.js';
import { outcomeOf, type AuditEnd, type AuditStart } from './audit.js';
import { HttpError } from './errors.js';

/** The cookie the web UI's session id travels in. */
export const SESSION_COOKIE = 'tributary_session';

/** Methods that change something: audited, and same-origin only when a cookie authenticates. */
export const MUTATING_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The Content-Security-Policy of every response: the UI's own scripts, styles and API only.
 * Styles allow 'unsafe-inline' because ECharts writes its tooltips as HTML with style
 * attributes (in Chromium, without it every tooltip is a violation and loses its layout); a
 * style cannot run code. Scripts get no such exception and no 'unsafe-eval'.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers every response carries. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // Not no-referrer: under it a browser sends `Origin: null` even on the UI's own POSTs, which
  // the same-origin rule below would then have to refuse.
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

declare module 'fastify' {
  interface FastifyRequest {
    /** The token holder, once authenticated (also when then refused for a too-low role). */
    user?: TokenInfo;
    /** How the request authenticated: an Authorization header or the session cookie. */
    credential?: 'bearer' | 'session';
    /** Why a credential was refused and which token it named, for the audit log. */
    refusal?: { reason: string; tokenId: string | null };
    /** The request's audit entry, once written. */
    auditId?: string;
    /** Whether the entry's outcome was written (or tried), so it is written once. */
    auditFinished?: boolean;
    /** The error the request ended with (code and message), for the audit log. */
    failure?: string;
  }
  interface FastifyContextConfig {
    /** The least role a route needs (routes.ts: every route names one or is public). */
    role?: Role;
    /** A route anyone may call (health, login); said outright, never assumed from no role. */
    public?: boolean;
  }
}

type Credential = { kind: 'bearer' | 'session'; value: string };

function credentialOf(req: FastifyRequest): Credential | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return { kind: 'bearer', value: auth.slice(7).trim() };
  const session = sessionCookie(req);
  return session === undefined ? undefined : { kind: 'session', value: session };
}

/** The session id the request's cookie holds, if any. */
export function sessionCookie(req: FastifyRequest): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k !== SESSION_COOKIE) continue;
    try {
      return decodeURIComponent(v.join('='));
    } catch {
      return v.join('='); // not valid percent-encoding: refused as a malformed session
    }
  }
  return undefined;
}

/** The Set-Cookie value that stores a session id, or (without one) clears it. */
export function sessionCookieHeader(req: FastifyRequest, sessionId?: string): string {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return sessionId === undefined
    ? `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure}`
    : `${SESSION_COOKIE}=${sessionId}; HttpOnly; SameSite=Strict; Path=/${secure}`;
}

const originOf = (url: string): string | undefined => {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
};

/**
 * Refuses a change that may come from another site's page: its Origin must be this server's
 * own (the scheme it is reached by and the Host the browser addressed). Absent an Origin,
 * Sec-Fetch-Site must say same-origin, or the Referer must be on this origin.
 */
function requireSameOrigin(req: FastifyRequest): void {
  const own = originOf(`${req.protocol}://${req.host}`);
  const refuse = (why: string) =>
    new HttpError(
      403,
      `cross-site request refused: ${why}`,
      'changes made with the session cookie must come from the Tributary UI itself; API clients send Authorization: Bearer <token>',
    );
  const origin = req.headers.origin;
  if (origin !== undefined) {
    if (own && originOf(origin) === own) return;
    throw refuse(`it comes from ${origin}, not ${own ?? 'this server'}`);
  }
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) {
    if (site === 'same-origin') return;
    throw refuse(`Sec-Fetch-Site is ${String(site)}`);
  }
  const referer = req.headers.referer;
  if (referer !== undefined && own && originOf(referer) === own) return;
  throw refuse('it has no Origin header saying where it comes from');
}

/** Who the request is from, as far as known: for its audit entry. */
function auditStart(req: FastifyRequest): AuditStart {
  return {
    tokenId: req.user?.id ?? req.refusal?.tokenId ?? null,
    tokenName: req.user?.name ?? null,
    role: req.user?.role ?? null,
    credential: req.credential ?? null,
    method: req.method,
    path: req.url.split('?')[0]!,
    summary: summarize(req.body),
  };
}

/** What an audit entry says about a request body: its fields, secrets masked, long text cut. */
export function summarize(body: unknown): string {
  if (!body || typeof body !== 'object') return '';
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    out[k] = /token|password|secret/i.test(k)
      ? '***'
      : typeof v === 'string' && v.length > 500
        ? `${v.slice(0, 500)}…`
        : v;
  }
  return JSON.stringify(out);
}

/** How a request ended, for its audit entry. */
function endOf(req: FastifyRequest, reply: FastifyReply, clientGone: boolean): AuditEnd {
  const status = reply.statusCode;
  const error =
    status < 400
      ? null
      : status === 401 && req.refusal
        ? req.refusal.reason
        : (req.failure ?? null);
  const gone = clientGone ? 'the client disconnected before the response' : null;
  return {
    status,
    outcome: outcomeOf(status),
    error: error && gone ? `${error}; ${gone}` : (error ?? gone),
  };
}

/** Authenticates every request and refuses what its credential or origin does not allow. */
async function authenticate(tokens: TokenStore, req: FastifyRequest): Promise<void> {
  const needed = req.routeOptions.config?.role;
  const mutating = MUTATING_METHODS.has(req.method);
  const credential = credentialOf(req);
  // Changes are attributed even on public routes (logout), so the credential is checked then too.
  if (credential && (needed || mutating)) {
    req.credential = credential.kind;
    const checked =
      credential.kind === 'bearer'
        ? await tokens.check(credential.value)
        : await tokens.checkSession(credential.value);
    if (checked.ok) req.user = checked.info;
    else req.refusal = { reason: checked.reason, tokenId: checked.tokenId };
  }
  // A bearer token is never sent by a browser on its own, so only cookie and credential-less
  // changes (login, logout) can be forged by another site.
  if (mutating && credential?.kind !== 'bearer' && (credential || !needed)) requireSameOrigin(req);
  if (!needed) return;
  if (!credential)
    throw new HttpError(
      401,
      'a token is needed',
      'send Authorization: Bearer <token>, or log in; `tributary token create --role viewer` makes one',
    );
  if (!req.user)
    throw credential.kind === 'bearer'
      ? new HttpError(401, 'unknown or revoked token')
      : new HttpError(401, 'the session has ended: log in again');
  if (!allows(req.user.role, needed))
    throw new HttpError(403, `this needs the ${needed} role; this token has ${req.user.role}`);
}

/** Installs the headers, authentication, body and audit rules on the app, before any route. */
export function installGuards(app: FastifyInstance, tokens: TokenStore): void {
  const { audit } = tokens;
  app.decorateRequest('user', undefined);
  app.decorateRequest('credential', undefined);
  app.decorateRequest('refusal', undefined);
  app.decorateRequest('auditId', undefined);
  app.decorateRequest('auditFinished', false);
  app.decorateRequest('failure', undefined);
  // A text/plain body is what lets another site's page post without a CORS preflight; with no
  // parser for it (or for forms), any body that is not JSON is refused with 415.
  app.removeContentTypeParser('text/plain');

  app.addHook('onSend', async (req, reply: FastifyReply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) void reply.header(name, value);
    if (!req.auditId || req.auditFinished) return payload;
    req.auditFinished = true;
    // Recorded before the answer leaves, so an outcome that cannot be written is not answered
    // as if all were well. A client that left while the handler ran gets no answer; its entry
    // still says how the handler ended.
    const gone = reply.raw.destroyed;
    const end = endOf(req, reply, gone);
    if ((await audit.finish(req.auditId, end, auditStart(req))) || gone) return payload;
    if (payload && typeof (payload as { destroy?: unknown }).destroy === 'function')
      (payload as { destroy(): void }).destroy();
    void reply.code(500).type('application/json; charset=utf-8');
    return JSON.stringify({
      error: {
        code: 'INTERNAL',
        message: `the audit log could not record how this ${req.method} ended (${end.status}): it ${
          end.outcome === 'succeeded' ? 'was carried out' : 'failed'
        }, but the log does not say so`,
        hint: "the server's log says why; GET /api/health counts such failures",
      },
    });
  });

  app.addHook('onRequest', async (req) => authenticate(tokens, req));

  app.addHook('onError', async (req, _reply, err) => {
    const code = (err as { code?: unknown }).code;
    req.failure = typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  });

  // A change is recorded before its handler runs; if that cannot be written, it does not run.
  app.addHook('preHandler', async (req, reply) => {
    if (!MUTATING_METHODS.has(req.method)) return;
    let id: string;
    try {
      id = await audit.start(auditStart(req));
    } catch (err) {
      throw new HttpError(
        503,
        `the audit log cannot be written, so this change was not made: ${(err as Error).message}`,
        'the server log says more; try again when the state database is writable',
      );
    }
    req.auditId = id;
    // A client that leaves before the response: the handler goes on, and its end, if it comes,
    // is recorded over this.
    reply.raw.once('close', () => {
      if (!reply.raw.writableEnded)
        void audit.finish(id, {
          status: null,
          outcome: 'aborted',
          error: 'the client disconnected before the response',
        });
    });
  });

  app.addHook('onResponse', async (req, reply) => {
    const end = endOf(req, reply, false);
    if (req.auditId) {
      if (!req.auditFinished) await audit.finish(req.auditId, end, auditStart(req));
    } else if (MUTATING_METHODS.has(req.method) || end.status === 401 || end.status === 403)
      await audit.record(auditStart(req), end);
  });
}
