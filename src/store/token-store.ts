// store/token-store: API tokens. Only a sha256 of each secret is stored; lookups are cached in memory
// because every registry and API request authenticates.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Db } from './sqlite.ts';

export type TokenRole = 'admin' | 'push' | 'pull';

export interface Principal {
  tokenId: string;
  name: string;
  tenant: string;
  role: TokenRole;
}

interface TokenRow {
  id: string;
  name: string;
  hash: string;
  tenant: string;
  role: TokenRole;
  created_at: number;
}

const TOKEN_PREFIX = 'skf_';

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export class TokenStore {
  private readonly cache = new Map<string, Principal | null>();
  private readonly s;

  constructor(db: Db) {
    this.s = {
      insert: db.prepare('INSERT INTO tokens (id, name, hash, tenant, role, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      byHash: db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE hash = ?'),
      count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM tokens'),
      list: db.prepare<[], TokenRow>('SELECT * FROM tokens ORDER BY created_at'),
      remove: db.prepare('DELETE FROM tokens WHERE id = ?'),
    };
  }

  /** Creates a token and returns its secret; the secret is never stored and cannot be shown again. */
  create(name: string, tenant: string, role: TokenRole, now: number): { id: string; secret: string } {
    const id = randomUUID();
    const secret = TOKEN_PREFIX + randomBytes(24).toString('base64url');
    this.s.insert.run(id, name, hashSecret(secret), tenant, role, now);
    return { id, secret };
  }

  isEmpty(): boolean {
    return this.s.count.get()!.n === 0;
  }

  verify(secret: string): Principal | undefined {
    const hash = hashSecret(secret);
    const cached = this.cache.get(hash);
    if (cached !== undefined) return cached ?? undefined;
    const row = this.s.byHash.get(hash);
    const principal = row ? { tokenId: row.id, name: row.name, tenant: row.tenant, role: row.role } : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, principal);
    return principal ?? undefined;
  }

  list(): Array<Omit<TokenRow, 'hash'>> {
    return this.s.list.all().map(({ hash: _hash, ...rest }) => rest);
  }

  revoke(id: string): boolean {
    this.cache.clear();
    return this.s.remove.run(id).changes > 0;
  }
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
