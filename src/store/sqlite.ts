// store/sqlite: opens the SQLite database (WAL, synchronous=FULL so an acknowledged write survives a crash)
// and applies migrations. Better-sqlite3 is synchronous: callers keep it off the gateway hot path.
import Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations.ts';
import { SkiffError } from '../core/errors.ts';

export type Db = Database.Database;

export function openDatabase(file: string, migrations: readonly Migration[] = MIGRATIONS): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, migrations);
  return db;
}

function migrate(db: Db, migrations: readonly Migration[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new SkiffError('CONFIG_INVALID', `database schema version ${current} is newer than this Skiff (${latest}); upgrade Skiff`);
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
