// api/jobs-routes: /api/v1/jobs — run-to-completion jobs: create, list, describe, delete, start an
// execution, read one, and the tasks' logs. Validation is the JSON schema (ajv via fastify); the
// semantics live behind the JobsPort (serving/jobs.ts).
import type { FastifyInstance } from 'fastify';
import { jobDocumentSchema, type JobDocument } from '../core/jobs.ts';
import { SERVICE_NAME_RE } from '../core/names.ts';
import type { JobsPort } from './ports.ts';
import { executionViewSchema, jobViewSchema } from './jobs-schemas.ts';
import { errorRef as error } from './errors.ts';
import { needs, owned, visibleTo } from './auth.ts';
import { sendLines } from './line-stream.ts';

const name = { type: 'string', pattern: SERVICE_NAME_RE.source } as const;
const nameParam = { type: 'object', required: ['name'], properties: { name } } as const;
const executionParams = { type: 'object', required: ['name', 'id'], properties: { name, id: { type: 'string', maxLength: 200 } } } as const;
const logsResponse = { description: 'one line per record: `<task>/<attempt> <ISO time> <stdout|stderr> <line>`, task by task', content: { 'text/plain': { schema: { type: 'string' } } } } as const;

export function registerJobRoutes(api: FastifyInstance, jobs: JobsPort): void {
  api.post('/jobs', {
    config: needs('jobs:write'),
    schema: {
      summary: 'Create a job: tasks that run to completion, the image pinned to its digest now',
      tags: ['jobs'],
      body: jobDocumentSchema,
      response: { 201: jobViewSchema, 400: error, 404: error, 409: error },
    },
  }, async (req, reply) => reply.code(201).send(await jobs.create(req.body as JobDocument, req.principal!.tenant)));

  api.get('/jobs', { config: needs('jobs:read'), schema: { summary: 'List jobs, each with its latest execution', tags: ['jobs'], response: { 200: { type: 'object', required: ['jobs'], properties: { jobs: { type: 'array', items: jobViewSchema } } } } } }, async (req) => ({
    jobs: (await jobs.list()).filter((v) => visibleTo(req.principal!, v.project)),
  }));

  api.get('/jobs/:name', { config: owned('jobs:read', 'job'), schema: { summary: 'Describe a job: its spec and recent executions with every task’s attempts', tags: ['jobs'], params: nameParam, response: { 200: jobViewSchema, 404: error } } }, async (req) =>
    jobs.get((req.params as { name: string }).name),
  );

  api.delete('/jobs/:name', {
    config: owned('jobs:write', 'job'),
    schema: {
      summary: 'Delete a job with its executions and kept logs (409 while an execution runs, unless force=true, which cancels it; 409 while a cron trigger starts it)',
      tags: ['jobs'],
      params: nameParam,
      querystring: { type: 'object', additionalProperties: false, properties: { force: { type: 'boolean', description: 'cancel a running execution (its tasks are killed) instead of refusing' } } },
      response: { 204: { type: 'null' }, 404: error, 409: error },
    },
  }, async (req, reply) => {
    await jobs.remove((req.params as { name: string }).name, { force: (req.query as { force?: boolean }).force ?? false });
    return reply.code(204).send();
  });

  api.post('/jobs/:name/executions', {
    config: owned('jobs:write', 'job'),
    schema: {
      summary: 'Run a job: starts an execution (its tasks run in the background) and returns it',
      tags: ['jobs'],
      params: nameParam,
      body: { type: ['object', 'null'], additionalProperties: false, properties: {} },
      response: { 201: executionViewSchema, 404: error, 409: error },
    },
  }, async (req, reply) => reply.code(201).send(await jobs.execute((req.params as { name: string }).name)));

  api.get('/jobs/:name/executions/:id', { config: owned('jobs:read', 'job'), schema: { summary: 'An execution: its status, why it failed, every task’s attempts', tags: ['jobs'], params: executionParams, response: { 200: executionViewSchema, 404: error } } }, async (req) => {
    const p = req.params as { name: string; id: string };
    return jobs.execution(p.name, p.id);
  });

  api.get('/jobs/:name/logs', {
    config: owned('jobs:read', 'job'),
    schema: {
      summary: 'Output of an execution’s tasks (text, one line per record), kept after their containers are gone',
      tags: ['jobs'],
      params: nameParam,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          execution: { type: 'string', maxLength: 200, description: 'default: the latest execution' },
          task: { type: 'integer', minimum: 0, description: 'one task (default: all of them)' },
        },
      },
      response: { 200: logsResponse, 400: error, 404: error },
    },
  }, async (req, reply) => {
    const q = req.query as { execution?: string; task?: number };
    const lines = jobs.logs((req.params as { name: string }).name, q);
    return sendLines(reply, lines);
  });
}
