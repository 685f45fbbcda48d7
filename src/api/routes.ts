// api/routes: the control-plane REST API under /api/v1, described by the OpenAPI document at
// /api/openapi.json (generated from the route schemas below, so the two cannot drift).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import { SkiffError } from '../core/errors.ts';
import { tokenFromAuthorization, type Principal } from '../store/token-store.ts';
import type { ApiDeps } from './ports.ts';
import { sendApiError } from './errors.ts';
import { registerServiceRoutes } from './services-routes.ts';
import { registerRunRoutes } from './runs-routes.ts';

const errorSchema = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
} as const;

const tokenSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' }, tenant: { type: 'string' }, role: { type: 'string', enum: ['admin', 'push', 'pull'] }, created_at: { type: 'integer' } },
} as const;

const gcResultSchema = {
  type: 'object',
  properties: { blobsDeleted: { type: 'integer' }, bytesFreed: { type: 'integer' }, orphanFilesDeleted: { type: 'integer' }, uploadsExpired: { type: 'integer' } },
} as const;

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export async function registerApiRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: { title: 'Skiff control API', version: deps.version, description: 'Manage Skiff: tokens, registry maintenance, and (later) services.' },
      components: { securitySchemes: { token: { type: 'http', scheme: 'bearer' } } },
      security: [{ token: [] }],
    },
    hideUntagged: false,
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(async (api) => {
    api.setErrorHandler((err, req, reply) => sendApiError(reply, err, req));
    api.setNotFoundHandler((req, reply) => sendApiError(reply, new SkiffError('NOT_FOUND', `no API endpoint ${req.method} ${req.url}`), req));
    api.addHook('onRequest', async (req) => {
      const secret = tokenFromAuthorization(req.headers.authorization);
      const principal = secret ? deps.tokens.verify(secret) : undefined;
      if (!principal) throw new SkiffError('UNAUTHORIZED', 'a valid API token is required (Authorization: Bearer <token>)');
      req.principal = principal;
    });

    api.get('/health', { schema: { summary: 'Liveness of the daemon', response: { 200: { type: 'object', properties: { status: { type: 'string' }, version: { type: 'string' } } } } } }, async () => ({
      status: 'ok',
      version: deps.version,
    }));

    api.get('/tokens', { schema: { summary: 'List API tokens (admin)', response: { 200: { type: 'object', properties: { tokens: { type: 'array', items: tokenSchema } } }, 403: errorSchema } } }, async (req) => {
      requireAdmin(req);
      return { tokens: deps.tokens.list() };
    });

    api.post(
      '/tokens',
      {
        schema: {
          summary: 'Create an API token (admin); the secret is returned once',
          body: {
            type: 'object',
            required: ['name'],
            additionalProperties: false,
            properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, tenant: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }, role: { type: 'string', enum: ['admin', 'push', 'pull'] } },
          },
          response: { 201: { type: 'object', properties: { id: { type: 'string' }, secret: { type: 'string' } } }, 400: errorSchema, 403: errorSchema },
        },
      },
      async (req, reply) => {
        requireAdmin(req);
        const body = req.body as { name: string; tenant?: string; role?: 'admin' | 'push' | 'pull' };
        return reply.code(201).send(deps.tokens.create(body.name, body.tenant ?? 'default', body.role ?? 'push', deps.now()));
      },
    );

    api.delete('/tokens/:id', { schema: { summary: 'Revoke an API token (admin)', params: { type: 'object', properties: { id: { type: 'string' } } }, response: { 204: { type: 'null' }, 404: errorSchema } } }, async (req, reply) => {
      requireAdmin(req);
      if (!deps.tokens.revoke((req.params as { id: string }).id)) throw new SkiffError('NOT_FOUND', 'no such token');
      return reply.code(204).send();
    });

    registerServiceRoutes(api, deps.serving);
    registerRunRoutes(api, deps.runs);

    api.post('/registry/gc', { schema: { summary: 'Run registry garbage collection now (admin)', response: { 200: gcResultSchema, 403: errorSchema } } }, async (req) => {
      requireAdmin(req);
      return deps.gc.collect();
    });
  }, { prefix: '/api/v1' });
}

function requireAdmin(req: FastifyRequest): void {
  if (req.principal?.role !== 'admin') throw new SkiffError('DENIED', 'this operation needs an admin token');
}
