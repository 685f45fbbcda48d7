// The store contract on SQLite (the embedded default: <dataDir>/skiff.db), plus what only SQLite has:
// its pragmas, the file name earlier Skiffs used, and the released migrations' text.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { sql } from 'kysely';
import { SkiffError } from '../../src/core/errors.ts';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import { openDatabase, openStore } from '../../src/store/open.ts';
import { storeContract } from './contract.ts';

function tempDir(t: Pick<TestContext, 'after'>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('store contract on SQLite', () => {
  storeContract({
    kind: 'sqlite',
    clients: 1,
    fresh: async (t) => ({ dataDir: path.join(tempDir(t), 'data') }),
  });
});

test('SQLite: <dataDir>/skiff.db with WAL, synchronous=FULL, foreign keys and a busy timeout', async (t) => {
  const dataDir = path.join(tempDir(t), 'nested', 'data');
  const store = await openStore({ dataDir, url: '' });
  t.after(() => store.close());
  assert.equal(store.kind, 'sqlite');
  assert.ok(existsSync(path.join(dataDir, 'skiff.db')));
  const { db } = await openDatabase({ dataDir });
  t.after(() => db.destroy());
  const pragma = async (name: string) => Object.values((await sql.raw<Record<string, unknown>>(`PRAGMA ${name}`).execute(db)).rows[0]!)[0];
  assert.equal(await pragma('journal_mode'), 'wal');
  assert.equal(await pragma('synchronous'), 2); // FULL
  assert.equal(await pragma('foreign_keys'), 1);
  assert.equal(await pragma('busy_timeout'), 5000);
});

test('released SQLite migrations are never edited', () => {
  // sha256 of the SQL the Skiffs before the PostgreSQL store applied: data dirs they made must keep
  // opening. Append a migration instead of changing one of these.
  const released = [
    'bef50df4119aedc4c1fbc5f327baa8ad88ae767b5d1d0a257761d1ec369221ed',
    '3bca73151da3bb3dd518d6852501bdbc8daf52aa3bf49adefb6b7b65b57176f6',
    '691bab3468e4de7bca54428be5a5748baff9a116537a584b02a0383107a7872c',
  ];
  assert.deepEqual(
    MIGRATIONS.slice(0, 3).map((m) => createHash('sha256').update(m.sqlite).digest('hex')),
    released,
  );
});

test('a store URL that is neither empty nor postgres:// is refused naming the setting, not echoing it', async (t) => {
  const dataDir = tempDir(t);
  for (const url of ['mysql://root:hunter2@db:3306/skiff', 'sqlite:///var/lib/skiff.db', 'hunter2']) {
    await assert.rejects(openStore({ url, dataDir }), (err: unknown) => {
      assert.ok(err instanceof SkiffError);
      assert.equal(err.code, 'CONFIG_INVALID');
      assert.match(err.message, /^store: /);
      assert.ok(!err.message.includes('hunter2'), err.message);
      return true;
    });
  }
  assert.ok(!existsSync(path.join(dataDir, 'skiff.db')));
});
