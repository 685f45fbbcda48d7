// api/daemon-routes: /api/v1/daemon — the daemon itself. POST /daemon/down is `skiff down`: it answers
// 202 first, then the daemon stops taking connections, lets every instance finish its requests, stops
// them all and exits. Desired state (services, revisions, traffic, bounds) stays in the store, so the
// next `skiff up` starts the services' min instances again.
import type { FastifyInstance } from 'fastify';
import type { LifecyclePort } from './ports.ts';
import { needs } from './auth.ts';
import { errorRef as error } from './errors.ts';

export function registerDaemonRoutes(api: FastifyInstance, lifecycle: LifecyclePort): void {
  api.post('/daemon/down', {
    config: needs('daemon:down'),
    schema: {
      summary: 'Drain and stop every instance, then stop the daemon (admin); desired state is kept for the next start',
      tags: ['daemon'],
      response: { 202: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['draining'] } } }, 403: error },
    },
  }, async (_req, reply) => {
    // after the answer is out: stopping closes this very connection
    reply.raw.once('finish', () => lifecycle.down());
    return reply.code(202).send({ status: 'draining' });
  });
}
