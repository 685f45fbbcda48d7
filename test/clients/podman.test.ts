// Real-client round trips with podman: build FROM scratch (busybox + a unique file), login, push as OCI
// and as Docker schema 2, pull back by tag and by digest into a separate store, and push a manifest
// list of two images with `manifest push --all`. Each podman runs on its own vfs store in a temp dir,
// so tests never touch (or race on) the machine's container storage.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MEDIA } from '../../src/registry/manifest.ts';
import { startTestDaemon } from '../helpers/daemon.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { requireTool, run } from '../helpers/tools.ts';
import { digests, servedManifest, verifyImage } from './registry-view.ts';

const skip = requireTool('podman', 'podman') ?? requireTool('busybox', 'busybox-static');

/** A podman bound to its own storage under `dir`. */
function podmanIn(dir: string) {
  const globals = ['--root', `${dir}/root`, '--runroot', `${dir}/run`, '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--tmpdir', `${dir}/tmp`];
  return async (...args: string[]) => (await run('podman', [...globals, ...args])).stdout.trim();
}

test('podman builds, pushes and pulls images and manifest lists', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const work = mkdtempSync(path.join(os.tmpdir(), 'skiff-podman-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const podman = podmanIn(path.join(work, 'builder'));
  const puller = podmanIn(path.join(work, 'puller'));
  const authfile = ['--authfile', path.join(work, 'auth.json'), '--tls-verify=false'];
  await run('podman', ['login', ...authfile, '-u', 'skiff', '--password-stdin', d.host], { input: d.token });
  const repo = uniqueRepo('podman');
  const remote = (reference: string) => `${d.host}/${repo}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;

  // Two layers: busybox, then a file unique to this run (and to each image).
  const context = path.join(work, 'context');
  mkdirSync(context);
  copyFileSync('/bin/busybox', path.join(context, 'busybox'));
  writeFileSync(path.join(context, 'Containerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY unique.txt /unique.txt\nCMD ["/bin/busybox", "sh"]\n');
  const build = async (tag: string, arch: string) => {
    writeFileSync(path.join(context, 'unique.txt'), randomBytes(16).toString('hex'));
    await podman('build', '-q', '--arch', arch, '-t', tag, context);
    return JSON.parse(await podman('image', 'inspect', '--format', '{{json .RootFS.Layers}}', tag)) as string[];
  };
  const repoDigests = async (image: string) => JSON.parse(await puller('image', 'inspect', '--format', '{{json .RepoDigests}}', image)) as string[];
  const local = `localhost/${repo}`;
  const diffIds = await build(`${local}:amd64`, 'amd64');
  assert.equal(diffIds.length, 2);

  await t.test('push (OCI and Docker schema 2), pull back by tag and by digest', async () => {
    for (const [tag, format, mediaType] of [['oci', 'oci', MEDIA.ociManifest], ['v2s2', 'v2s2', MEDIA.dockerManifest]] as const) {
      const digestfile = path.join(work, `${tag}.digest`);
      await podman('push', ...authfile, '--format', format, '--digestfile', digestfile, `${local}:amd64`, `docker://${remote(tag)}`);
      const served = await servedManifest(d, repo, tag);
      assert.equal(served.digest, readFileSync(digestfile, 'utf8').trim());
      assert.equal(served.mediaType, mediaType);
      assert.deepEqual((await verifyImage(d, repo, served.doc)).rootfs.diff_ids, diffIds);

      for (const reference of [tag, served.digest]) {
        await puller('pull', ...authfile, remote(reference));
        assert.ok((await repoDigests(remote(reference))).includes(`${d.host}/${repo}@${served.digest}`));
        assert.deepEqual(JSON.parse(await puller('image', 'inspect', '--format', '{{json .RootFS.Layers}}', remote(reference))), diffIds);
      }
    }
  });

  await t.test('manifest push --all: an index of two images', async () => {
    const armDiffIds = await build(`${local}:arm64`, 'arm64');
    const list = `${local}-list`;
    await podman('manifest', 'create', list);
    await podman('manifest', 'add', list, `containers-storage:${local}:amd64`);
    await podman('manifest', 'add', list, `containers-storage:${local}:arm64`);
    const digestfile = path.join(work, 'list.digest');
    await podman('manifest', 'push', ...authfile, '--all', '--digestfile', digestfile, list, `docker://${remote('list')}`);

    const served = await servedManifest(d, repo, 'list');
    assert.equal(served.digest, readFileSync(digestfile, 'utf8').trim());
    assert.ok(served.mediaType === MEDIA.ociIndex || served.mediaType === MEDIA.dockerList, served.mediaType);
    assert.equal(served.doc.manifests.length, 2);
    const architectures: string[] = [];
    for (const child of served.doc.manifests) {
      const config = await verifyImage(d, repo, (await servedManifest(d, repo, child.digest)).doc);
      assert.deepEqual(config.rootfs.diff_ids, config.architecture === 'arm64' ? armDiffIds : diffIds);
      architectures.push(config.architecture);
    }
    assert.deepEqual(architectures.sort(), ['amd64', 'arm64']);

    await puller('pull', ...authfile, '--arch', 'arm64', remote('list'));
    assert.deepEqual(JSON.parse(await puller('image', 'inspect', '--format', '{{json .RootFS.Layers}}', remote('list'))), armDiffIds);
    const pulledDigests = await repoDigests(remote('list'));
    assert.ok(digests(served.doc.manifests).some((digest) => pulledDigests.includes(`${d.host}/${repo}@${digest}`)), pulledDigests.join());
  });
});
