// core/auth: who is calling. API tokens are API credentials and registry passwords at once; the
// registry and the API both read them from an Authorization header.

/**
 * What a token may do, each role including the one below it (docs/security.md has the route table):
 *   pull    pull images (registry reads)
 *   push    + push and delete images (registry writes)
 *   deploy  + read and change services (deploy, traffic, scale, logs, delete), run containers, manage
 *           and run jobs, manage triggers and their dead letters, invoke services from the API and read
 *           invocations, manage custom domains and their certificates, manage volumes
 *           (create, remove, export, import),
 *           list secrets (names, versions, key names) and use them in services
 *           read their project (quota and what it holds) and its usage and bill
 *   admin   + set and remove secrets, manage tokens; spanning every project ('*'): also manage
 *           projects, run registry garbage collection, stop the daemon (skiff down), list the
 *           nodes instances run on (skiff nodes)
 * A token belongs to one project and acts only in it; the operator's admin tokens span every
 * project (ALL_PROJECTS_PERMISSIONS below is what only they may do).
 */
export type TokenRole = 'admin' | 'deploy' | 'push' | 'pull';

export const TOKEN_ROLES: readonly TokenRole[] = ['admin', 'deploy', 'push', 'pull'];

/** What an operation needs; a role holds a fixed set (GRANTS). */
export type Permission =
  | 'images:pull'
  | 'images:push'
  | 'services:read'
  | 'services:write'
  | 'runs:create'
  | 'jobs:read'
  | 'jobs:write'
  | 'triggers:read'
  | 'triggers:write'
  | 'invocations:create'
  | 'invocations:read'
  | 'secrets:read'
  | 'secrets:write'
  | 'domains:read'
  | 'domains:write'
  | 'volumes:read'
  | 'volumes:write'
  | 'tokens:manage'
  | 'registry:gc'
  | 'daemon:down'
  | 'nodes:read'
  | 'metrics:read'
  | 'projects:read'
  | 'usage:read'
  | 'projects:manage';

const PULL: readonly Permission[] = ['images:pull'];
const PUSH: readonly Permission[] = [...PULL, 'images:push'];
const DEPLOY: readonly Permission[] = [...PUSH, 'services:read', 'services:write', 'runs:create', 'jobs:read', 'jobs:write', 'triggers:read', 'triggers:write', 'invocations:create', 'invocations:read', 'secrets:read', 'domains:read', 'domains:write', 'volumes:read', 'volumes:write', 'metrics:read', 'projects:read', 'usage:read'];
const ADMIN: readonly Permission[] = [...DEPLOY, 'secrets:write', 'tokens:manage', 'registry:gc', 'daemon:down', 'nodes:read', 'projects:manage'];

export const GRANTS: Readonly<Record<TokenRole, readonly Permission[]>> = { pull: PULL, push: PUSH, deploy: DEPLOY, admin: ADMIN };

export function allows(role: TokenRole, permission: Permission): boolean {
  return GRANTS[role]?.includes(permission) ?? false;
}

/**
 * What only a token spanning every project may do, whatever its role: these act on the whole
 * machine (registry GC, stopping the daemon, projects themselves) or show every project at once
 * (the Prometheus metrics name every project's services). A project's own admin manages its
 * project's secrets and tokens, not these.
 */
export const ALL_PROJECTS_PERMISSIONS: ReadonlySet<Permission> = new Set<Permission>(['registry:gc', 'daemon:down', 'nodes:read', 'projects:manage', 'metrics:read']);

/** Whether `principal` may do `permission`: its role holds it, and a machine-wide one needs a token spanning all projects. */
export function permits(principal: Pick<Principal, 'role' | 'tenant'>, permission: Permission): boolean {
  return allows(principal.role, permission) && (!ALL_PROJECTS_PERMISSIONS.has(permission) || principal.tenant === '*');
}

/** The roles holding `permission`, strongest first: for error messages and docs. */
export function rolesWith(permission: Permission): TokenRole[] {
  return TOKEN_ROLES.filter((r) => allows(r, permission));
}

/** Why `principal` may not do `permission`, for a DENIED message. */
export function deniedMessage(principal: Pick<Principal, 'role' | 'tenant'>, permission: Permission): string {
  if (allows(principal.role, permission)) return `this needs ${permission}, which only a token spanning every project holds (the operator's admin token, or one made with --project '*'); this token belongs to project ${principal.tenant}`;
  return `a ${principal.role} token may not do this: it needs ${permission}, which the roles ${rolesWith(permission).join(', ')} hold`;
}

/** The caller a valid token stands for. */
export interface Principal {
  tokenId: string;
  name: string;
  /** the token's project, or '*' (core/projects.ts ALL_PROJECTS) when it spans every project. On an
   *  API request, api/auth replaces it with the project the request acts in and keeps the token's
   *  own scope in `scope`. */
  tenant: string;
  role: TokenRole;
  /** the token's project or '*', as stored (set by api/auth on API requests) */
  scope?: string;
  /** a token spanning every project that named none: its lists show every project (set by api/auth) */
  allProjects?: boolean;
}

/** A token as listed (its secret is never stored, only a hash of it). */
export interface TokenRecord {
  id: string;
  name: string;
  tenant: string;
  role: TokenRole;
  createdAt: number;
}

/** Extracts the token from `Bearer <token>` or `Basic base64(user:token)`. */
export function tokenFromAuthorization(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const space = authorization.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = authorization.slice(0, space).toLowerCase();
  const value = authorization.slice(space + 1).trim();
  if (scheme === 'bearer') return value || undefined;
  if (scheme !== 'basic') return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1) || undefined;
}
