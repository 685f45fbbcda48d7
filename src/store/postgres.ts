// store/postgres: PostgreSQL for operators who run a database server: a pg Pool (BIGINT parsed as a
// JS number on this pool only, a connect timeout so an unreachable server fails the start instead of
// hanging it), migrated under an advisory lock, then handed to Kysely; and the Transactor that runs
// multi-statement writes as SERIALIZABLE transactions, retried when they lose a conflict.
// Needs PostgreSQL 11 or newer (identity columns, hashtextextended); tested on 15.
import { setTimeout as sleep } from 'node:timers/promises';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { SkiffError } from '../core/errors.ts';
import type { Database as Tables, Db } from './database.ts';
import { MIGRATIONS, migratePostgres, type Migration } from './migrations.ts';
import type { Transactor } from './transaction.ts';

/** libpq's `connect_timeout` URL parameter (seconds) overrides it, as operators expect. pg-pool also
 *  bounds the wait for a free pooled connection by it: a store so overloaded that a query waits that
 *  long for a connection fails the query instead of queueing without bound. */
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const INT8_OID = 20;

// Epoch milliseconds, sizes, counts and event ids are BIGINT; pg returns them as strings by default
// because they can exceed 2^53. Ours cannot (ms until year 287396, sizes up to 8 PiB). Set on this
// pool's `types`, not on the global pg.types, so other pg users in the process are unaffected.
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgres://') || url.startsWith('postgresql://');
}

/** `host:port/database` of a URL, for messages: never the user's password. */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    // a unix socket is given as ?host=/run/postgresql (libpq style)
    const host = u.searchParams.get('host') ?? (u.hostname || 'localhost');
    const port = u.searchParams.get('port') ?? (u.port || '5432');
    return `${host}:${port}${u.pathname.length > 1 ? u.pathname : ''}`;
  } catch {
    return 'an unparsable postgres:// URL';
  }
}

function connectTimeoutMs(url: string): number {
  try {
    const seconds = Number(new URL(url).searchParams.get('connect_timeout'));
    return seconds > 0 ? seconds * 1000 : DEFAULT_CONNECT_TIMEOUT_MS;
  } catch {
    return DEFAULT_CONNECT_TIMEOUT_MS;
  }
}

function passwordOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return '';
  }
}

export async function openPostgres(url: string, migrations: readonly Migration[] = MIGRATIONS): Promise<Db> {
  const where = describePostgresUrl(url);
  // application_name names Skiff's sessions in pg_stat_activity (an application_name in the URL wins)
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs(url), types, application_name: 'skiff' });
  // An idle pooled connection that dies (server restart) is reported here; without a listener it
  // would crash the process. The pool replaces it, and the next query reports a lasting problem.
  pool.on('error', () => {});
  // A connection that dies while checked out (a query in flight when the server stops) fails that
  // query, and pg also emits 'error' on the client, where the pool listens only while it is idle:
  // unheard, that event took the whole daemon down. The failed query is the report.
  pool.on('connect', (client) => void client.on('error', () => {}));
  try {
    try {
      (await pool.connect()).release();
    } catch (err) {
      const password = passwordOf(url);
      let reason = err instanceof Error ? err.message : String(err);
      if (password) reason = reason.split(password).join('***');
      throw new SkiffError('CONFIG_INVALID', `store: cannot connect to PostgreSQL at ${where}: ${reason}`, { cause: err });
    }
    await migratePostgres(pool, migrations);
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
  return new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
}

// serialization_failure and deadlock_detected: the transaction did nothing and may simply run again.
const RETRYABLE = new Set(['40001', '40P01']);
/** Enough for dozens of writers on one row (each round lets at least one commit); bounded so a
 *  pathological conflict surfaces as an error instead of a hang. */
const MAX_ATTEMPTS = 30;

function isRetryable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && RETRYABLE.has(String((err as { code?: unknown }).code));
}

/**
 * Every multi-statement write runs SERIALIZABLE: PostgreSQL then guarantees the outcome of any set of
 * them equals some one-at-a-time order, which is the guarantee the SQLite store has by construction
 * (one connection, BEGIN IMMEDIATE). A manifest write and a GC sweep that overlap therefore cannot both
 * commit on stale reads; two deploys of a new service cannot both see "no service yet". The loser gets
 * 40001 (or 40P01) and is retried from the start, after a random backoff that grows with each attempt
 * so colliding writers spread out instead of colliding again in lockstep.
 */
export function postgresTransactor(db: Db): Transactor {
  return {
    async write(fn) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await db.transaction().setIsolationLevel('serializable').execute(fn);
        } catch (err) {
          if (!isRetryable(err)) throw err;
          if (attempt >= MAX_ATTEMPTS) {
            throw new SkiffError('UNAVAILABLE', `store: a transaction kept conflicting with concurrent writes (${attempt} attempts)`, { cause: err });
          }
          await sleep(Math.random() * Math.min(100, 2 * 2 ** attempt));
        }
      }
    },
  };
}
