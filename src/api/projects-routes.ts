// api/projects-routes: /api/v1/projects — projects and their quotas. Creating, changing and removing
// one is the operator's (a token spanning every project); a project's own tokens (deploy and up) read
// their project, and another project is not there for them (404). The semantics live behind the
// ProjectsPort (serving/projects.ts).
import type { FastifyInstance } from 'fastify';
import { PROJECT_NAME_RE } from '../core/projects.ts';
import type { ProjectQuotaBody } from '../core/views.ts';
import type { ProjectsPort } from './ports.ts';
import { errorRef as error } from './errors.ts';
import { needs, owned, visibleTo } from './auth.ts';

const nameParam = { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: PROJECT_NAME_RE.source } } } as const;
const nullableNumber = { type: ['number', 'null'] } as const;

const quotaBodySchema = {
  type: 'object',
  additionalProperties: false,
  description: 'upper bounds on what the project\'s instances hold at once; null or absent: unlimited',
  properties: {
    instances: { type: ['integer', 'null'], minimum: 0, description: 'instances at once, of every service, job and run of the project' },
    memory: { type: ['string', 'number', 'null'], description: 'memory limits summed, e.g. 8Gi' },
    cpu: { type: ['string', 'number', 'null'], description: 'CPU limits summed, in cores: 4 or 500m' },
  },
} as const;

export const projectViewSchema = {
  type: 'object',
  required: ['name', 'quota', 'usage', 'holdings', 'createdAt'],
  properties: {
    name: { type: 'string' },
    quota: { type: 'object', required: ['instances', 'memoryBytes', 'cpu'], properties: { instances: { type: ['integer', 'null'] }, memoryBytes: { type: ['integer', 'null'] }, cpu: nullableNumber } },
    usage: { type: 'object', required: ['instances', 'memoryBytes', 'cpu'], description: 'what the project\'s instances hold now', properties: { instances: { type: 'integer' }, memoryBytes: { type: 'integer' }, cpu: { type: 'number' } } },
    holdings: { type: 'object', additionalProperties: { type: 'integer' }, description: 'how many of each kind it owns (services, triggers, jobs, secrets, volumes, domains, tokens, repositories)' },
    createdAt: { type: 'string' },
  },
} as const;

export function registerProjectRoutes(api: FastifyInstance, projects: ProjectsPort): void {
  api.post('/projects', {
    config: needs('projects:manage'),
    schema: {
      summary: 'Create a project, with quotas (operator)',
      tags: ['projects'],
      body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', maxLength: 63 }, quota: quotaBodySchema } },
      response: { 201: projectViewSchema, 400: error, 409: error },
    },
  }, async (req, reply) => {
    const body = req.body as { name: string; quota?: ProjectQuotaBody };
    return reply.code(201).send(await projects.create(body.name, body.quota));
  });

  api.get('/projects', {
    config: needs('projects:read'),
    schema: { summary: 'List projects: every one for the operator, its own for a project\'s token', tags: ['projects'], response: { 200: { type: 'object', required: ['projects'], properties: { projects: { type: 'array', items: projectViewSchema } } } } },
  }, async (req) => ({ projects: (await projects.list()).filter((p) => visibleTo(req.principal!, p.name)) }));

  api.get('/projects/:name', {
    config: owned('projects:read', 'project'),
    schema: { summary: 'Describe a project: its quota, what is in use, what it holds', tags: ['projects'], params: nameParam, response: { 200: projectViewSchema, 404: error } },
  }, async (req) => projects.get((req.params as { name: string }).name));

  api.patch('/projects/:name', {
    config: owned('projects:manage', 'project'),
    schema: {
      summary: 'Change a project\'s quota (operator): fields given replace, null removes a limit',
      tags: ['projects'],
      params: nameParam,
      body: { type: 'object', required: ['quota'], additionalProperties: false, properties: { quota: quotaBodySchema } },
      response: { 200: projectViewSchema, 400: error, 404: error },
    },
  }, async (req) => projects.setQuota((req.params as { name: string }).name, (req.body as { quota: ProjectQuotaBody }).quota));

  api.delete('/projects/:name', {
    config: owned('projects:manage', 'project'),
    schema: { summary: 'Remove a project that holds nothing (operator); its tokens are revoked with it', tags: ['projects'], params: nameParam, response: { 204: { type: 'null' }, 404: error, 409: error } },
  }, async (req, reply) => {
    await projects.remove((req.params as { name: string }).name);
    return reply.code(204).send();
  });
}
