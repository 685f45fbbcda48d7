// store/repositories: the Store — the repositories (core/repositories.ts) on one database, SQLite
// (embedded default) or PostgreSQL (--store postgres://…), as openStore (open.ts) builds it.
import type { ProjectsRepository, DomainsRepository, EventsRepository, JobsRepository, RegistryRepository, SecretsRepository, ServingRepository, TokenRepository, VolumesRepository } from '../core/repositories.ts';

import type { UsageRepository } from '../core/usage.ts';
import type { BudgetsRepository } from '../core/budgets.ts';

export type { ProjectsRepository, DomainsRepository, EventsRepository, JobsRepository, RegistryRepository, SecretsRepository, ServingRepository, TokenRepository, VolumesRepository } from '../core/repositories.ts';

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  readonly registry: RegistryRepository;
  readonly tokens: TokenRepository;
  readonly projects: ProjectsRepository;
  readonly serving: ServingRepository;
  readonly events: EventsRepository;
  readonly jobs: JobsRepository;
  readonly secrets: SecretsRepository;
  readonly volumes: VolumesRepository;
  readonly domains: DomainsRepository;
  /** metering's per-minute rows (core/usage.ts) */
  readonly usage: UsageRepository;
  /** projects' monthly budgets (core/budgets.ts) */
  readonly budgets: BudgetsRepository;
  /** a round trip to the database (readiness): rejects when it cannot answer */
  ping(): Promise<void>;
  close(): Promise<void>;
}
