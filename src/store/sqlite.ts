// store/sqlite: the embedded database: one better-sqlite3 connection per process, WAL and
// synchronous=FULL so an acknowledged write survives a crash, migrated by PRAGMA user_version, then
// handed to Kysely. Kysely's SQLite driver runs one query at a time on that connection, so a
// transaction of this process is never interleaved with another query of this process.
// better-sqlite3 is synchronous: a query blocks the event loop for its duration (callers keep the
// store off the gateway hot path), and so does waiting on busy_timeout when another process writes.
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Database as Tables, Db } from './database.ts';
import { MIGRATIONS, migrateSqlite, type Migration } from './migrations.ts';
import type { Transactor } from './transaction.ts';

export const SQLITE_FILE = 'skiff.db';

export function openSqlite(file: string, migrations: readonly Migration[] = MIGRATIONS): Db {
  const raw = new Database(file);
  try {
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = FULL');
    raw.pragma('foreign_keys = ON');
    raw.pragma('busy_timeout = 5000');
    migrateSqlite(raw, migrations);
  } catch (err) {
    raw.close();
    throw err;
  }
  return new Kysely<Tables>({ dialect: new SqliteDialect({ database: raw }) });
}

/**
 * Transactions hold this process's one connection from BEGIN to COMMIT (`connection()`), so nothing
 * else of this process runs inside them. BEGIN IMMEDIATE takes the write lock up front: a deferred
 * transaction that reads and then writes could fail with SQLITE_BUSY (not wait) when another process
 * wrote in between; an immediate one waits for the lock under busy_timeout instead.
 */
export function sqliteTransactor(db: Db): Transactor {
  return {
    write: (fn) =>
      db.connection().execute(async (conn) => {
        await sql`BEGIN IMMEDIATE`.execute(conn);
        try {
          const result = await fn(conn);
          await sql`COMMIT`.execute(conn);
          return result;
        } catch (err) {
          // SQLite may already have rolled back by itself (SQLITE_FULL, an interrupt): ignore "no transaction".
          await sql`ROLLBACK`.execute(conn).catch(() => {});
          throw err;
        }
      }),
  };
}
