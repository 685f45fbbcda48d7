// api/services-routes: /api/v1/services — deploy, list, describe, traffic, rollback, scale, prewarm, logs,
// delete.
// Validation is the JSON schema (ajv via fastify); the semantics live behind the ServingPort.
import type { FastifyInstance } from 'fastify';
import type { DeployOptions, ServiceStatsPort, ServingPort } from './ports.ts';
import { DOCUMENT_MAXIMUMS, deployDocumentSchema, deployPatchSchema, type DeployDocument, type DeployPatch } from '../core/documents.ts';
import { SERVICE_NAME_RE, TRAFFIC_TAG_RE } from '../core/names.ts';
import { parseDuration } from '../core/quantity.ts';
import { deployResultSchema, prewarmBodySchema, prewarmResultSchema, serviceStatsSchema, servicesStatsSchema, serviceViewSchema as serviceView, trafficSchema } from './services-schemas.ts';
import { errorRef as error } from './errors.ts';
import { needs, owned, visibleTo } from './auth.ts';
import { sendLines } from './line-stream.ts';

/** How a deploy starts and routes its new revision (`?verify=true&noTraffic=true&tag=NAME`). */
const deployQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    verify: { type: 'boolean', description: 'start one instance of the new revision now, even with min 0; its status then says whether the app starts (what skiff deploy waits on)' },
    noTraffic: { type: 'boolean', description: 'leave the traffic split as it is (the new revision takes no share); not for a new service' },
    tag: { type: 'string', pattern: TRAFFIC_TAG_RE.source, maxLength: 61, description: 'give the new revision its own address TAG--NAME.<domain> (and /s/TAG--NAME/), moved off any revision that had it' },
  },
} as const;

const nameParam = { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: SERVICE_NAME_RE.source } } } as const;
/** ?window= of both stats routes (daemon/service-stats-wiring.ts STATS_WINDOWS holds the same three) */
const statsQuery = { type: 'object', additionalProperties: false, properties: { window: { type: 'string', enum: ['15m', '1h', '6h'], default: '1h' } } } as const;
const logsResponse = { description: 'one line per record: `<instance id> <ISO time> <stdout|stderr> <line>`', content: { 'text/plain': { schema: { type: 'string' } } } } as const;

export function registerServiceRoutes(api: FastifyInstance, serving: ServingPort, stats?: ServiceStatsPort): void {
  api.post('/services', { config: needs('services:write'),
    schema: {
      summary: 'Deploy a service: creates an immutable revision with the image pinned to its digest',
      tags: ['services'],
      body: deployDocumentSchema,
      querystring: deployQuery,
      response: { 201: deployResultSchema, 400: error, 404: error, 409: error },
    },
  }, async (req, reply) => reply.code(201).send(await serving.deploy(req.body as DeployDocument, req.principal!.tenant, req.query as DeployOptions)));

  api.patch('/services/:name', {
    config: owned('services:write', 'service'),
    schema: {
      summary: 'Update a service: a new revision from the latest one with these fields changed (JSON merge patch: unstated fields carry over, null resets one to its default)',
      description: 'Like `gcloud run deploy` / `kn service update`. The image, when not given, stays the digest the latest revision runs. Scale bounds carry over from the service.',
      tags: ['services'],
      params: nameParam,
      body: deployPatchSchema,
      querystring: deployQuery,
      response: { 200: deployResultSchema, 400: error, 404: error, 409: error },
    },
  }, async (req) => serving.update((req.params as { name: string }).name, req.body as DeployPatch, req.principal!.tenant, req.query as DeployOptions));

  api.get('/services', { config: needs('services:read'), schema: { summary: 'List services', tags: ['services'], response: { 200: { type: 'object', required: ['services'], properties: { services: { type: 'array', items: serviceView } } } } } }, async (req) => ({
    services: (await serving.list()).filter((v) => visibleTo(req.principal!, v.project)),
  }));

  api.get('/services/:name', { config: owned('services:read', 'service'), schema: { summary: 'Describe a service: revisions, traffic, instances, URL, events', tags: ['services'], params: nameParam, response: { 200: serviceView, 404: error } } }, async (req) =>
    serving.get((req.params as { name: string }).name),
  );

  if (stats) {
    api.get('/services/:name/stats', {
      config: owned('services:read', 'service'),
      schema: {
        summary: 'Recent requests, 5xx, p50/p99 latency, instances by phase and cold starts of a service, one column entry per step (10 s), for charts; kept in memory for 6 h (a restart starts over)',
        tags: ['services'],
        params: nameParam,
        querystring: statsQuery,
        response: { 200: serviceStatsSchema, 400: error, 404: error },
      },
    }, async (req) => stats.stats((req.params as { name: string }).name, (req.query as { window?: string }).window ?? '1h'));

    // Every service's sparklines in one answer: the Services list may hold hundreds, and one request
    // per row would be hundreds of requests every refresh. Not /services/stats: that is the path of
    // GET /services/{name} for a service named `stats`. The services are those GET /services lists.
    api.get('/stats/services', {
      config: needs('services:read'),
      schema: {
        summary: 'Requests, p50/p99 latency (per coarse step, at most 60 over the window) and cold starts in the window of every service the token sees: the Services list\'s sparklines',
        tags: ['services'],
        querystring: statsQuery,
        response: { 200: servicesStatsSchema, 400: error },
      },
    }, async (req) => {
      const visible = (await serving.list()).filter((v) => visibleTo(req.principal!, v.project));
      return stats.summaries(visible.map((v) => ({ name: v.name, project: v.project })), (req.query as { window?: string }).window ?? '1h');
    });
  }

  api.get('/services/:name/document', { config: owned('services:read', 'service'), schema: { summary: 'The deploy document of the latest revision (image pinned, the service\'s bounds): what `skiff export` translates', tags: ['services'], params: nameParam, response: { 200: deployDocumentSchema, 404: error } } }, async (req) =>
    serving.document((req.params as { name: string }).name),
  );

  api.delete('/services/:name', { config: owned('services:write', 'service'), schema: { summary: 'Delete a service and stop its instances (409 while a trigger delivers to it)', tags: ['services'], params: nameParam, response: { 204: { type: 'null' }, 404: error, 409: error } } }, async (req, reply) => {
    await serving.remove((req.params as { name: string }).name);
    return reply.code(204).send();
  });

  api.put('/services/:name/traffic', { config: owned('services:write', 'service'),
    schema: { summary: 'Set the traffic split: percents add up to 100; a tagged entry gives its revision the address TAG--NAME whatever its percent (tags left out are removed)', tags: ['services'], params: nameParam, body: { type: 'object', required: ['traffic'], properties: { traffic: trafficSchema } }, response: { 200: serviceView, 400: error, 404: error } },
  }, async (req) => serving.setTraffic((req.params as { name: string }).name, (req.body as { traffic: Array<{ revision: string; percent: number; tag?: string }> }).traffic));

  api.post('/services/:name/rollback', {
    config: owned('services:write', 'service'),
    schema: {
      summary: 'Send all traffic to a revision: `to`, or else the one before the newest revision serving now',
      tags: ['services'],
      params: nameParam,
      body: { type: ['object', 'null'], additionalProperties: false, properties: { to: { type: 'string', description: 'the revision to roll back to' } } },
      response: { 200: serviceView, 400: error, 404: error, 409: error },
    },
  }, async (req) => serving.rollback((req.params as { name: string }).name, (req.body as { to?: string } | null)?.to)),

  api.patch('/services/:name/scaling', { config: owned('services:write', 'service'),
    schema: { summary: 'Change min/max scale without a new revision', tags: ['services'], params: nameParam, body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { min: { type: 'integer', minimum: 0, maximum: DOCUMENT_MAXIMUMS.scale }, max: { type: 'integer', minimum: 1, maximum: DOCUMENT_MAXIMUMS.scale } } }, response: { 200: serviceView, 400: error, 404: error } },
  }, async (req) => serving.scale((req.params as { name: string }).name, req.body as { min?: number; max?: number }));

  api.post('/services/:name/prewarm', { config: owned('services:write', 'service'),
    schema: {
      summary: 'Start instances of the revisions taking traffic now and keep them warm for a while (ahead of known demand)',
      tags: ['services'],
      params: nameParam,
      body: prewarmBodySchema,
      response: { 200: prewarmResultSchema, 400: error, 404: error },
    },
  }, async (req) => {
    const body = (req.body ?? {}) as { instances?: number; for?: string | number };
    return serving.prewarm((req.params as { name: string }).name, { instances: body.instances ?? 1, forMs: parseDuration(body.for ?? '10m', 'for') });
  });

  api.get('/services/:name/logs', { config: owned('services:read', 'service'),
    schema: {
      summary: 'Logs of the service instances (text, one line per record); follow=true streams',
      tags: ['services'],
      params: nameParam,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          revision: { type: 'string' },
          instance: { type: 'string', description: 'one instance (running, or deleted with its logs kept)' },
          since: { type: 'string', description: 'only lines newer than this long ago: 90s, 30m, 1h' },
          tail: { type: 'integer', minimum: 0 },
          follow: { type: 'boolean' },
        },
      },
      response: { 200: logsResponse, 404: error },
    },
  }, async (req, reply) => {
    const q = req.query as { revision?: string; instance?: string; since?: string; tail?: number; follow?: boolean };
    const abort = new AbortController();
    req.raw.once('close', () => abort.abort());
    const sinceMs = q.since === undefined ? undefined : Date.now() - parseDuration(q.since, 'since');
    const lines = serving.logs((req.params as { name: string }).name, { revision: q.revision, instance: q.instance, sinceMs, tail: q.tail, follow: q.follow ?? false, signal: abort.signal });
    return sendLines(reply, lines);
  });
}
