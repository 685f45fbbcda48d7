// test/store/contract/migrations: a database from nothing, from the previous schema (v3, rows in the
// shape the previous Skiff wrote), from the future (refused), reopened, and migrated by two openers
// at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { SkiffError } from '../../../src/core/errors.ts';
import { MIGRATIONS } from '../../../src/store/migrations.ts';
import { openDatabase, openStore, type StoreOptions } from '../../../src/store/open.ts';
import { digest, image, open, serviceSpec, sha256hex, type StoreTarget } from '../fixtures.ts';

const LATEST = MIGRATIONS.at(-1)!.version;

async function schemaVersion(o: StoreOptions): Promise<number> {
  const { kind, db } = await openDatabase(o);
  try {
    if (kind === 'sqlite') return (await sql<{ user_version: number }>`PRAGMA user_version`.execute(db)).rows[0]!.user_version;
    return (await sql<{ v: number }>`SELECT MAX(version) AS v FROM skiff_migrations`.execute(db)).rows[0]!.v;
  } finally {
    await db.destroy();
  }
}

/** A spec as Skiff wrote it before migration 4: scale bounds and containerConcurrency in `scaling`. */
function oldSpec(name: string, scaling: { minScale: number; maxScale: number; containerConcurrency: number }) {
  const { scaling: current, ...rest } = serviceSpec(name);
  const { concurrency: _c, keepAlive: _k, ...kept } = current;
  return { ...rest, scaling: { ...scaling, ...kept } };
}

/** What migration 4 makes of oldSpec(): no bounds, `concurrency`. */
function migratedSpec(name: string, containerConcurrency: number) {
  const { scaling, ...rest } = serviceSpec(name);
  const { keepAlive: _k, ...kept } = scaling;
  return { ...rest, scaling: { ...kept, concurrency: containerConcurrency } };
}

export function migrationsContract(target: StoreTarget): void {
  test('migrations: an empty database is brought to the latest version', async (t) => {
    const o = await target.fresh(t);
    const store = await open(t, o);
    assert.equal(store.kind, target.kind);
    assert.equal(await schemaVersion(o), LATEST);
    assert.equal(LATEST, 14);
  });

  test('migrations: a v4 database with two tokens of one name keeps both, one renamed; then names are unique', async (t) => {
    const o = await target.fresh(t);
    const v4 = await openDatabase(o, MIGRATIONS.slice(0, 4));
    for (const [id, secret] of [['tok-a', 'skf_' + 'A'.repeat(32)], ['tok-b', 'skf_' + 'B'.repeat(32)]] as const) {
      await sql`INSERT INTO tokens (id, name, hash, tenant, role, created_at) VALUES (${id}, 'ci', ${sha256hex(secret)}, 'acme', 'push', 1600000000000)`.execute(v4.db);
    }
    await v4.db.destroy();
    const store = await open(t, o);
    const names = (await store.tokens.list()).map((r) => `${r.id}:${r.name}`).sort();
    assert.deepEqual(names, ['tok-a:ci', 'tok-b:ci-tok-b'], 'both kept; the second renamed after its id');
    assert.equal((await store.tokens.verify('skf_' + 'B'.repeat(32)))?.tokenId, 'tok-b', 'the renamed token still works');
    await assert.rejects(store.tokens.create('ci', 'acme', 'push', 1), (e: unknown) => e instanceof SkiffError && e.code === 'CONFLICT');
    await store.tokens.create('ci', 'other-tenant', 'push', 1); // unique per tenant only
  });

  test('migrations: a v3 database with rows in the old shape opens, and its records come back right', async (t) => {
    const o = await target.fresh(t);
    const v3 = await openDatabase(o, MIGRATIONS.slice(0, 3));
    const legacySecret = 'skf_' + 'L'.repeat(32);
    const pinned = `team/web@${digest('web image')}`;
    const olderPin = `team/web@${digest('older web image')}`;
    const traffic = JSON.stringify([{ revision: 'web-00001', percent: 20 }, { revision: 'web-00002', percent: 80 }]);
    const webSpec = JSON.stringify(oldSpec('web', { minScale: 1, maxScale: 7, containerConcurrency: 5 }));
    const web1Spec = JSON.stringify(oldSpec('web', { minScale: 0, maxScale: 3, containerConcurrency: 0 }));
    const statements = [
      sql`INSERT INTO services (name, tenant, spec, traffic, latest_revision, previous_serving, generation, created_at, updated_at)
          VALUES ('web', 'acme', ${webSpec}, ${traffic}, 'web-00002', 'web-00001', 2, 1700000000000, 1700000005000)`,
      sql`INSERT INTO revisions (name, service, generation, image_ref, image_digest, spec, created_at)
          VALUES ('web-00001', 'web', 1, 'team/web:v1', ${olderPin}, ${web1Spec}, 1700000000000)`,
      sql`INSERT INTO revisions (name, service, generation, image_ref, image_digest, spec, created_at)
          VALUES ('web-00002', 'web', 2, 'team/web:v2', ${pinned}, ${webSpec}, 1700000005000)`,
      sql`INSERT INTO instances (id, revision, service, state, address, created_at, updated_at)
          VALUES ('web-00002-abcdef', 'web-00002', 'web', 'ready', '10.1.0.5:8080', 1700000006000, 1700000007000)`,
      sql`INSERT INTO events (service, revision, at, kind, message) VALUES ('web', 'web-00002', 1700000005000, 'deploy', 'revision web-00002')`,
      sql`INSERT INTO keep_alive (service, state, updated_at) VALUES ('web', '{"h":[1]}', 1700000008000)`,
      sql`INSERT INTO tokens (id, name, hash, tenant, role, created_at) VALUES ('tok-1', 'legacy', ${sha256hex(legacySecret)}, 'acme', 'admin', 1600000000000)`,
      sql`INSERT INTO repositories (name, created_at) VALUES ('team/web', 1600000000000)`,
      sql`INSERT INTO blobs (digest, size, created_at, touched_at) VALUES (${digest('layer')}, 5000000000, 1600000000000, 1600000000001)`,
      sql`INSERT INTO repo_blobs (repo, digest) VALUES ('team/web', ${digest('layer')})`,
      sql`INSERT INTO blobs (digest, size, created_at, touched_at) VALUES (${digest('web image')}, 300, 1600000000000, 1600000000000)`,
      sql`INSERT INTO manifests (repo, digest, media_type, size, artifact_type, subject, annotations, created_at)
          VALUES ('team/web', ${digest('web image')}, 'application/vnd.oci.image.manifest.v1+json', 300, NULL, NULL, '{"a":"b"}', 1600000000000)`,
      sql`INSERT INTO manifest_refs (repo, manifest, ref) VALUES ('team/web', ${digest('web image')}, ${digest('layer')})`,
      sql`INSERT INTO tags (repo, tag, digest, updated_at) VALUES ('team/web', 'v2', ${digest('web image')}, 1600000000000)`,
    ];
    for (const s of statements) await s.execute(v3.db);
    await v3.db.destroy();

    const store = await open(t, o);
    const web = await store.serving.getService('web');
    assert.deepEqual(web, {
      name: 'web',
      tenant: 'acme',
      spec: migratedSpec('web', 5),
      scale: { min: 1, max: 7 },
      traffic: JSON.parse(traffic),
      latestRevision: 'web-00002',
      previousServing: 'web-00001',
      createdAt: 1700000000000,
      updatedAt: 1700000005000,
    });
    assert.ok(!('minScale' in web!.spec.scaling) && !('maxScale' in web!.spec.scaling) && !('containerConcurrency' in web!.spec.scaling));
    assert.deepEqual(await store.serving.revisionsOf('web'), [
      { name: 'web-00002', service: 'web', generation: 2, image: { repository: 'team/web', digest: digest('web image') }, spec: migratedSpec('web', 5), createdAt: 1700000005000 },
      { name: 'web-00001', service: 'web', generation: 1, image: { repository: 'team/web', digest: digest('older web image') }, spec: migratedSpec('web', 0), createdAt: 1700000000000 },
    ]);
    assert.deepEqual(await store.serving.listInstances(), [
      { id: 'web-00002-abcdef', revision: 'web-00002', service: 'web', state: 'ready', address: '10.1.0.5:8080', createdAt: 1700000006000, updatedAt: 1700000007000 },
    ]);
    assert.deepEqual((await store.serving.events('web', 10)).map((e) => e.message), ['revision web-00002']);
    assert.deepEqual(await store.serving.listKeepAlive(), [{ service: 'web', state: '{"h":[1]}' }]);
    assert.deepEqual(await store.tokens.verify(legacySecret), { tokenId: 'tok-1', name: 'legacy', tenant: 'acme', role: 'admin' });
    assert.deepEqual(await store.registry.linkedBlob('team/web', digest('layer')), { digest: digest('layer'), size: 5000000000, createdAt: 1600000000000, touchedAt: 1600000000001 });
    assert.equal(await store.registry.resolveTag('team/web', 'v2'), digest('web image'));
    assert.deepEqual((await store.registry.getManifest('team/web', digest('web image')))?.annotations, { a: 'b' });
    assert.deepEqual(await store.registry.collectUnreferenced(1_700_000_000_000), []);

    // and the service goes on: the next deploy is generation 3, and the old traffic's top is remembered
    const next = await store.serving.deploy('acme', serviceSpec('web'), { min: 2, max: 4 }, image('team/web', 'v3'), 1700000009000);
    assert.equal(next.revision.name, 'web-00003');
    assert.equal(next.service.previousServing, 'web-00002');
    assert.deepEqual(next.service.scale, { min: 2, max: 4 });
  });

  test('migrations: a database newer than this Skiff is refused, untouched', async (t) => {
    const o = await target.fresh(t);
    const future = [...MIGRATIONS, { version: LATEST + 1, name: 'from the future', sqlite: 'CREATE TABLE future (x INTEGER);', postgres: 'CREATE TABLE future (x INTEGER);' }];
    await (await openDatabase(o, future)).db.destroy();
    const err = await openStore(o).then(
      (s) => s.close().then(() => undefined),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SkiffError, `expected a SkiffError, got ${String(err)}`);
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.match(err.message, new RegExp(`version ${LATEST + 1} is newer than this Skiff \\(${LATEST}\\); upgrade Skiff`));
  });

  test('migrations: reopening keeps everything and migrates nothing again', async (t) => {
    const o = await target.fresh(t);
    const first = await openStore(o);
    await first.registry.commitBlob('team/app', digest('l'), 42, 1000);
    await first.registry.putManifest(
      { repository: 'team/app', digest: digest('m'), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 9, artifactType: null, subject: null, annotations: null, blobRefs: [digest('l')], manifestRefs: [], tag: 'v1' },
      1001,
    );
    await first.registry.createUpload('up', 'team/app', 1002);
    const { secret } = await first.tokens.create('ci', 'acme', 'push', 1003);
    const { revision } = await first.serving.deploy('acme', serviceSpec('app'), { min: 1, max: 2 }, image('team/app'), 1004);
    await first.serving.addEvent('app', revision.name, 'deploy', 'hi', 1005);
    await first.serving.putInstance({ id: 'app-00001-000000', revision: revision.name, service: 'app', state: 'frozen', address: '10.0.0.9:1' }, 1006);
    await first.serving.putKeepAlive('app', '{}', 1007);
    await first.close();
    await first.close(); // idempotent

    const again = await open(t, o);
    assert.equal(await schemaVersion(o), LATEST);
    assert.equal(await again.registry.resolveTag('team/app', 'v1'), digest('m'));
    assert.equal((await again.registry.linkedBlob('team/app', digest('l')))?.size, 42);
    assert.equal((await again.registry.getUpload('up'))?.createdAt, 1002);
    assert.equal((await again.tokens.verify(secret))?.name, 'ci');
    assert.deepEqual(await again.serving.getRevision(revision.name), revision);
    assert.deepEqual((await again.serving.getService('app'))?.scale, { min: 1, max: 2 });
    assert.deepEqual((await again.serving.events('app', 5)).map((e) => [e.kind, e.message, e.at]), [['deploy', 'hi', 1005]]);
    assert.equal((await again.serving.listInstances())[0]?.state, 'frozen');
    assert.deepEqual(await again.serving.listKeepAlive(), [{ service: 'app', state: '{}' }]);
  });

  test('migrations: two openers starting together both succeed and migrate once', async (t) => {
    const o = await target.fresh(t);
    const [a, b] = await Promise.all([openStore(o), openStore(o)]);
    t.after(() => a.close());
    t.after(() => b.close());
    assert.equal(await schemaVersion(o), LATEST);
    await a.serving.deploy('acme', serviceSpec('x'), { min: 0, max: 1 }, image('team/x'), 1);
    assert.equal((await b.serving.getService('x'))?.latestRevision, 'x-00001');
  });
}
