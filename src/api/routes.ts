// api/routes: the control-plane REST API under /api/v1 — one routes file per resource, all behind the
// token check (auth.ts) and one error serializer (errors.ts) — described by the OpenAPI document at
// /api/openapi.json (generated from the route schemas, so the two cannot drift).
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { SkiffError } from '../core/errors.ts';
import type { ApiDeps } from './ports.ts';
import { sendApiError, skiffErrorSchema } from './errors.ts';
import { needs, requireToken } from './auth.ts';
import { registerTokenRoutes } from './tokens-routes.ts';
import { registerProjectRoutes } from './projects-routes.ts';
import { registerServiceRoutes } from './services-routes.ts';
import { registerRunRoutes } from './runs-routes.ts';
import { registerEventsRoutes } from './events-routes.ts';
import { registerJobRoutes } from './jobs-routes.ts';
import { registerVolumeRoutes } from './volumes-routes.ts';
import { registerDomainRoutes } from './domains-routes.ts';
import { registerSecretRoutes } from './secrets-routes.ts';
import { registerRegistryRoutes } from './registry-routes.ts';
import { registerRegistryBrowseRoutes } from './registry-browse-routes.ts';
import { registerHealthRoutes } from './health-routes.ts';
import { registerCaRoutes } from './ca-routes.ts';
import { registerDaemonRoutes } from './daemon-routes.ts';
import { registerNodeRoutes } from './nodes-routes.ts';
import { registerMetricsRoute } from './metrics-routes.ts';
import { registerUsageRoutes } from './usage-routes.ts';
import { registerBudgetRoutes } from './budget-routes.ts';
import { registerSessionRoutes } from './session-routes.ts';
import { SessionStore, SignInLimiter } from './sessions.ts';
import { publishChanges, registerStreamRoutes } from './stream-routes.ts';
import { authenticate } from './auth.ts';

export async function registerApiRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  await app.register(swagger, {
    openapi: {
      // 3.1: its schemas are JSON Schema 2020-12, which the route schemas are written in (type 'null',
      // const, …); declared 3.0.3 a validator found 22 errors
      openapi: '3.1.0',
      info: { title: 'Skiff control API', version: deps.version, description: 'Manage Skiff: tokens, services and their revisions, one-off runs, jobs, triggers and invocations, custom domains, registry maintenance.' },
      // a token in the Authorization header, or the dashboard's session cookie (POST /api/v1/session;
      // then state-changing calls also carry X-Skiff-CSRF: docs/security.md, Sessions)
      components: { securitySchemes: { token: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie', name: 'skiff_session' } } },
      security: [{ token: [] }, { session: [] }],
    },
    hideUntagged: false,
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  registerHealthRoutes(app, deps.health);
  if (deps.metrics) await registerMetricsRoute(app, deps.metrics, deps.tokens);

  await app.register(async (api) => {
    api.addSchema(skiffErrorSchema);
    // PATCH bodies are JSON merge patches (RFC 7396); plain application/json is accepted as well
    api.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, api.getDefaultJsonParser('error', 'error'));
    api.setErrorHandler((err, req, reply) => sendApiError(reply, err, req));
    api.setNotFoundHandler((req, reply) => sendApiError(reply, new SkiffError('NOT_FOUND', `no API endpoint ${req.method} ${req.url}`), req));
    // the dashboard's sign-in sessions: in this process's memory only (a restart signs everyone out)
    const sessions = new SessionStore(deps.now);
    requireToken(api, deps.tokens, { projects: deps.projects, owners: deps.owners }, sessions);
    registerSessionRoutes(api, deps.tokens, sessions, new SignInLimiter(deps.now));
    // the dashboard's live updates: each successful change is published, GET /stream hands them out
    if (deps.changes) {
      const browse = deps.registryBrowse;
      publishChanges(api, deps.changes.hub, browse && ((name) => browse.projectOf(name)));
      registerStreamRoutes(api, deps.changes, async (req) => (await authenticate(req, deps.tokens, sessions).catch(() => undefined))?.principal.tokenId === req.principal?.tokenId);
    }

    api.get('/health', { config: needs('token'), schema: { summary: 'Liveness of the daemon', response: { 200: { type: 'object', properties: { status: { type: 'string' }, version: { type: 'string' } } } } } }, async () => ({
      status: 'ok',
      version: deps.version,
    }));

    registerTokenRoutes(api, deps.tokens, deps.projects, deps.now);
    registerProjectRoutes(api, deps.projects);
    registerServiceRoutes(api, deps.serving, deps.stats);
    registerRunRoutes(api, deps.runs);
    registerEventsRoutes(api, deps.events);
    registerJobRoutes(api, deps.jobs);
    registerVolumeRoutes(api, deps.volumes);
    registerDomainRoutes(api, deps.domains);
    registerSecretRoutes(api, deps.secrets);
    registerRegistryRoutes(api, deps.gc);
    registerCaRoutes(api, deps.ca);
    if (deps.registryBrowse) registerRegistryBrowseRoutes(api, deps.registryBrowse);
    registerDaemonRoutes(api, deps.lifecycle);
    if (deps.nodes) registerNodeRoutes(api, deps.nodes);
    if (deps.usage) registerUsageRoutes(api, deps.usage);
    if (deps.budgets) registerBudgetRoutes(api, deps.budgets);
  }, { prefix: '/api/v1' });
}
