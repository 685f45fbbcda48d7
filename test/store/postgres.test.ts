// The store contract on PostgreSQL (a real server per file, a fresh database per test), plus what only
// PostgreSQL has: a server that cannot be reached fails the start fast and says where, without the
// password; BIGINT comes back as a number on the store's pool only; no SQLite file is made.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import pg from 'pg';
import { SkiffError } from '../../src/core/errors.ts';
import { openStore } from '../../src/store/open.ts';
import { requirePostgres, usePostgres } from '../helpers/postgres.ts';
import { freePort } from '../helpers/tools.ts';
import { storeContract } from './contract.ts';

function tempDir(t: Pick<TestContext, 'after'>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function configError(p: Promise<unknown>): Promise<SkiffError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof SkiffError, `expected a SkiffError, got ${String(err)}`);
  assert.equal(err.code, 'CONFIG_INVALID');
  return err;
}

describe('store contract on PostgreSQL', { skip: requirePostgres() }, () => {
  const server = usePostgres();

  storeContract({
    kind: 'postgres',
    clients: 3,
    fresh: async (t) => ({ url: await server.createDatabase(), dataDir: tempDir(t) }),
  });

  test('PostgreSQL: all metadata in the database, no SQLite file; BIGINT as numbers on this pool only', async (t) => {
    const dataDir = tempDir(t);
    const url = await server.createDatabase();
    const store = await openStore({ url: url.replace('postgres://', 'postgresql://'), dataDir });
    t.after(() => store.close());
    assert.equal(store.kind, 'postgres');
    await store.registry.commitBlob('team/app', 'sha256:' + 'a'.repeat(64), 2 ** 40, 1_800_000_000_123);
    assert.deepEqual(await store.registry.getBlob('sha256:' + 'a'.repeat(64)), {
      digest: 'sha256:' + 'a'.repeat(64),
      size: 2 ** 40,
      createdAt: 1_800_000_000_123,
      touchedAt: 1_800_000_000_123,
    });
    assert.deepEqual(readdirSync(dataDir), []);
    // the process-wide pg type parsers are left as they were
    assert.equal(pg.types.getTypeParser(20, 'text')('5'), '5');
  });

  test('PostgreSQL: a wrong password or database is a CONFIG_INVALID naming host and port, never the password', async () => {
    const url = await server.createDatabase();
    const missing = url.replace(/\/[^/]+$/, '/no_such_database');
    const err = await configError(openStore({ url: missing.replace('postgres@', 'postgres:s3cret-pw@'), dataDir: '/nonexistent' }));
    assert.match(err.message, new RegExp(`^store: cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${server.port}/no_such_database: .*no_such_database`));
    assert.ok(!err.message.includes('s3cret-pw'), err.message);
  });
});

test('PostgreSQL: a server that refuses connections fails the start at once, naming host and port', async () => {
  const port = await freePort();
  const started = Date.now();
  const err = await configError(openStore({ url: `postgres://skiff:s3cret-pw@127.0.0.1:${port}/skiff`, dataDir: '/nonexistent' }));
  assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  assert.match(err.message, new RegExp(`^store: cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}/skiff: `));
  assert.ok(!err.message.includes('s3cret-pw'), err.message);
  assert.ok(!existsSync('/nonexistent'));
});

test('PostgreSQL: a server that accepts but never answers fails after the connect timeout, not never', async (t) => {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => sockets.add(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const { port } = silent.address() as net.AddressInfo;
  const started = Date.now();
  const err = await configError(openStore({ url: `postgres://skiff:s3cret-pw@127.0.0.1:${port}/skiff?connect_timeout=1`, dataDir: '/nonexistent' }));
  const took = Date.now() - started;
  assert.ok(took >= 900 && took < 4000, `took ${took} ms`);
  assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}/skiff: .*timeout`, 'i'));
  assert.ok(!err.message.includes('s3cret-pw'), err.message);
});
