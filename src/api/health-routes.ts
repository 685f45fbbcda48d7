// api/health-routes: /healthz and /readyz, for load balancers, systemd and orchestrators — no token,
// outside /api/v1, and nothing in the answers beyond a verdict per check (anyone may ask).
//   /healthz  the process serves HTTP (liveness): always 200 while it does
//   /readyz   every dependency answers (readiness): 200, or 503 naming the failing checks
import type { FastifyInstance } from 'fastify';
import { VERSION } from '../core/version.ts';
import type { HealthPort } from './ports.ts';

const checksSchema = { type: 'object', additionalProperties: { type: 'string' } } as const;
const statusSchema = (extra: object) => ({ type: 'object', required: ['status'], properties: { status: { type: 'string' }, ...extra } }) as const;

export function registerHealthRoutes(app: FastifyInstance, health: HealthPort): void {
  app.get('/healthz', {
    schema: { summary: 'Liveness: the daemon serves HTTP (no token)', tags: ['health'], security: [], response: { 200: statusSchema({ version: { type: 'string' } }) } },
  }, async () => ({ status: 'ok', version: VERSION }));

  app.get('/readyz', {
    schema: {
      summary: 'Readiness: every dependency answers (no token); 503 names the failing checks',
      tags: ['health'],
      security: [],
      response: { 200: statusSchema({ checks: checksSchema }), 503: statusSchema({ checks: checksSchema }) },
    },
  }, async (_req, reply) => {
    const checks = await health.checks();
    const ready = Object.values(checks).every((v) => v === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
}
