// store/open: picks the database from the store URL and builds the repositories on it. An empty URL
// is the embedded default, SQLite at <dataDir>/skiff.db (the file earlier Skiffs used, migrated in
// place); postgres:// or postgresql:// keeps all metadata in that PostgreSQL database.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../core/clock.ts';
import { SkiffError } from '../core/errors.ts';
import { sql } from 'kysely';
import type { Db } from './database.ts';
import { MIGRATIONS, type Migration } from './migrations.ts';
import { isPostgresUrl, openPostgres, postgresTransactor } from './postgres.ts';
import { KyselyRegistryRepository } from './registry-repository.ts';
import type { Store } from './repositories.ts';
import { KyselyServingRepository } from './serving-repository.ts';
import { KyselyEventsRepository } from './events-repository.ts';
import { KyselyJobsRepository } from './jobs-repository.ts';
import { KyselySecretsRepository } from './secrets-repository.ts';
import { KyselyVolumesRepository } from './volumes-repository.ts';
import { KyselyDomainsRepository } from './domains-repository.ts';
import { openSqlite, SQLITE_FILE, sqliteTransactor } from './sqlite.ts';
import { KyselyTokenRepository } from './token-repository.ts';
import { KyselyProjectsRepository } from './projects-repository.ts';
import type { Transactor } from './transaction.ts';
import { KyselyUsageRepository } from './usage-repository.ts';
import { KyselyBudgetsRepository } from './budgets-repository.ts';

export interface StoreOptions {
  /** the `store` setting: empty for SQLite in the data dir, or a postgres:// URL */
  url?: string;
  dataDir: string;
  /** read only by the token cache's expiry; the system clock by default */
  clock?: Clock;
}

export interface OpenedDatabase {
  kind: Store['kind'];
  db: Db;
  transactor: Transactor;
}

/** The migrated database without repositories (openStore's first half; tests build old schemas with it). */
export async function openDatabase(o: StoreOptions, migrations: readonly Migration[] = MIGRATIONS): Promise<OpenedDatabase> {
  const url = o.url?.trim() ?? '';
  if (url === '') {
    await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
    const db = openSqlite(path.join(o.dataDir, SQLITE_FILE), migrations);
    return { kind: 'sqlite', db, transactor: sqliteTransactor(db) };
  }
  if (isPostgresUrl(url)) {
    const db = await openPostgres(url, migrations);
    return { kind: 'postgres', db, transactor: postgresTransactor(db) };
  }
  // only the scheme: anything after it may hold a password
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? 'a URL without a scheme';
  throw new SkiffError('CONFIG_INVALID', `store: unsupported store URL (${scheme}); leave it empty for SQLite in the data dir or give a postgres:// URL`);
}

export async function openStore(o: StoreOptions): Promise<Store> {
  const { kind, db, transactor } = await openDatabase(o);
  let closing: Promise<void> | undefined;
  return {
    kind,
    registry: new KyselyRegistryRepository(db, transactor),
    tokens: new KyselyTokenRepository(db, o.clock),
    projects: new KyselyProjectsRepository(db),
    serving: new KyselyServingRepository(db, transactor),
    events: new KyselyEventsRepository(db, transactor),
    jobs: new KyselyJobsRepository(db, transactor),
    secrets: new KyselySecretsRepository(db, transactor),
    volumes: new KyselyVolumesRepository(db),
    domains: new KyselyDomainsRepository(db),
    usage: new KyselyUsageRepository(db),
    budgets: new KyselyBudgetsRepository(db),
    ping: async () => void (await sql`select 1`.execute(db)),
    close: () => (closing ??= db.destroy()),
  };
}
