// store/repositories: the Store — the repositories (core/repositories.ts) on one database, SQLite
// (embedded default) or PostgreSQL (--store postgres://…), as openStore (open.ts) builds it.
import type { RegistryRepository, ServingRepository, TokenRepository } from '../core/repositories.ts';

export type { RegistryRepository, ServingRepository, TokenRepository } from '../core/repositories.ts';

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  readonly registry: RegistryRepository;
  readonly tokens: TokenRepository;
  readonly serving: ServingRepository;
  close(): Promise<void>;
}
