// The Registry page's rows, API paths and confirmation words (web/src/registry-model.ts): pure, no browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RegistryManifestView } from '../../src/core/registry-views.ts';
import { confirmText, deletePath, manifestRow, repositoryPath, repositoryRow, shortDigest } from '../../web/src/registry-model.ts';

const digest = `sha256:${'ab'.repeat(32)}`;

test('a repository is one encoded path segment; a tag and a digest are deleted at their own paths', () => {
  assert.equal(repositoryPath('team-a/app'), '/api/v1/registry/repositories/team-a%2Fapp');
  assert.equal(repositoryPath('a/b/c'), '/api/v1/registry/repositories/a%2Fb%2Fc');
  assert.equal(deletePath('team-a/app', 'v1.2'), '/api/v1/registry/repositories/team-a%2Fapp/tags/v1.2');
  assert.equal(deletePath('team-a/app', digest), `/api/v1/registry/repositories/team-a%2Fapp/manifests/sha256%3A${'ab'.repeat(32)}`);
  assert.equal(shortDigest(digest), 'sha256:abababababab');
  assert.deepEqual(repositoryRow({ name: 'team-a/App', project: 'team-a', tags: 2 }).haystack, 'team-a/app\nteam-a');
});

test('a manifest row: its kind, sizes and referrers; confirming says what goes', () => {
  const m: RegistryManifestView = { digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 500, contentSize: 3 * 1024 * 1024, tags: ['latest', 'v1'], createdAt: '2026-12-07T01:02:03.000Z', referrers: [{ digest: `sha256:${'cd'.repeat(32)}`, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 400, artifactType: 'application/vnd.example.sig' }] };
  const row = manifestRow(m);
  assert.equal(row.kind, 'image');
  // the registry reports an image's config type as its artifactType: still an image
  assert.equal(manifestRow({ ...m, artifactType: 'application/vnd.oci.image.config.v1+json' }).kind, 'image');
  assert.equal(manifestRow({ ...m, artifactType: 'application/vnd.example.sbom' }).kind, 'artifact application/vnd.example.sbom');
  assert.equal(row.size, '3.0 MiB');
  assert.equal(row.pushed, '2026-12-07 01:02 UTC');
  assert.deepEqual(row.referrers, [{ digest: `sha256:${'cd'.repeat(32)}`, short: 'sha256:cdcdcdcdcdcd', what: 'application/vnd.example.sig', size: '400 B' }]);
  const index = manifestRow({ ...m, contentSize: undefined as never, platforms: ['linux/amd64', 'linux/arm64'] });
  assert.equal(index.kind, 'index: linux/amd64, linux/arm64');
  assert.equal(index.size, '500 B (manifest)');
  assert.match(confirmText('team-a/app', 'v1'), /^Delete tag team-a\/app:v1\? The image stays/);
  assert.match(confirmText('team-a/app', digest, ['latest', 'v1']), /^Delete manifest team-a\/app@sha256:abababababab and its tags latest, v1\?/);
});
