// api/auth: every /api/v1 request carries an API token (Authorization: Bearer, or Basic with the token
// as password), or, from the dashboard, no Authorization header and a session cookie (sessions.ts)
// standing for one; its principal is attached to the request. A cookie-authenticated POST, PUT, PATCH
// or DELETE must echo the session's CSRF token in X-Skiff-CSRF (403 CSRF_INVALID). Every route declares
// what it needs in its config (`permission`: a Permission, 'token' for any valid token, or 'none' for
// the one route that takes a token in its body, the sign-in); a route that declares nothing
// is refused at registration, so no route is ever open by omission. The check runs in onRequest,
// before the body is parsed or validated: a token without the permission learns nothing about the
// route's input rules.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SkiffError } from '../core/errors.ts';
import { ALL_PROJECTS_PERMISSIONS, deniedMessage, permits, tokenFromAuthorization, type Permission, type Principal } from '../core/auth.ts';
import { ALL_PROJECTS, DEFAULT_PROJECT } from '../core/projects.ts';
import type { OwnedKind, OwnerLookup, ProjectLookup, TokenPort } from './ports.ts';
import { cookieValue, csrfMatches, CSRF_HEADER, SESSION_COOKIE, type SessionStore } from './sessions.ts';

export type { OwnedKind, OwnerLookup, ProjectLookup } from './ports.ts';

/** The header (or `?project=` query parameter) naming the project a request acts in. */
export const PROJECT_HEADER = 'skiff-project';



declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** the principal came from a session cookie (the dashboard), not an Authorization header */
    viaSession?: boolean;
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** what the route needs: a permission, 'token' (any valid token or session), or 'none': no
     *  credential is checked here, the handler does its own (only the sign-in, noCredential()) */
    permission?: Permission | 'token' | 'none';
  }
}

/** Route config for `permission`, so routes read `{ config: needs('services:write') }`. */
export const needs = (permission: Permission | 'token') => ({ permission });

/**
 * Route config of a route that checks no credential before its handler: the sign-in, which takes the
 * token in its body (and signing out, which ends whatever session the cookie names). Explicit, so a
 * route is never open by omission; refused on a route naming a resource by path.
 */
export const noCredential = () => ({ permission: 'none' as const });

/** methods that may change state: a cookie-authenticated one needs the CSRF header */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** the path parameter naming each kind */
const OWNER_PARAM: Record<OwnedKind, string> = { service: 'name', trigger: 'name', job: 'name', invocation: 'id', domain: 'host', token: 'id', project: 'name' };


declare module 'fastify' {
  interface FastifyContextConfig {
    /** the kind of resource the route's path parameter names: another project's answers 404 before the
     *  handler runs. 'self': the port it calls is keyed by project itself (secrets, volumes). */
    owner?: OwnedKind | 'self';
  }
}

/** Route config: `{ config: owned('services:read', 'service') }` for a route naming one service. */
export const owned = (permission: Permission, owner: OwnedKind | 'self') => ({ permission, owner });

/**
 * The project a request acts in (principal.tenant from here on):
 * - a project's token acts in its own project; naming another gets 404 (a name it may not know is
 *   not confirmed to exist);
 * - a token spanning every project acts in the project it names; naming none, in the project of the
 *   resource the route names, else `default` — and its lists show every project (`allProjects`).
 */
async function projectOf(principal: Principal, named: string | undefined, owner: string | undefined, projects: ProjectLookup | undefined): Promise<{ tenant: string; allProjects: boolean }> {
  if (principal.tenant !== ALL_PROJECTS) {
    if (named !== undefined && named !== principal.tenant) throw new SkiffError('NOT_FOUND', `no project ${JSON.stringify(named)}`);
    return { tenant: principal.tenant, allProjects: false };
  }
  if (named === undefined) return { tenant: owner ?? DEFAULT_PROJECT, allProjects: true };
  if (named !== DEFAULT_PROJECT && !(projects && (await projects.exists(named)))) throw new SkiffError('NOT_FOUND', `no project ${JSON.stringify(named)}: skiff project ls lists them`);
  return { tenant: named, allProjects: false };
}

function namedProject(req: { headers: Record<string, unknown>; url: string }): string | undefined {
  const header = req.headers[PROJECT_HEADER];
  if (typeof header === 'string' && header !== '') return header;
  const q = req.url.indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams(req.url.slice(q + 1)).get('project') || undefined;
}

/** the words the handlers use for a name that does not exist, so the two 404s read alike */
function notFoundMessage(kind: OwnedKind, key: string): string {
  if (kind === 'invocation') return `no invocation ${key}`;
  if (kind === 'token') return 'no such token';
  if (kind === 'domain') return `no domain ${key}`;
  return `no ${kind} named ${key}`;
}

/** Whether a resource of `project` shows in the request's lists. */
export function visibleTo(principal: Principal, project: string): boolean {
  return principal.allProjects === true || principal.tenant === project;
}

/**
 * The principal of a request: its Authorization header's token when it has one (a wrong one is not
 * rescued by a cookie), else the session its cookie names, when `sessions` is given. A session whose
 * token was revoked ends here. A cookie-authenticated request that may change state must carry the
 * session's CSRF token.
 */
export async function authenticate(req: FastifyRequest, tokens: Pick<TokenPort, 'verify'>, sessions: SessionStore | undefined): Promise<{ principal: Principal; viaSession: boolean } | undefined> {
  if (req.headers.authorization !== undefined || !sessions) {
    const secret = tokenFromAuthorization(req.headers.authorization);
    const principal = secret ? await tokens.verify(secret) : undefined;
    return principal && { principal, viaSession: false };
  }
  const id = cookieValue(req.headers.cookie, SESSION_COOKIE);
  const session = id === undefined ? undefined : sessions.get(id);
  if (!session) return undefined;
  const principal = await tokens.verify(session.secret);
  if (!principal) {
    sessions.end(id!);
    return undefined;
  }
  if (!SAFE_METHODS.has(req.method) && !csrfMatches(session, req.headers[CSRF_HEADER])) {
    throw new SkiffError('CSRF_INVALID', `a ${req.method} signed in by the session cookie needs the session's CSRF token (the skiff_csrf cookie) in the X-Skiff-CSRF header`);
  }
  return { principal, viaSession: true };
}

export function requireToken(api: FastifyInstance, tokens: Pick<TokenPort, 'verify'>, scope?: { projects: ProjectLookup; owners: OwnerLookup }, sessions?: SessionStore): void {
  api.addHook('onRoute', (route) => {
    const config = route.config as { permission?: unknown; owner?: unknown } | undefined;
    if (config?.permission === undefined) throw new Error(`API route ${route.method} ${route.url} declares no permission (config: needs(...))`);
    if (config.permission === 'none' && (route.url.includes('/:') || config.owner !== undefined)) throw new Error(`API route ${route.method} ${route.url} names a resource: it cannot go without a credential`);
    // a route naming a resource by path says whose it is, so no route leaks another project's by omission
    if (scope && route.url.includes('/:') && config.owner === undefined && config.permission !== 'token' && !ALL_PROJECTS_PERMISSIONS.has(config.permission as Permission)) {
      throw new Error(`API route ${route.method} ${route.url} names a resource but declares no owner (config: owned(permission, kind))`);
    }
  });
  api.addHook('onRequest', async (req) => {
    const permission = req.routeOptions.config?.permission;
    if (permission === 'none') return;
    const found = await authenticate(req, tokens, sessions);
    if (!found) throw new SkiffError('UNAUTHORIZED', sessions ? 'a valid API token is required (Authorization: Bearer <token>), or a session (POST /api/v1/session)' : 'a valid API token is required (Authorization: Bearer <token>)');
    const { principal } = found;
    // the role first: a token without the permission learns nothing, not even whether a project exists
    // (the not-found handler has no route config: it answers 404 to any valid token)
    if (permission && permission !== 'token' && !permits(principal, permission)) {
      throw new SkiffError('DENIED', deniedMessage(principal, permission));
    }
    req.principal = { ...principal, scope: principal.tenant };
    req.viaSession = found.viaSession;
  });
  // Whose the named resource is, after the body and parameters were validated: checked before, a
  // malformed request naming another project's resource would answer 404 where one naming nothing
  // answers 400, telling the name exists.
  api.addHook('preHandler', async (req) => {
    if (req.routeOptions.config?.permission === 'none') return;
    const principal = { ...req.principal!, tenant: req.principal!.scope! };
    const kind = req.routeOptions.config?.owner;
    const key = kind && kind !== 'self' ? (req.params as Record<string, string | undefined>)[OWNER_PARAM[kind]] : undefined;
    const owner = key !== undefined && kind && kind !== 'self' && scope ? await scope.owners[kind](key) : undefined;
    const acting = await projectOf(principal, namedProject(req), owner, scope?.projects);
    // another project's resource is not there, as far as this request can tell: the same 404 as a
    // name that does not exist (the handler's own, when the lookup found nothing)
    if (owner !== undefined && owner !== acting.tenant) throw new SkiffError('NOT_FOUND', notFoundMessage(kind as OwnedKind, key!));
    req.principal = { ...principal, tenant: acting.tenant, allProjects: acting.allProjects };
  });
}
