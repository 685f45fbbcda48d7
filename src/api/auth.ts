// api/auth: every /api/v1 request carries an API token (Authorization: Bearer, or Basic with the token
// as password); its principal is attached to the request, and routes demand a role where they need one.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SkiffError } from '../core/errors.ts';
import { tokenFromAuthorization, type Principal } from '../core/auth.ts';
import type { TokenPort } from './ports.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export function requireToken(api: FastifyInstance, tokens: Pick<TokenPort, 'verify'>): void {
  api.addHook('onRequest', async (req) => {
    const secret = tokenFromAuthorization(req.headers.authorization);
    const principal = secret ? await tokens.verify(secret) : undefined;
    if (!principal) throw new SkiffError('UNAUTHORIZED', 'a valid API token is required (Authorization: Bearer <token>)');
    req.principal = principal;
  });
}

export function requireAdmin(req: FastifyRequest): void {
  if (req.principal?.role !== 'admin') throw new SkiffError('DENIED', 'this operation needs an admin token');
}
