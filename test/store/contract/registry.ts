// test/store/contract/registry: RegistryRepository's blobs, manifests and GC sweep on one dialect
// (listings and uploads: registry-lists.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NewManifest } from '../../../src/core/registry-records.ts';
import { digest, open, type StoreTarget } from '../fixtures.ts';

export const IMAGE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';

export function manifest(repository: string, seed: string, over: Partial<NewManifest> = {}): NewManifest {
  return {
    repository,
    digest: digest(`manifest ${seed}`),
    mediaType: IMAGE_MANIFEST,
    size: 512,
    artifactType: null,
    subject: null,
    annotations: null,
    blobRefs: [],
    manifestRefs: [],
    tag: null,
    ...over,
  };
}

export function registryContract(target: StoreTarget): void {
  test('repositories: ensureRepository is idempotent, repositoryExists tells', async (t) => {
    const { registry } = await open(t, await target.fresh(t));
    assert.equal(await registry.repositoryExists('team/app'), false);
    await registry.ensureRepository('team/app', 1000);
    await registry.ensureRepository('team/app', 2000);
    assert.equal(await registry.repositoryExists('team/app'), true);
    assert.equal(await registry.repositoryExists('team'), false);
  });

  test('blobs: commit records and links, a re-commit only touches, linkedBlob is per repository', async (t) => {
    const { registry } = await open(t, await target.fresh(t));
    const layer = digest('layer');
    assert.equal(await registry.getBlob(layer), undefined);
    await registry.commitBlob('team/app', layer, 7_000_000_000, 1_700_000_000_000);
    assert.equal(await registry.repositoryExists('team/app'), true);
    assert.deepEqual(await registry.getBlob(layer), { digest: layer, size: 7_000_000_000, createdAt: 1_700_000_000_000, touchedAt: 1_700_000_000_000 });
    await registry.commitBlob('team/app', layer, 7_000_000_000, 1_700_000_000_500);
    assert.deepEqual(await registry.getBlob(layer), { digest: layer, size: 7_000_000_000, createdAt: 1_700_000_000_000, touchedAt: 1_700_000_000_500 });
    assert.equal(await registry.linkedBlob('team/other', layer), undefined);
    assert.deepEqual(await registry.linkedBlob('team/app', layer), { digest: layer, size: 7_000_000_000, createdAt: 1_700_000_000_000, touchedAt: 1_700_000_000_500 });
    // with `now`, the check touches (a push that skipped the upload is protected from GC)
    assert.equal((await registry.linkedBlob('team/app', layer, 1_700_000_009_000))?.touchedAt, 1_700_000_009_000);
    assert.equal((await registry.getBlob(layer))?.touchedAt, 1_700_000_009_000);
    // ...but not where the blob is not readable
    assert.equal(await registry.linkedBlob('team/other', layer, 1_800_000_000_000), undefined);
    assert.equal((await registry.getBlob(layer))?.touchedAt, 1_700_000_009_000);
  });

  test('blobs: mount links an existing blob from a repository it is readable in', async (t) => {
    const { registry } = await open(t, await target.fresh(t));
    const layer = digest('layer');
    await registry.commitBlob('team/base', layer, 10, 1000);
    assert.equal(await registry.mountBlob('team/app', 'team/elsewhere', layer, 2000), undefined);
    assert.equal(await registry.mountBlob('team/app', 'team/base', digest('unknown'), 2000), undefined);
    assert.equal(await registry.linkedBlob('team/app', layer), undefined);
    assert.equal(await registry.repositoryExists('team/app'), false);
    assert.deepEqual(await registry.mountBlob('team/app', 'team/base', layer, 3000), { digest: layer, size: 10, createdAt: 1000, touchedAt: 3000 });
    assert.equal((await registry.linkedBlob('team/app', layer))?.digest, layer);
    assert.equal(await registry.repositoryExists('team/app'), true);
    assert.equal((await registry.getBlob(layer))?.touchedAt, 3000);
  });

  test('blobs: unlink removes the link only; blobDigests lists every blob', async (t) => {
    const { registry } = await open(t, await target.fresh(t));
    const a = digest('a');
    const b = digest('b');
    await registry.commitBlob('team/app', a, 1, 1000);
    await registry.commitBlob('team/other', b, 2, 1000);
    await registry.commitBlob('team/other', a, 1, 1000);
    assert.equal(await registry.unlinkBlob('team/app', a), true);
    assert.equal(await registry.unlinkBlob('team/app', a), false);
    assert.equal(await registry.linkedBlob('team/app', a), undefined);
    assert.equal((await registry.linkedBlob('team/other', a))?.digest, a);
    assert.deepEqual(await registry.blobDigests(), new Set([a, b]));
  });

  test('manifests: refused with every missing reference, and then nothing is written', async (t) => {
    const { registry } = await open(t, await target.fresh(t));
    const config = digest('config');
    const layer = digest('layer');
    const elsewhere = digest('elsewhere');
    const child = digest('child manifest');
    await registry.commitBlob('team/app', config, 100, 1000);
    await registry.commitBlob('team/other', elsewhere, 100, 1000);
    const m = manifest('team/app', 'a', { blobRefs: [config, layer, elsewhere], manifestRefs: [child], tag: 'v1' });
    assert.deepEqual(await registry.putManifest(m, 2000), { ok: false, missing: [layer, elsewhere, child] });
    assert.equal(await registry.getManifest('team/app', m.digest), undefined);
    assert.equal(await registry.getBlob(m.digest), undefined);
    assert.equal(await registry.resolveTag('team/app', 'v1'), undefined);
    assert.equal((await registry.getBlob(config))?.touchedAt, 1000);
  });

  test('manifests: an accepted one is recorded with its tag, its own blob, and touched references', async (t) => {
    const { registry } = await open(t, await target.fresh(t));
    const config = digest('config');
    const layer = digest('layer');
    await registry.commitBlob('team/app', config, 100, 1000);
    await registry.commitBlob('team/app', layer, 2000, 1000);
    const m = manifest('team/app', 'a', {
      blobRefs: [config, layer, layer],
      tag: 'v1',
      artifactType: 'application/vnd.example',
      annotations: { 'org.opencontainers.image.created': '2026-11-01T00:00:00Z', empty: '' },
    });
    assert.deepEqual(await registry.putManifest(m, 5000), { ok: true });
    assert.deepEqual(await registry.getManifest('team/app', m.digest), {
      repository: 'team/app',
      digest: m.digest,
      mediaType: IMAGE_MANIFEST,
      size: 512,
      artifactType: 'application/vnd.example',
      subject: null,
      annotations: { 'org.opencontainers.image.created': '2026-11-01T00:00:00Z', empty: '' },
      createdAt: 5000,
    });
    assert.equal(await registry.getManifest('team/other', m.digest), undefined);
    assert.equal(await registry.resolveTag('team/app', 'v1'), m.digest);
    assert.deepEqual(await registry.getBlob(m.digest), { digest: m.digest, size: 512, createdAt: 5000, touchedAt: 5000 });
    assert.equal((await registry.getBlob(config))?.touchedAt, 5000);
    assert.equal((await registry.getBlob(layer))?.touchedAt, 5000);

    // pushed again: the same manifest (its first record stays), the tag may move
    assert.deepEqual(await registry.putManifest({ ...m, tag: 'latest' }, 6000), { ok: true });
    assert.equal((await registry.getManifest('team/app', m.digest))?.createdAt, 5000);
    assert.equal(await registry.resolveTag('team/app', 'latest'), m.digest);
    const m2 = manifest('team/app', 'b', { blobRefs: [config], tag: 'v1' });
    assert.deepEqual(await registry.putManifest(m2, 7000), { ok: true });
    assert.equal(await registry.resolveTag('team/app', 'v1'), m2.digest);
    assert.equal(await registry.resolveTag('team/app', 'latest'), m.digest);
  });

  test('manifests: an index needs its children in the same repository', async (t) => {
    const { registry } = await open(t, await target.fresh(t));
    const config = digest('config');
    await registry.commitBlob('team/app', config, 100, 1000);
    await registry.commitBlob('team/other', config, 100, 1000);
    const child = manifest('team/other', 'child', { blobRefs: [config] });
    assert.deepEqual(await registry.putManifest(child, 2000), { ok: true });
    const index = manifest('team/app', 'index', { mediaType: INDEX, manifestRefs: [child.digest], tag: 'multi' });
    assert.deepEqual(await registry.putManifest(index, 3000), { ok: false, missing: [child.digest] });
    assert.deepEqual(await registry.putManifest({ ...child, repository: 'team/app' }, 3000), { ok: true });
    assert.deepEqual(await registry.putManifest(index, 4000), { ok: true });
    assert.equal((await registry.getManifest('team/app', index.digest))?.mediaType, INDEX);
    assert.equal((await registry.getBlob(child.digest))?.touchedAt, 4000);
  });

  test('manifests: delete removes the tags pointing at it and its references', async (t) => {
    const { registry } = await open(t, await target.fresh(t));
    const layer = digest('layer');
    await registry.commitBlob('team/app', layer, 100, 1000);
    const m = manifest('team/app', 'a', { blobRefs: [layer], tag: 'v1' });
    const other = manifest('team/app', 'b', { blobRefs: [layer], tag: 'v2' });
    await registry.putManifest(m, 2000);
    await registry.putManifest({ ...m, tag: 'stable' }, 2000);
    await registry.putManifest(other, 2000);
    assert.equal(await registry.deleteManifest('team/app', m.digest), true);
    assert.equal(await registry.deleteManifest('team/app', m.digest), false);
    assert.equal(await registry.getManifest('team/app', m.digest), undefined);
    assert.equal(await registry.resolveTag('team/app', 'v1'), undefined);
    assert.equal(await registry.resolveTag('team/app', 'stable'), undefined);
    assert.equal(await registry.resolveTag('team/app', 'v2'), other.digest);
    // the layer is still referenced by the other manifest; once that goes, GC may take it
    assert.deepEqual(await registry.collectUnreferenced(10_000), [m.digest]);
    assert.equal(await registry.deleteManifest('team/app', other.digest), true);
    assert.deepEqual(new Set(await registry.collectUnreferenced(10_000)), new Set([layer, other.digest]));
  });

  test('GC sweep: forgets unreferenced blobs untouched since the cutoff, and their links', async (t) => {
    const { registry } = await open(t, await target.fresh(t));
    const old = digest('old unreferenced');
    const fresh = digest('fresh unreferenced');
    const used = digest('referenced layer');
    await registry.commitBlob('team/app', old, 1, 1000);
    await registry.commitBlob('team/other', old, 1, 1000);
    await registry.commitBlob('team/app', used, 1, 1000);
    await registry.commitBlob('team/app', fresh, 1, 9000);
    const m = manifest('team/app', 'm', { blobRefs: [used] });
    await registry.putManifest(m, 1500);
    assert.deepEqual(await registry.collectUnreferenced(5000), [old]);
    assert.equal(await registry.getBlob(old), undefined);
    assert.equal(await registry.linkedBlob('team/app', old), undefined);
    assert.equal(await registry.linkedBlob('team/other', old), undefined);
    assert.deepEqual(await registry.blobDigests(), new Set([fresh, used, m.digest]));
    assert.deepEqual(await registry.collectUnreferenced(5000), []);
    assert.deepEqual(await registry.collectUnreferenced(10_000), [fresh]);
    // a blob can be committed again after it was collected
    await registry.commitBlob('team/app', old, 1, 20_000);
    assert.deepEqual(await registry.linkedBlob('team/app', old), { digest: old, size: 1, createdAt: 20_000, touchedAt: 20_000 });
  });
}
