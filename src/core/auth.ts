// core/auth: who is calling. API tokens are API credentials and registry passwords at once; the
// registry and the API both read them from an Authorization header.

/** admin: everything; push: push and pull images; pull: read only. */
export type TokenRole = 'admin' | 'push' | 'pull';

export const TOKEN_ROLES: readonly TokenRole[] = ['admin', 'push', 'pull'];

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
