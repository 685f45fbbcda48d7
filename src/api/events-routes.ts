// api/events-routes: /api/v1/triggers (cron and broker triggers, their dead letters) and invocations (invoke a
// service from the API, sync or async; read an invocation back). The semantics live behind EventsPort
// (triggers/service.ts); docs/events.md says what each does.
import type { FastifyInstance } from 'fastify';
import type { EventsPort } from './ports.ts';
import { errorRef as error } from './errors.ts';
import { needs, owned, visibleTo } from './auth.ts';
import { SERVICE_NAME_RE } from '../core/names.ts';
import { INVOCATION_BODY_LIMIT, type InvokeBody } from '../core/events.ts';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const duration = { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$', description: 'e.g. 500ms, 1s, 5m' } as const;

export const triggerDocumentSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: SERVICE_NAME_RE.source, description: 'a DNS label' },
    service: { type: 'string', pattern: SERVICE_NAME_RE.source, description: 'the target (this or job): the service each event is sent to' },
    job: { type: 'string', pattern: SERVICE_NAME_RE.source, description: 'the target (this or service), with cron only: each fire starts an execution of this job, as POST /jobs/{name}/executions; path, method, body, contentType, maxAttempts, backoff and maxBackoff do not apply' },
    cron: { type: 'string', maxLength: 200, description: 'source: a cron schedule: 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first' },
    nats: { type: 'string', maxLength: 2048, description: 'source: a NATS server URL (nats://HOST:4222), with subject (+ queueGroup) or stream + consumer (JetStream)' },
    subject: { type: 'string', maxLength: 512 },
    queueGroup: { type: 'string', maxLength: 256 },
    stream: { type: 'string', maxLength: 256, description: 'JetStream stream (nats) or Redis stream (redis)' },
    consumer: { type: 'string', maxLength: 256, description: 'JetStream durable consumer' },
    amqp: { type: 'string', maxLength: 2048, description: 'source: a RabbitMQ URL (amqp://USER:PASS@HOST:5672/vhost), with queue' },
    queue: { type: 'string', maxLength: 256 },
    prefetch: { type: 'integer', minimum: 1, maximum: 10_000 },
    redis: { type: 'string', maxLength: 2048, description: 'source: a Redis URL (redis://HOST:6379), with stream and group' },
    group: { type: 'string', maxLength: 256 },
    mqtt: { type: 'string', maxLength: 2048, description: 'source: an MQTT broker URL (mqtt://HOST:1883), with topic' },
    topic: { type: 'string', maxLength: 1024 },
    qos: { type: 'integer', enum: [0, 1, 2] },
    timezone: { type: 'string', maxLength: 64, description: 'IANA time zone of the schedule (default UTC); DST transitions follow croner’s fixed-time rule' },
    concurrencyPolicy: { type: 'string', enum: ['allow', 'forbid', 'replace'], description: 'a fire due while the previous one is still delivered: run both (allow, the default), skip the new one (forbid), or cancel the old one (replace)' },
    missed: { type: 'string', enum: ['skip', 'run-once'], description: 'fires missed while the daemon was down: none (skip, the default) or the latest one, once, at start (run-once)' },
    path: { type: 'string', maxLength: 2048, pattern: '^/', description: 'request path (default /)' },
    method: { type: 'string', pattern: '^[A-Za-z]+$', maxLength: 16, description: 'request method (default POST)' },
    body: { type: 'string', maxLength: INVOCATION_BODY_LIMIT, description: 'the data of each event: the request body' },
    contentType: { type: 'string', maxLength: 200, description: 'the body’s media type (default application/json when it parses as JSON, else text/plain)' },
    maxAttempts: { type: 'integer', minimum: 1, maximum: 100, description: 'attempts per event before it is dead-lettered (default 5)' },
    backoff: { ...duration, description: 'delay before the first retry, doubling each time, with jitter (default 1s)' },
    maxBackoff: { ...duration, description: 'the longest delay between two attempts (default 60s)' },
    deadLetter: { type: 'string', enum: ['skiff', 'broker'], description: "where an event goes after its last attempt: Skiff's dead-letter store (default; skiff dlq), or with broker the broker's own — RabbitMQ rejects it to the queue's dead-letter exchange (the queue must have one, else RabbitMQ drops it), JetStream terminates it (a MSG_TERMINATED advisory)" },
    orderedBy: { type: 'string', maxLength: 300, description: 'JetStream, RabbitMQ, Redis: events of one key are delivered one after the other (subject, header:NAME or json:$.field); other keys in parallel' },
  },
} as const;

const statsSchema = {
  type: 'object',
  required: ['deliveries', 'successes', 'failures', 'retries', 'deadLettered', 'deadLetters', 'backlog', 'lastErrors'],
  properties: {
    deliveries: { ...int, description: 'events handed to the service (once each, whatever the attempts); job triggers: executions that ended' },
    successes: int,
    failures: { ...int, description: 'failed attempts (each retry counts); job triggers: executions that did not succeed, and fires that could not start one' },
    retries: int,
    deadLettered: { ...int, description: 'events that failed every attempt' },
    deadLetters: { ...int, description: 'dead letters stored now (replay or purge them)' },
    backlog: { ...int, description: 'events queued or being delivered now; job triggers: executions it started still running' },
    lastErrors: { type: 'array', items: { type: 'object', required: ['at', 'message'], properties: { at: str, message: str } } },
    lastFireAt: { ...str, description: 'cron: the last scheduled fire made' },
    executions: { type: 'array', items: str, description: 'job triggers: the executions it started still running' },
    lastExecution: { ...str, description: 'job triggers: the last execution it started' },
    brokerBacklog: { ...int, description: 'messages waiting in the broker for this trigger, where the broker tells' },
  },
} as const;

export const triggerViewSchema = {
  type: 'object',
  required: ['name', 'project', 'kind', 'source', 'target', 'delivery', 'paused', 'stats', 'createdAt', 'updatedAt'],
  properties: {
    name: str,
    project: { ...str, description: 'the project the trigger belongs to' },
    service: { ...str, description: 'the target service (a trigger has this or job)' },
    job: { ...str, description: 'the target job: each cron fire starts an execution of it' },
    kind: { type: 'string', enum: ['cron', 'nats', 'amqp', 'redis', 'mqtt'] },
    source: {
      type: 'object',
      required: ['kind'],
      properties: {
        kind: str,
        schedule: str,
        timezone: str,
        concurrencyPolicy: str,
        missed: str,
        body: str,
        contentType: str,
        url: { ...str, description: 'the broker, its password shown as ***' },
        subject: str,
        queueGroup: str,
        stream: str,
        consumer: str,
        queue: str,
        prefetch: int,
        group: str,
        topic: str,
        qos: int,
      },
    },
    state: { type: 'object', required: ['status', 'since'], properties: { status: { type: 'string', enum: ['connecting', 'running', 'reconnecting', 'stopped'] }, error: str, since: str, disconnects: { type: 'integer', minimum: 0, description: 'connections to the broker lost since this daemon started consuming' } } },
    target: { type: 'object', description: 'a service (service, path, method) or a job (job)', properties: { service: str, path: str, method: str, job: str } },
    delivery: { type: 'object', required: ['maxAttempts', 'backoffMs', 'maxBackoffMs'], properties: { orderedBy: str, deadLetter: { type: 'string', enum: ['skiff', 'broker'] }, maxAttempts: int, backoffMs: int, maxBackoffMs: int } },
    paused: { type: 'boolean' },
    nextFireAt: str,
    stats: statsSchema,
    createdAt: str,
    updatedAt: str,
  },
} as const;

const requestView = { type: 'object', required: ['method', 'path', 'headers', 'body', 'bodyBase64'], properties: { method: str, path: str, headers: { type: 'object', additionalProperties: str }, body: str, bodyBase64: str } } as const;
const responseView = { type: 'object', required: ['status', 'headers', 'body', 'bodyBase64', 'truncated'], properties: { status: int, headers: { type: 'object', additionalProperties: str }, body: { ...str, description: 'as UTF-8 text (bodyBase64 has the bytes)' }, bodyBase64: str, truncated: { type: 'boolean' } } } as const;

const deadLetterSchema = { type: 'object', required: ['id', 'attempts', 'error', 'createdAt', 'request'], properties: { id: str, attempts: int, error: str, createdAt: str, request: requestView } } as const;

export const invocationViewSchema = {
  type: 'object',
  required: ['id', 'service', 'status', 'attempts', 'maxAttempts', 'createdAt', 'updatedAt'],
  properties: {
    id: str,
    service: str,
    trigger: str,
    status: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] },
    attempts: int,
    maxAttempts: int,
    nextAttemptAt: { ...str, description: 'a queued retry is not attempted before' },
    lastError: str,
    response: responseView,
    createdAt: str,
    updatedAt: str,
  },
} as const;

const accepted = { type: 'object', required: ['id', 'status', 'location'], properties: { id: str, status: str, location: str, duplicate: { type: 'boolean' } } } as const;
const nameParam = { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: SERVICE_NAME_RE.source } } } as const;

const invokeBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    async: { type: 'boolean', description: 'queue it (202, like Prefer: respond-async at the gateway) instead of waiting for the answer' },
    method: { type: 'string', pattern: '^[A-Za-z]+$', maxLength: 16, description: 'default POST' },
    path: { type: 'string', pattern: '^/', maxLength: 2048, description: 'default /' },
    headers: { type: 'object', additionalProperties: { type: 'string', maxLength: 8192 }, maxProperties: 100 },
    body: { type: 'string', maxLength: INVOCATION_BODY_LIMIT, description: 'request body as text' },
    bodyBase64: { type: 'string', maxLength: Math.ceil(INVOCATION_BODY_LIMIT / 3) * 4, description: 'request body as base64 (instead of body)' },
    idempotencyKey: { type: 'string', maxLength: 256, description: 'async: a second invocation of the service with this key returns the first one' },
    callback: { type: 'string', maxLength: 2048, description: 'async: an http(s) URL the finished invocation is POSTed to' },
  },
} as const;

export function registerEventsRoutes(api: FastifyInstance, events: EventsPort): void {
  const name = (req: { params: unknown }) => (req.params as { name: string }).name;

  api.post('/triggers', {
    config: needs('triggers:write'),
    schema: { summary: 'Add a trigger: a cron schedule or a broker subscription (NATS, JetStream, RabbitMQ, Redis Streams, MQTT) whose events reach a service as CloudEvents, or a cron schedule that starts a job', tags: ['triggers'], body: triggerDocumentSchema, response: { 201: triggerViewSchema, 400: error, 404: error, 409: error } },
  }, async (req, reply) => reply.code(201).send(await events.add(req.body as never, req.principal!.tenant)));

  api.get('/triggers', { config: needs('triggers:read'), schema: { summary: 'List triggers with their counters', tags: ['triggers'], response: { 200: { type: 'object', required: ['triggers'], properties: { triggers: { type: 'array', items: triggerViewSchema } } } } } }, async (req) => ({
    triggers: (await events.list()).filter((v) => visibleTo(req.principal!, v.project)),
  }));

  api.get('/triggers/:name', { config: owned('triggers:read', 'trigger'), schema: { summary: 'Describe a trigger: source, target, delivery policy, counters, last errors, dead letters, backlog', tags: ['triggers'], params: nameParam, response: { 200: triggerViewSchema, 404: error } } }, async (req) =>
    events.get(name(req)),
  );

  for (const [action, paused] of [['pause', true], ['resume', false]] as const) {
    api.post(`/triggers/:name/${action}`, {
      config: owned('triggers:write', 'trigger'),
      schema: { summary: paused ? 'Pause a trigger: no fire until it is resumed (missed ones are not made up)' : 'Resume a paused trigger', tags: ['triggers'], params: nameParam, response: { 200: triggerViewSchema, 404: error } },
    }, async (req) => events.setPaused(name(req), paused));
  }

  api.delete('/triggers/:name', { config: owned('triggers:write', 'trigger'), schema: { summary: 'Remove a trigger, its dead letters and its events not yet delivered', tags: ['triggers'], params: nameParam, response: { 204: { type: 'null' }, 404: error } } }, async (req, reply) => {
    await events.remove(name(req));
    return reply.code(204).send();
  });

  api.get('/triggers/:name/dead-letters', {
    config: owned('triggers:read', 'trigger'),
    schema: { summary: 'The events of a trigger that failed every attempt, oldest first, with the last error', tags: ['triggers'], params: nameParam, response: { 200: { type: 'object', required: ['deadLetters'], properties: { deadLetters: { type: 'array', items: deadLetterSchema } } }, 404: error } },
  }, async (req) => ({ deadLetters: await events.deadLetters(name(req)) }));

  api.post('/triggers/:name/dead-letters/replay', {
    config: owned('triggers:write', 'trigger'),
    schema: {
      summary: 'Send dead letters to the service again (those of `ids`, or all), each as a new event with the trigger’s delivery policy',
      tags: ['triggers'],
      params: nameParam,
      body: { type: 'object', additionalProperties: false, properties: { ids: { type: 'array', items: str, maxItems: 10_000 } } },
      response: { 200: { type: 'object', required: ['replayed', 'invocations'], properties: { replayed: { type: 'array', items: str }, invocations: { type: 'array', items: str } } }, 404: error },
    },
  }, async (req) => events.replay(name(req), (req.body as { ids?: string[] } | undefined)?.ids));

  api.delete('/triggers/:name/dead-letters', {
    config: owned('triggers:write', 'trigger'),
    schema: {
      summary: 'Delete dead letters (those of ?id=…, repeatable, or all)',
      tags: ['triggers'],
      params: nameParam,
      querystring: { type: 'object', additionalProperties: false, properties: { id: { type: 'array', items: str } } },
      response: { 200: { type: 'object', required: ['purged'], properties: { purged: int } }, 404: error },
    },
  }, async (req) => events.purge(name(req), (req.query as { id?: string[] }).id));

  api.post('/services/:name/invocations', {
    config: owned('invocations:create', 'service'),
    schema: {
      summary: 'Invoke a service through the gateway: wait for its answer, or with async queue it (202) and read it back at its location',
      tags: ['invocations', 'services'],
      params: nameParam,
      body: invokeBody,
      response: { 200: responseView, 202: accepted, 400: error, 404: error, 413: error },
    },
  }, async (req, reply) => {
    const r = await events.invoke(name(req), req.body as InvokeBody);
    if ('location' in r) return reply.code(202).header('location', r.location).send(r);
    return r;
  });

  api.get('/invocations/:id', {
    config: owned('invocations:read', 'invocation'),
    schema: {
      summary: 'An invocation: status, attempts, last error, and the response (status, headers, body up to 1 MiB)',
      tags: ['invocations'],
      params: { type: 'object', required: ['id'], properties: { id: str } },
      response: { 200: invocationViewSchema, 404: error },
    },
  }, async (req) => events.invocation((req.params as { id: string }).id));
}
