// Real-client round trips with skopeo: OCI layouts and docker-archives in both directions, OCI and
// Docker schema 2 manifests, an image index with --all, inspect, list-tags and delete. Every check
// compares digests against the source layout and against what the registry serves.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MEDIA } from '../../src/registry/manifest.ts';
import { startTestDaemon } from '../helpers/daemon.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { requireTool, run } from '../helpers/tools.ts';
import { OciLayout, readLayoutRef } from './layout.ts';
import { digests, servedManifest, verifyImage } from './registry-view.ts';

const skip = requireTool('skopeo', 'skopeo');

test('skopeo pushes, pulls, inspects, lists and deletes against the registry', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const work = mkdtempSync(path.join(os.tmpdir(), 'skiff-skopeo-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const skopeo = (...args: string[]) => run('skopeo', ['--insecure-policy', '--tmpdir', work, ...args]);
  const creds = `skiff:${d.token}`;
  const dest = ['--dest-creds', creds, '--dest-tls-verify=false'];
  const src = ['--src-creds', creds, '--src-tls-verify=false'];
  const access = ['--creds', creds, '--tls-verify=false'];
  const repo = uniqueRepo('skopeo');
  const ref = (reference: string, name = repo) => `docker://${d.host}/${name}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;

  const source = new OciLayout(path.join(work, 'source'));
  const image = await source.addImage();
  source.tag('image', image.descriptor);

  await t.test('OCI manifest: pushed byte-exact, pulled back by tag and by digest', async () => {
    await skopeo('copy', '--format', 'oci', '--preserve-digests', ...dest, `oci:${source.dir}:image`, ref('oci'));
    const served = await servedManifest(d, repo, 'oci');
    assert.equal(served.digest, image.descriptor.digest);
    assert.equal(served.mediaType, MEDIA.ociManifest);
    await verifyImage(d, repo, served.doc);

    for (const [i, reference] of ['oci', served.digest].entries()) {
      const out = path.join(work, `pull-oci-${i}`);
      await skopeo('copy', ...src, ref(reference), `oci:${out}:pulled`);
      const pulled = readLayoutRef(out, 'pulled');
      assert.equal(pulled.descriptor.digest, image.descriptor.digest);
      assert.deepEqual(digests(pulled.doc.layers), digests(image.layers));
      assert.equal(pulled.doc.config.digest, image.config.digest);
    }
  });

  await t.test('Docker schema 2: converted on push, same layers; docker-archive out and back in', async () => {
    await skopeo('copy', '--format', 'v2s2', ...dest, `oci:${source.dir}:image`, ref('v2s2'));
    const served = await servedManifest(d, repo, 'v2s2');
    assert.equal(served.mediaType, MEDIA.dockerManifest);
    assert.equal(served.doc.mediaType, MEDIA.dockerManifest);
    assert.deepEqual(digests(served.doc.layers), digests(image.layers));
    assert.deepEqual((await verifyImage(d, repo, served.doc)).rootfs.diff_ids, image.diffIds);

    const inspected = JSON.parse((await skopeo('inspect', ...access, ref('v2s2'))).stdout) as { Digest: string; Layers: string[] };
    assert.equal(inspected.Digest, served.digest);
    assert.deepEqual(inspected.Layers, digests(image.layers));
    const raw = (await skopeo('inspect', '--raw', ...access, ref(served.digest))).stdout;
    assert.equal(raw, served.bytes.toString());

    // docker-archive holds uncompressed layers, so the round trip is compared by diff_ids.
    const archive = path.join(work, 'image.tar');
    await skopeo('copy', ...src, ref(served.digest), `docker-archive:${archive}:${repo}:archived`);
    const archiveRepo = uniqueRepo('skopeo-archive');
    await skopeo('copy', ...dest, `docker-archive:${archive}`, ref('from-archive', archiveRepo));
    const back = await servedManifest(d, archiveRepo, 'from-archive');
    assert.equal(back.mediaType, MEDIA.dockerManifest);
    assert.deepEqual((await verifyImage(d, archiveRepo, back.doc)).rootfs.diff_ids, image.diffIds);
  });

  await t.test('image index: copy --all pushes the index and every image, byte-exact both ways', async () => {
    const arm = await source.addImage({ architecture: 'arm64' });
    const index = source.addIndex([image, arm]);
    source.tag('multi', index);
    await skopeo('copy', '--all', '--preserve-digests', ...dest, `oci:${source.dir}:multi`, ref('multi'));
    const served = await servedManifest(d, repo, 'multi');
    assert.equal(served.digest, index.digest);
    assert.equal(served.mediaType, MEDIA.ociIndex);
    assert.deepEqual(digests(served.doc.manifests), [image.descriptor.digest, arm.descriptor.digest]);
    for (const child of served.doc.manifests) await verifyImage(d, repo, (await servedManifest(d, repo, child.digest)).doc);

    const out = path.join(work, 'pull-index');
    await skopeo('copy', '--all', ...src, ref(index.digest), `oci:${out}:multi`);
    const pulled = readLayoutRef(out, 'multi');
    assert.equal(pulled.descriptor.digest, index.digest);
  });

  await t.test('list-tags lists every tag; delete removes the manifest', async () => {
    const listed = JSON.parse((await skopeo('list-tags', ...access, `docker://${d.host}/${repo}`)).stdout) as { Tags: string[] };
    assert.deepEqual([...listed.Tags].sort(), ['multi', 'oci', 'v2s2']);

    const { digest } = await servedManifest(d, repo, 'v2s2');
    await skopeo('delete', ...access, ref('v2s2'));
    await assert.rejects(skopeo('inspect', '--raw', ...access, ref(digest)), /manifest unknown|not found|MANIFEST_UNKNOWN/i);
    const after = JSON.parse((await skopeo('list-tags', ...access, `docker://${d.host}/${repo}`)).stdout) as { Tags: string[] };
    assert.deepEqual([...after.Tags].sort(), ['multi', 'oci']);
  });
});
