// test/store/contract/registry-lists: RegistryRepository's listings (tags, catalog, referrers, in byte
// order whatever the database's locale) and upload sessions on one dialect.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digest, open, type StoreTarget } from '../fixtures.ts';
import { IMAGE_MANIFEST, manifest } from './registry.ts';

export function registryListsContract(target: StoreTarget): void {
  test('tags: listTags pages in byte order, deleteTag', async (t) => {
    const { registry } = await open(t, await target.fresh(t));
    const m = manifest('team/app', 'a');
    await registry.putManifest(m, 1000);
    // byte order: upper case before '_' before lower case (a locale collation would interleave them)
    const tags = ['b', 'a', 'B', 'A1', '_x', 'a.1', 'a-1', '10', '9'];
    for (const tag of tags) await registry.putManifest({ ...m, tag }, 1000);
    await registry.putManifest({ ...m, repository: 'team/other', tag: 'zzz' }, 1000);
    const sorted = [...tags].sort((x, y) => (Buffer.compare(Buffer.from(x), Buffer.from(y))));
    assert.deepEqual(sorted, ['10', '9', 'A1', 'B', '_x', 'a', 'a-1', 'a.1', 'b']);
    assert.deepEqual(await registry.listTags('team/app', '', 100), sorted);
    assert.deepEqual(await registry.listTags('team/app', '', 3), sorted.slice(0, 3));
    assert.deepEqual(await registry.listTags('team/app', 'A1', 3), sorted.slice(3, 6));
    assert.deepEqual(await registry.listTags('team/app', 'b', 3), []);
    assert.equal(await registry.deleteTag('team/app', 'B'), true);
    assert.equal(await registry.deleteTag('team/app', 'B'), false);
    assert.deepEqual(await registry.listTags('team/app', '9', 2), ['A1', '_x']);
    assert.equal(await registry.getManifest('team/app', m.digest) !== undefined, true);
  });

  test('catalog: repositories with content, in byte order, paged', async (t) => {
    const { registry } = await open(t, await target.fresh(t));
    await registry.commitBlob('b/app', digest('x'), 1, 1000);
    await registry.putManifest(manifest('a/app', 'm'), 1000);
    await registry.commitBlob('a_b/app', digest('y'), 1, 1000);
    await registry.commitBlob('a-b/app', digest('z'), 1, 1000);
    await registry.putManifest(manifest('a.b/app', 'n'), 1000);
    await registry.ensureRepository('empty/app', 1000);
    await registry.createUpload('upload-only', 'uploading/app', 1000);
    await registry.commitBlob('unlinked/app', digest('w'), 1, 1000);
    await registry.unlinkBlob('unlinked/app', digest('w'));
    // byte order ('-' < '.' < '/' < '_'); a locale collation orders punctuation differently
    assert.deepEqual(await registry.catalog('', 100), ['a-b/app', 'a.b/app', 'a/app', 'a_b/app', 'b/app']);
    assert.deepEqual(await registry.catalog('', 2), ['a-b/app', 'a.b/app']);
    assert.deepEqual(await registry.catalog('a.b/app', 2), ['a/app', 'a_b/app']);
    assert.deepEqual(await registry.catalog('a_b/app', 2), ['b/app']);
    assert.deepEqual(await registry.catalog('b/app', 2), []);
  });

  test('referrers: manifests of a repository whose subject is the given digest, by digest', async (t) => {
    const { registry } = await open(t, await target.fresh(t));
    const subject = manifest('team/app', 'subject');
    await registry.putManifest(subject, 1000);
    const sigs = ['sig1', 'sig2', 'sig3'].map((s) =>
      manifest('team/app', s, { subject: subject.digest, artifactType: 'application/vnd.dev.cosign', annotations: { by: s } }),
    );
    for (const s of sigs) await registry.putManifest(s, 2000);
    await registry.putManifest({ ...sigs[0]!, repository: 'team/other' }, 2000);
    await registry.putManifest(manifest('team/app', 'unrelated', { subject: digest('another subject') }), 2000);
    const found = await registry.referrers('team/app', subject.digest);
    assert.deepEqual(
      found.map((m) => m.digest),
      sigs.map((s) => s.digest).sort(),
    );
    assert.deepEqual(
      found.find((m) => m.digest === sigs[1]!.digest),
      { repository: 'team/app', digest: sigs[1]!.digest, mediaType: IMAGE_MANIFEST, size: 512, artifactType: 'application/vnd.dev.cosign', subject: subject.digest, annotations: { by: 'sig2' }, createdAt: 2000 },
    );
    assert.deepEqual(await registry.referrers('team/app', digest('nothing')), []);
  });

  test('uploads: create (with its repository), touch, stale, ids, delete', async (t) => {
    const { registry } = await open(t, await target.fresh(t));
    await registry.createUpload('u1', 'team/app', 1000);
    await registry.createUpload('u2', 'team/app', 2000);
    await registry.createUpload('u3', 'team/other', 3000);
    assert.equal(await registry.repositoryExists('team/other'), true);
    assert.deepEqual(await registry.getUpload('u1'), { id: 'u1', repository: 'team/app', createdAt: 1000, touchedAt: 1000 });
    assert.equal(await registry.getUpload('nope'), undefined);
    await registry.touchUpload('u1', 5000);
    assert.deepEqual(await registry.getUpload('u1'), { id: 'u1', repository: 'team/app', createdAt: 1000, touchedAt: 5000 });
    assert.deepEqual(await registry.staleUploads(3500), [
      { id: 'u2', repository: 'team/app', createdAt: 2000, touchedAt: 2000 },
      { id: 'u3', repository: 'team/other', createdAt: 3000, touchedAt: 3000 },
    ]);
    assert.deepEqual(await registry.uploadIds(), new Set(['u1', 'u2', 'u3']));
    await registry.deleteUpload('u2');
    await registry.deleteUpload('u2');
    assert.equal(await registry.getUpload('u2'), undefined);
    assert.deepEqual(await registry.uploadIds(), new Set(['u1', 'u3']));
  });

}
