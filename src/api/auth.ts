// api/auth: every /api/v1 request carries an API token (Authorization: Bearer, or Basic with the token
// as password); its principal is attached to the request. Every route declares what it needs in its
// config (`permission`: a Permission, or 'token' for any valid token); a route that declares nothing
// is refused at registration, so no route is ever open by omission. The check runs in onRequest,
// before the body is parsed or validated: a token without the permission learns nothing about the
// route's input rules.
import type { FastifyInstance } from 'fastify';
import { SkiffError } from '../core/errors.ts';
import { ALL_PROJECTS_PERMISSIONS, deniedMessage, permits, tokenFromAuthorization, type Permission, type Principal } from '../core/auth.ts';
import { ALL_PROJECTS, DEFAULT_PROJECT } from '../core/projects.ts';
import type { OwnedKind, OwnerLookup, ProjectLookup, TokenPort } from './ports.ts';

export type { OwnedKind, OwnerLookup, ProjectLookup } from './ports.ts';

/** The header (or `?project=` query parameter) naming the project a request acts in. */
export const PROJECT_HEADER = 'skiff-project';



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

export function requireToken(api: FastifyInstance, tokens: Pick<TokenPort, 'verify'>, scope?: { projects: ProjectLookup; owners: OwnerLookup }): void {
  api.addHook('onRoute', (route) => {
    const config = route.config as { permission?: unknown; owner?: unknown } | undefined;
    if (config?.permission === undefined) throw new Error(`API route ${route.method} ${route.url} declares no permission (config: needs(...))`);
    // a route naming a resource by path says whose it is, so no route leaks another project's by omission
    if (scope && route.url.includes('/:') && config.owner === undefined && config.permission !== 'token' && !ALL_PROJECTS_PERMISSIONS.has(config.permission as Permission)) {
      throw new Error(`API route ${route.method} ${route.url} names a resource but declares no owner (config: owned(permission, kind))`);
    }
  });
  api.addHook('onRequest', async (req) => {
    const secret = tokenFromAuthorization(req.headers.authorization);
    const principal = secret ? await tokens.verify(secret) : undefined;
    if (!principal) throw new SkiffError('UNAUTHORIZED', 'a valid API token is required (Authorization: Bearer <token>)');
    // the role first: a token without the permission learns nothing, not even whether a project exists
    // (the not-found handler has no route config: it answers 404 to any valid token)
    const permission = req.routeOptions.config?.permission;
    if (permission && permission !== 'token' && !permits(principal, permission)) {
      throw new SkiffError('DENIED', deniedMessage(principal, permission));
    }
    req.principal = { ...principal, scope: principal.tenant };
  });
  // Whose the named resource is, after the body and parameters were validated: checked before, a
  // malformed request naming another project's resource would answer 404 where one naming nothing
  // answers 400, telling the name exists.
  api.addHook('preHandler', async (req) => {
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
