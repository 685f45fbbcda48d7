// api/metrics-routes: GET /metrics, the daemon's Prometheus metrics (docs/metrics.md), on the API
// listener at the path Prometheus scrapes by default. Outside /api/v1, but behind the same token check:
// a scrape config sends a token holding metrics:read (deploy, admin) as its bearer token. An
// unauthenticated copy can be had on a listener of its own (`metrics.listen`, daemon/metrics.ts).
import type { FastifyInstance } from 'fastify';
import { needs, requireToken } from './auth.ts';
import { sendApiError, skiffErrorSchema } from './errors.ts';
import type { MetricsPort, TokenPort } from './ports.ts';

export async function registerMetricsRoute(app: FastifyInstance, metrics: MetricsPort, tokens: Pick<TokenPort, 'verify'>): Promise<void> {
  await app.register(async (scope) => {
    scope.addSchema(skiffErrorSchema);
    scope.setErrorHandler((err, req, reply) => sendApiError(reply, err, req));
    requireToken(scope, tokens);
    scope.get('/metrics', {
      config: needs('metrics:read'),
      schema: {
        summary: 'Prometheus metrics of the daemon (text exposition format 0.0.4); needs metrics:read',
        tags: ['metrics'],
        // a scraper's token only: the dashboard's session cookie is for /api/v1
        security: [{ token: [] }],
        response: {
          200: { description: 'the metrics, as Prometheus scrapes them', content: { 'text/plain': { schema: { type: 'string' } } } },
          401: { description: 'no valid token', content: { 'application/json': { schema: { $ref: 'SkiffError#' } } } },
          403: { description: 'the token lacks metrics:read', content: { 'application/json': { schema: { $ref: 'SkiffError#' } } } },
        },
      },
    }, async (_req, reply) => {
      const text = await metrics.render();
      return reply.type(metrics.contentType).send(text);
    });
  });
}
