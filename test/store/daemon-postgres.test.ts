// A whole daemon on PostgreSQL (`store: postgres://…`), with real runc: an image pushed, a service
// deployed and served, the daemon restarted on the same database — everything is still there and
// serves again — and no SQLite file was ever created in the data directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { gatewayGet } from '../helpers/serving.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { requirePostgres, startPostgres, usePostgres } from '../helpers/postgres.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = requirePostgres() ?? (!isRoot && !isCI ? 'needs root (runc, overlayfs, netns)' : undefined);
const pg = usePostgres();

test('a daemon on PostgreSQL keeps its registry, tokens and services there across a restart', { skip, timeout: 180_000 }, async (t) => {
  const url = await pg.createDatabase();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-pg-daemon-'));

  const first = await startTestDaemon(t, { dataDir, settings: (s) => (s.store = url) });
  assert.match(first.daemon.storeDescription, /^PostgreSQL 127\.0\.0\.1:\d+\/skiff_test_\d+$/);
  const client = new SkiffClient({ baseUrl: first.url, token: first.token });
  const image = await pushHttpdImage(first, uniqueRepo('pgd'), 'v1', 'on-postgres');
  await client.deploy({ name: 'pgsvc', image: image.reference, scaling: { min: 1 } });
  assert.equal((await gatewayGet(first.gatewayUrl, 'pgsvc')).body.trim(), 'hello from on-postgres');
  await first.daemon.stop();

  // the same data dir (blobs, instances) and database: a restarted node
  const second = await startTestDaemon(t, { dataDir, settings: (s) => ((s.store = url), (s.runtime = first.settings.runtime)) });
  // after-hooks run in the order they were added: this one after both daemons have removed their instances
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  assert.equal(second.token, first.token, 'the admin token is still valid: tokens live in PostgreSQL');
  const again = new SkiffClient({ baseUrl: second.url, token: second.token });
  const svc = await again.service('pgsvc');
  assert.equal(svc.scaling.min, 1);
  assert.equal(svc.revisions.length, 1);
  assert.equal((await gatewayGet(second.gatewayUrl, 'pgsvc')).body.trim(), 'hello from on-postgres');
  assert.equal(existsSync(path.join(dataDir, 'skiff.db')), false, 'no SQLite file with PostgreSQL configured');
});

test('/readyz is 503 naming the store when PostgreSQL goes away, while /healthz stays 200', { skip: requirePostgres() }, async (t) => {
  const server = await startPostgres(); // its own server: this test stops it
  t.after(() => server.stop());
  const url = await server.createDatabase();
  const onPg = await startTestDaemon(t, { settings: (s) => (s.store = url) });
  assert.deepEqual(await (await fetch(`${onPg.url}/readyz`)).json(), { status: 'ready', checks: { store: 'ok' } });
  await server.stop();
  const ready = await fetch(`${onPg.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.deepEqual(await ready.json(), { status: 'not ready', checks: { store: 'unreachable' } });
  assert.equal((await fetch(`${onPg.url}/healthz`)).status, 200, 'liveness does not depend on the store');
});
