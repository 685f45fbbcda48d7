// api/tokens-routes: /api/v1/tokens — create, list and revoke API tokens (admin only). The secret is
// answered once, at creation; only its hash is kept. A project's admin manages its project's tokens;
// only a token spanning every project makes another such token (`project: "*"`) or one for any project.
import type { FastifyInstance } from 'fastify';
import { SkiffError } from '../core/errors.ts';
import { TOKEN_ROLES, type Principal, type TokenRole } from '../core/auth.ts';
import { ALL_PROJECTS } from '../core/projects.ts';
import type { TokenPort } from './ports.ts';
import { needs, owned, visibleTo, type ProjectLookup } from './auth.ts';
import { errorRef as error } from './errors.ts';

const tokenSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' }, project: { type: 'string', description: 'the project it acts in, or * for every project' }, tenant: { type: 'string', description: 'the same as project (its older name)' }, role: { type: 'string', enum: TOKEN_ROLES }, created_at: { type: 'integer' } },
} as const;

/** The project a new token acts in; another project than its own is not there for a project's admin. */
async function tokenProject(caller: Principal, wanted: string | undefined, projects: ProjectLookup): Promise<string> {
  if (wanted === undefined) return caller.tenant;
  if (caller.scope !== ALL_PROJECTS) {
    if (wanted !== caller.tenant) throw new SkiffError('NOT_FOUND', `project: no project ${JSON.stringify(wanted)}`);
    return wanted;
  }
  if (wanted !== ALL_PROJECTS && !(await projects.exists(wanted))) throw new SkiffError('NOT_FOUND', `project: no project ${JSON.stringify(wanted)} (skiff project create ${wanted} makes it)`);
  return wanted;
}

export function registerTokenRoutes(api: FastifyInstance, tokens: TokenPort, projects: ProjectLookup, now: () => number): void {
  api.get('/tokens', { config: needs('tokens:manage'), schema: { summary: 'List API tokens (admin)', response: { 200: { type: 'object', properties: { tokens: { type: 'array', items: tokenSchema } } }, 403: error } } }, async (req) => {
    const listed = (await tokens.list()).filter((t) => visibleTo(req.principal!, t.tenant));
    return { tokens: listed.map(({ createdAt, ...t }) => ({ ...t, project: t.tenant, created_at: createdAt })) };
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
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100 },
            project: { type: 'string', pattern: '^([a-z0-9][a-z0-9-]{0,62}|\\*)$', description: 'the project the token acts in (default: the request\'s project); * spans every project' },
            tenant: { type: 'string', pattern: '^([a-z0-9][a-z0-9-]{0,62}|\\*)$', description: 'the same as project (its older name)' },
            role: { type: 'string', enum: TOKEN_ROLES },
          },
        },
        response: { 201: { type: 'object', properties: { id: { type: 'string' }, secret: { type: 'string' } } }, 400: error, 403: error },
      },
    },
    async (req, reply) => {
      const body = req.body as { name: string; project?: string; tenant?: string; role?: TokenRole };
      const project = await tokenProject(req.principal!, body.project ?? body.tenant, projects);
      return reply.code(201).send(await tokens.create(body.name, project, body.role ?? 'push', now()));
    },
  );

  api.delete('/tokens/:id', { config: owned('tokens:manage', 'token'), schema: { summary: 'Revoke an API token (admin)', params: { type: 'object', properties: { id: { type: 'string' } } }, response: { 204: { type: 'null' }, 404: error } } }, async (req, reply) => {
    if (!(await tokens.revoke((req.params as { id: string }).id))) throw new SkiffError('NOT_FOUND', 'no such token');
    return reply.code(204).send();
  });
}
