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
 *   admin   + set and remove secrets, manage tokens, run registry garbage collection, stop the daemon (skiff down)
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
  | 'metrics:read';

const PULL: readonly Permission[] = ['images:pull'];
const PUSH: readonly Permission[] = [...PULL, 'images:push'];
const DEPLOY: readonly Permission[] = [...PUSH, 'services:read', 'services:write', 'runs:create', 'jobs:read', 'jobs:write', 'triggers:read', 'triggers:write', 'invocations:create', 'invocations:read', 'secrets:read', 'domains:read', 'domains:write', 'volumes:read', 'volumes:write', 'metrics:read'];
const ADMIN: readonly Permission[] = [...DEPLOY, 'secrets:write', 'tokens:manage', 'registry:gc', 'daemon:down'];

export const GRANTS: Readonly<Record<TokenRole, readonly Permission[]>> = { pull: PULL, push: PUSH, deploy: DEPLOY, admin: ADMIN };

export function allows(role: TokenRole, permission: Permission): boolean {
  return GRANTS[role]?.includes(permission) ?? false;
}

/** The roles holding `permission`, strongest first: for error messages and docs. */
export function rolesWith(permission: Permission): TokenRole[] {
  return TOKEN_ROLES.filter((r) => allows(r, permission));
}

/** The caller a valid token stands for. */
export interface Principal {
  tokenId: string;
  name: string;
  tenant: string;
  role: TokenRole;
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
