/** Logging in and out of the web UI (a session cookie), and who the caller is. */
import type { FastifyPluginAsync } from 'fastify';
import { PUBLIC, VIEWER, type AppContext } from '../context.js';
import { HttpError } from '../errors.js';
import { sessionCookie, sessionCookieHeader } from '../hooks.js';
import { jsonResponse, meSchema, okSchema } from '../api-schemas.js';

export const sessionRoutes: FastifyPluginAsync<AppContext> = async (app, { tokens }) => {
  app.post<{ Body: { token: string } }>(
    '/api/session',
    {
      config: PUBLIC,
      schema: {
        tags: ['auth'],
        summary: 'Log in with a token: opens a session and sets its cookie',
        security: [],
        response: { 200: jsonResponse(meSchema) },
        body: {
          type: 'object',
          required: ['token'],
          properties: { token: { type: 'string', maxLength: 200 } },
        },
      },
    },
    async (req, reply) => {
      const checked = await tokens.check(req.body.token);
      if (!checked.ok) {
        req.refusal = { reason: checked.reason, tokenId: checked.tokenId };
        throw new HttpError(401, 'unknown or revoked token');
      }
      const info = checked.info;
      req.user = info;
      void reply.header('set-cookie', sessionCookieHeader(req, await tokens.createSession(info)));
      return { id: info.id, name: info.name, role: info.role };
    },
  );

  app.delete(
    '/api/session',
    {
      config: PUBLIC,
      schema: {
        tags: ['auth'],
        summary: 'Log out: ends the session',
        security: [],
        response: { 200: jsonResponse(okSchema) },
      },
    },
    async (req, reply) => {
      const session = sessionCookie(req);
      if (session !== undefined) await tokens.endSession(session);
      void reply.header('set-cookie', sessionCookieHeader(req));
      return { ok: true };
    },
  );

  app.get(
    '/api/me',
    {
      config: VIEWER,
      schema: {
        tags: ['auth'],
        summary: 'Who the token is',
        response: { 200: jsonResponse(meSchema) },
      },
    },
    async (req) => ({
      id: req.user!.id,
      name: req.user!.name,
      role: req.user!.role,
    }),
  );
};
