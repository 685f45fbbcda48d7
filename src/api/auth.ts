// api/auth: every /api/v1 request carries an API token (Authorization: Bearer, or Basic with the token
// as password); its principal is attached to the request. Every route declares what it needs in its
// config (`permission`: a Permission, or 'token' for any valid token); a route that declares nothing
// is refused at registration, so no route is ever open by omission. The check runs in onRequest,
// before the body is parsed or validated: a token without the permission learns nothing about the
// route's input rules.
import type { FastifyInstance } from 'fastify';
import { SkiffError } from '../core/errors.ts';
import { allows, rolesWith, tokenFromAuthorization, type Permission, type Principal } from '../core/auth.ts';
import type { TokenPort } from './ports.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** what the route needs: a permission, or 'token' (any valid token) */
    permission?: Permission | 'token';
  }
}

/** Route config for `permission`, so routes read `{ config: needs('services:write') }`. */
export const needs = (permission: Permission | 'token') => ({ permission });

export function requireToken(api: FastifyInstance, tokens: Pick<TokenPort, 'verify'>): void {
  api.addHook('onRoute', (route) => {
    const permission = (route.config as { permission?: unknown } | undefined)?.permission;
    if (permission === undefined) throw new Error(`API route ${route.method} ${route.url} declares no permission (config: needs(...))`);
  });
  api.addHook('onRequest', async (req) => {
    const secret = tokenFromAuthorization(req.headers.authorization);
    const principal = secret ? await tokens.verify(secret) : undefined;
    if (!principal) throw new SkiffError('UNAUTHORIZED', 'a valid API token is required (Authorization: Bearer <token>)');
    req.principal = principal;
    // the not-found handler has no route config: it answers 404 to any valid token
    const permission = req.routeOptions.config?.permission;
    if (permission && permission !== 'token' && !allows(principal.role, permission)) {
      throw new SkiffError('DENIED', `a ${principal.role} token may not do this: it needs ${permission}, which the roles ${rolesWith(permission).join(', ')} hold`);
    }
  });
}
