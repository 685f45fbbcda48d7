// store/token-repository: API tokens (also the registry's passwords) on either dialect. Only the
// sha256 of a secret is stored. Every registry and API request authenticates, so verify() answers from
// a bounded in-memory cache; entries live TOKEN_CACHE_TTL_MS, so a token revoked by another process
// sharing the PostgreSQL database stops working within that time (at once when revoked here).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Principal, TokenRecord, TokenRole } from '../core/auth.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import type { Db } from './database.ts';
import { SkiffError } from '../core/errors.ts';
import type { TokenRepository } from './repositories.ts';

const TOKEN_PREFIX = 'skf_';
export const TOKEN_CACHE_TTL_MS = 10_000;
/** positive and negative entries together; the oldest goes first (a flood of wrong secrets cannot grow memory) */
const TOKEN_CACHE_MAX = 10_000;

/** A unique index or primary key refused the row: SQLite's constraint codes, or PostgreSQL's unique_violation. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

interface CacheEntry {
  /** null: no such token (cached too, so a client retrying a wrong secret costs no query) */
  principal: Principal | null;
  at: number;
}

export class KyselyTokenRepository implements TokenRepository {
  private readonly cache = new Map<string, CacheEntry>();
  /** bumped by local create/revoke: a lookup that started before one must not cache what it read */
  private epoch = 0;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock = systemClock,
  ) {}

  async create(name: string, tenant: string, role: TokenRole, now: number): Promise<{ id: string; secret: string }> {
    const id = randomUUID();
    const secret = TOKEN_PREFIX + randomBytes(24).toString('base64url');
    try {
      await this.db.insertInto('tokens').values({ id, name, hash: hashSecret(secret), tenant, role, created_at: now }).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new SkiffError('CONFLICT', `a token named ${JSON.stringify(name)} exists in tenant ${tenant}: revoke it (skiff token rm ID) or pick another name`);
      throw err;
    }
    this.forget();
    return { id, secret };
  }

  async verify(secret: string): Promise<Principal | undefined> {
    const hash = hashSecret(secret);
    const now = this.clock.now();
    const cached = this.cache.get(hash);
    if (cached && now - cached.at < TOKEN_CACHE_TTL_MS) return cached.principal ?? undefined;
    const epoch = this.epoch;
    const row = await this.db.selectFrom('tokens').select(['id', 'name', 'tenant', 'role']).where('hash', '=', hash).executeTakeFirst();
    const principal = row ? { tokenId: row.id, name: row.name, tenant: row.tenant, role: row.role as TokenRole } : null;
    if (epoch !== this.epoch) return principal ?? undefined;
    this.cache.delete(hash);
    if (this.cache.size >= TOKEN_CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(hash, { principal, at: now });
    return principal ?? undefined;
  }

  async list(): Promise<TokenRecord[]> {
    const rows = await this.db.selectFrom('tokens').select(['id', 'name', 'tenant', 'role', 'created_at']).orderBy('created_at').orderBy('id').execute();
    return rows.map((r) => ({ id: r.id, name: r.name, tenant: r.tenant, role: r.role as TokenRole, createdAt: r.created_at }));
  }

  async revoke(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('tokens').where('id', '=', id).executeTakeFirst();
    this.forget();
    return r.numDeletedRows > 0n;
  }

  private forget(): void {
    this.epoch++;
    this.cache.clear();
  }
}
