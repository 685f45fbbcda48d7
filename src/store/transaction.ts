// store/transaction: how repositories run a write of several statements as one unit. Each dialect
// brings its own Transactor (sqlite.ts, postgres.ts); repositories only say which statements belong
// together. `fn` may run more than once (PostgreSQL retries a transaction that lost a serialization
// conflict), so it must do nothing but queries on the `db` it is given and compute its result. Only
// that `db`: on SQLite the store's own handle waits for the connection the transaction holds, so a
// query on it from inside `fn` would wait forever.
import type { Db } from './database.ts';

export interface Transactor {
  write<T>(fn: (db: Db) => Promise<T>): Promise<T>;
}
