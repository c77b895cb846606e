/** Tokens and the audit log: an admin's. */
import type { FastifyPluginAsync } from 'fastify';
import { TOKEN_ROLES, type TokenRole } from '../auth.js';
import { ADMIN, type AppContext } from '../context.js';

export const tokenRoutes: FastifyPluginAsync<AppContext> = async (app, { tokens }) => {
  app.get(
    '/api/tokens',
    { config: ADMIN, schema: { tags: ['auth'], summary: 'Tokens (never their secrets)' } },
    async () => tokens.list(),
  );

  app.post<{ Body: { role: TokenRole; name?: string } }>(
    '/api/tokens',
    {
      config: ADMIN,
      schema: {
        tags: ['auth'],
        summary: 'Create a token, or a producer key (shown once)',
        body: {
          type: 'object',
          required: ['role'],
          properties: {
            role: { type: 'string', enum: [...TOKEN_ROLES] },
            name: { type: 'string', maxLength: 100 },
          },
        },
      },
    },
    async (req, reply) => {
      if (req.body.role === 'producer') {
        const { info, token, accessKeyId, secretAccessKey } = await tokens.createProducer(
          req.body.name,
        );
        return reply.status(201).send({ ...info, token, accessKeyId, secretAccessKey });
      }
      const { info, token } = await tokens.create(req.body.role, req.body.name);
      return reply.status(201).send({ ...info, token });
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/tokens/:id',
    { config: ADMIN, schema: { tags: ['auth'], summary: 'Revoke a token' } },
    async (req) => tokens.revoke(req.params.id),
  );

  app.get<{ Querystring: { limit?: number } }>(
    '/api/audit',
    {
      config: ADMIN,
      schema: {
        tags: ['auth'],
        summary: 'The audit log, newest first',
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 10000 } },
        },
      },
    },
    async (req) => tokens.audit.list(req.query.limit ?? 100),
  );
};
