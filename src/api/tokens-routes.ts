// api/tokens-routes: /api/v1/tokens — create, list and revoke API tokens (admin only). The secret is
// answered once, at creation; only its hash is kept.
import type { FastifyInstance } from 'fastify';
import { SkiffError } from '../core/errors.ts';
import { TOKEN_ROLES, type TokenRole } from '../core/auth.ts';
import type { TokenPort } from './ports.ts';
import { needs } from './auth.ts';
import { errorRef as error } from './errors.ts';

const tokenSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' }, tenant: { type: 'string' }, role: { type: 'string', enum: TOKEN_ROLES }, created_at: { type: 'integer' } },
} as const;

export function registerTokenRoutes(api: FastifyInstance, tokens: TokenPort, now: () => number): void {
  api.get('/tokens', { config: needs('tokens:manage'), schema: { summary: 'List API tokens (admin)', response: { 200: { type: 'object', properties: { tokens: { type: 'array', items: tokenSchema } } }, 403: error } } }, async (req) => {
    return { tokens: (await tokens.list()).map(({ createdAt, ...t }) => ({ ...t, created_at: createdAt })) };
  });

  api.post(
    '/tokens',
    {
      config: needs('tokens:manage'),
      schema: {
        summary: 'Create an API token (admin); the secret is returned once',
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, tenant: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }, role: { type: 'string', enum: TOKEN_ROLES } },
        },
        response: { 201: { type: 'object', properties: { id: { type: 'string' }, secret: { type: 'string' } } }, 400: error, 403: error },
      },
    },
    async (req, reply) => {
      const body = req.body as { name: string; tenant?: string; role?: TokenRole };
      return reply.code(201).send(await tokens.create(body.name, body.tenant ?? 'default', body.role ?? 'push', now()));
    },
  );

  api.delete('/tokens/:id', { config: needs('tokens:manage'), schema: { summary: 'Revoke an API token (admin)', params: { type: 'object', properties: { id: { type: 'string' } } }, response: { 204: { type: 'null' }, 404: error } } }, async (req, reply) => {
    if (!(await tokens.revoke((req.params as { id: string }).id))) throw new SkiffError('NOT_FOUND', 'no such token');
    return reply.code(204).send();
  });
}
