// api/stream-routes: GET /api/v1/stream, the dashboard's live updates — server-sent events, one
// `event: change` per resource that changed (core/views.ts ChangeEvent: the dashboard reads it again),
// `retry: 2000` first and a `: ping` comment every 15 s so proxies and browsers keep it open. A
// subscriber sees the changes of the projects its token may see: its project, or, for a token
// spanning every project, all of them (or the one it names with Skiff-Project / ?project=).
//
// And the publishing side of the API: every successful POST, PUT, PATCH or DELETE publishes the
// resource its route names, derived in one hook from the route's path and parameters (and the body's
// name for a create), so no route has to remember to.
//
// A change reaches a stream only when the stream's token may list that kind of resource (a deploy token
// learns no token names, a pull token no secret names) in that project. The token is checked again at
// each ping: a revoked token, or a session signed out or expired, ends its streams within one ping.
// A client that stops reading is cut off past ChangeStreams.MAX_UNREAD_BYTES, not buffered for.
//
// Streams are counted per token (a session counts as its token): more than `maxPerToken` open is 429
// TOOMANYREQUESTS. ChangeStreams.close() (change-hub.ts) ends every stream at the daemon's stop.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SkiffError } from '../core/errors.ts';
import type { ChangeEvent } from '../core/views.ts';
import { needs, visibleTo } from './auth.ts';
import { allows, type Permission, type Principal } from '../core/auth.ts';
import { errorRef as error } from './errors.ts';
import { ChangeStreams, STREAM_RETRY_MS, STREAMS_PER_TOKEN } from './change-hub.ts';

/** Whether the request's token (or session) still signs it in as the same token: checked at each ping. */
export type StillSignedIn = (req: FastifyRequest) => Promise<boolean>;

const changeSchema = {
  type: 'object',
  required: ['kind', 'project'],
  properties: {
    kind: { type: 'string', enum: ['service', 'trigger', 'job', 'domain', 'volume', 'secret', 'registry', 'project', 'budget', 'token'] },
    name: { type: 'string', description: 'absent when the whole list may have changed' },
    project: { type: 'string' },
  },
} as const;

export function registerStreamRoutes(api: FastifyInstance, streams: ChangeStreams, stillSignedIn: StillSignedIn): void {
  api.get('/stream', {
    config: needs('services:read'),
    schema: {
      summary: 'Live changes (server-sent events): `event: change` with a JSON ChangeEvent {kind, name?, project} each time something the dashboard shows changed; `retry: 2000` first, a `: ping` comment every 15 s',
      description: `A token sees the changes of its project; one spanning every project sees all of them, or those of the project it names (Skiff-Project or ?project=). At most ${STREAMS_PER_TOKEN} streams per token (or session): more is 429 TOOMANYREQUESTS. Changes of one resource within 250 ms come as one. The stream ends when the daemon stops: reconnect (EventSource does, after retry).`,
      tags: ['dashboard'],
      querystring: { type: 'object', additionalProperties: false, properties: { project: { type: 'string' } } },
      response: {
        200: { description: 'text/event-stream: `event: change` lines whose data is a ChangeEvent', content: { 'text/event-stream': { schema: changeSchema } } },
        429: error,
      },
    },
  }, async (req, reply) => openStream(req, reply, streams, stillSignedIn));
}

/** the permission of each kind's list route: a change of that kind reaches only a token holding it */
const LIST_PERMISSION: Record<ChangeEvent['kind'], Permission> = {
  service: 'services:read',
  trigger: 'triggers:read',
  job: 'jobs:read',
  domain: 'domains:read',
  volume: 'volumes:read',
  secret: 'secrets:read',
  registry: 'images:pull',
  project: 'projects:read',
  budget: 'projects:read',
  token: 'tokens:manage',
};

/** Whether a change is the principal's to see: a project it may see, a kind its role may list. */
export function mayWatch(principal: Principal, change: ChangeEvent): boolean {
  return visibleTo(principal, change.project) && allows(principal.role, LIST_PERMISSION[change.kind]);
}

function openStream(req: FastifyRequest, reply: FastifyReply, streams: ChangeStreams, stillSignedIn: StillSignedIn): FastifyReply | undefined {
  const principal = req.principal!;
  const token = principal.tokenId;
  if (streams.countOf(token) >= streams.maxPerToken) throw new SkiffError('TOOMANYREQUESTS', `this token has ${streams.maxPerToken} change streams open already: close one (a dashboard tab) first`);
  const res = reply.raw;
  if (!streams.add(res, token)) throw new SkiffError('UNAVAILABLE', 'the daemon is stopping');
  reply.hijack();
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    // nothing between here and the browser may buffer or transform it
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
    'x-content-type-options': 'nosniff',
  });
  res.write(`retry: ${STREAM_RETRY_MS}\n\n`);
  const write = (text: string) => {
    if (res.writableLength > ChangeStreams.MAX_UNREAD_BYTES) return end();
    res.write(text);
  };
  const unsubscribe = streams.hub.subscribe({
    sees: (change) => mayWatch(principal, change),
    send: (change) => write(`event: change\ndata: ${JSON.stringify(change)}\n\n`),
  });
  const stopPing = streams.clock.every(streams.pingMs, () => {
    void stillSignedIn(req).then((yes) => (yes ? write(': ping\n\n') : end()), () => end());
  });
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    unsubscribe();
    stopPing();
    streams.remove(res);
    if (!res.writableEnded) res.end();
  };
  res.once('close', end);
  res.once('finish', end);
  req.raw.once('close', end);
  // the client may have gone while the token was being checked: 'close' has fired already then
  // (the socket's state, not the request's: a GET's request stream is done, and destroyed, already)
  if (!res.socket || res.socket.destroyed) end();
  return undefined;
}

/** resource kinds by the first segment of an /api/v1 path */
const KIND_OF_SEGMENT: Record<string, ChangeEvent['kind']> = {
  services: 'service',
  triggers: 'trigger',
  jobs: 'job',
  domains: 'domain',
  volumes: 'volume',
  secrets: 'secret',
  registry: 'registry',
  projects: 'project',
  budgets: 'budget',
  tokens: 'token',
};

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The resource a state-changing request changed, from its route: the kind by the path's first
 * segment, the name by its parameter (or, for a create, the body's `name` / `host`), the project it
 * acted in. undefined for routes that change nothing the dashboard lists (runs, invocations,
 * sign-in, down).
 */
export function changeOf(route: string, params: Record<string, string | undefined>, body: unknown, tenant: string, repositoryProject?: (name: string) => string): ChangeEvent | undefined {
  const segment = /^\/api\/v1\/([^/]+)/.exec(route)?.[1];
  const kind = segment === undefined ? undefined : KIND_OF_SEGMENT[segment];
  // an invocation goes through a service without changing anything the dashboard lists of it
  if (!kind || route.endsWith('/invocations')) return undefined;
  const fromBody = typeof body === 'object' && body !== null ? ((body as { name?: unknown; host?: unknown }).name ?? (body as { host?: unknown }).host) : undefined;
  const name = params.name ?? params.host ?? params.repository ?? params.id ?? (!route.includes('/:') && typeof fromBody === 'string' ? fromBody : undefined);
  // A change is the project's whose resource it is, whoever made it: a project's (and its budget's)
  // own, a repository's by its name, a token's by the project it was made for (a token spanning
  // every project may make one for another project). A token is named by nobody: its name and id
  // are for the list of its project's admins to show.
  if (kind === 'token') {
    const made = typeof body === 'object' && body !== null ? ((body as { project?: unknown }).project ?? (body as { tenant?: unknown }).tenant) : undefined;
    return { kind, project: route.includes('/:') || typeof made !== 'string' ? tenant : made };
  }
  let project = tenant;
  if ((kind === 'project' || kind === 'budget') && name !== undefined) project = name;
  if (kind === 'registry' && name !== undefined) {
    // without the registry's project names it cannot be told whose it is: nobody but '*' sees it
    project = repositoryProject ? repositoryProject(name) : '*';
  }
  return { kind, ...(name !== undefined ? { name } : {}), project };
}

/** Publishes every successful state-changing request of `api` to the hub. */
export function publishChanges(api: FastifyInstance, hub: ChangeStreams['hub'], repositoryProject?: (name: string) => string): void {
  api.addHook('onResponse', async (req, reply) => {
    if (SAFE_METHODS.has(req.method) || reply.statusCode < 200 || reply.statusCode >= 300 || !req.principal) return;
    const route = req.routeOptions.url;
    if (!route) return;
    const change = changeOf(route, (req.params ?? {}) as Record<string, string | undefined>, req.body, req.principal.tenant, repositoryProject);
    if (change) hub.publish(change);
  });
}
