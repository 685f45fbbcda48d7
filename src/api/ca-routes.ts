// api/ca-routes: GET /api/v1/ca — the CA certificate of the registry's TLS listener (`registryTls`), in
// PEM, for operators to install on nodes (`skiff ca > /etc/docker/certs.d/HOST:PORT/ca.crt`). A CA
// certificate is public: any valid token may read it (the token only keeps the route from answering
// anyone who can reach the port). With the listener off there is no CA: 404 saying how to turn it on.
import type { FastifyInstance } from 'fastify';
import { SkiffError } from '../core/errors.ts';
import type { CaPort } from './ports.ts';
import { needs } from './auth.ts';
import { errorRef as error } from './errors.ts';

export const PEM_TYPE = 'application/x-pem-file';

export const CA_OFF_MESSAGE = 'the registry has no TLS listener, so no CA: start skiff up with --registry-tls HOST:PORT (or SKIFF_REGISTRY_TLS, registryTls in the config file) to make one';

export function registerCaRoutes(api: FastifyInstance, ca: CaPort | undefined): void {
  api.get('/ca', {
    config: needs('token'),
    schema: {
      summary: 'The CA certificate of the registry’s TLS listener (PEM), which nodes trust to pull over HTTPS; 404 while the listener is off',
      tags: ['registry'],
      response: {
        200: { description: 'the CA certificate, PEM', content: { [PEM_TYPE]: { schema: { type: 'string' } } } },
        404: error,
      },
    },
  }, async (_req, reply) => {
    if (!ca) throw new SkiffError('NOT_FOUND', CA_OFF_MESSAGE);
    return reply.header('content-type', PEM_TYPE).send(ca.certificate());
  });
}
