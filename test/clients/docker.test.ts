// Real-client round trips with docker against a private dockerd (see dockerd.ts): login, legacy-builder
// build FROM scratch, push, pull by tag and by digest, and `docker load` of an archive made by skopeo
// from an OCI layout. One dockerd serves the whole file; it starts in seconds, not milliseconds.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MEDIA } from '../../src/registry/manifest.ts';
import { startTestDaemon } from '../helpers/daemon.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { requireTool, run } from '../helpers/tools.ts';
import { startDockerd } from './dockerd.ts';
import { OciLayout } from './layout.ts';
import { servedManifest, verifyImage } from './registry-view.ts';

const skip = requireTool('dockerd', 'docker.io') ?? requireTool('skopeo', 'skopeo') ?? requireTool('busybox', 'busybox-static');

test('docker logs in, builds, pushes, pulls, mounts across repositories and loads images', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const work = mkdtempSync(path.join(os.tmpdir(), 'skiff-docker-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const dockerd = await startDockerd();
  t.after(() => dockerd.stop());
  const docker = async (...args: string[]) => (await dockerd.docker(args)).stdout.trim();
  await dockerd.docker(['login', d.host, '-u', 'skiff', '--password-stdin'], { input: d.token });

  const inspect = async (image: string) => {
    const out = await docker('image', 'inspect', '--format', '{{json .RootFS.Layers}} {{json .RepoDigests}}', image);
    const [layers, repoDigests] = out.split(' ').map((s) => JSON.parse(s) as string[]);
    return { diffIds: layers!, repoDigests: repoDigests ?? [] };
  };
  /** `docker push` and the digest it reports, which must be what the registry serves. */
  const push = async (repo: string, tag: string) => {
    const out = await docker('push', `${d.host}/${repo}:${tag}`);
    const reported = /digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(out)?.[1];
    assert.ok(reported, `no digest in docker push output:\n${out}`);
    const served = await servedManifest(d, repo, tag);
    assert.equal(served.digest, reported);
    assert.equal(served.mediaType, MEDIA.dockerManifest);
    return { served, config: await verifyImage(d, repo, served.doc), out };
  };

  await t.test('build, push, pull back by tag and by digest', async () => {
    const context = path.join(work, 'context');
    mkdirSync(context);
    copyFileSync('/bin/busybox', path.join(context, 'busybox'));
    writeFileSync(path.join(context, 'unique.txt'), randomBytes(16).toString('hex'));
    writeFileSync(path.join(context, 'Dockerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY unique.txt /unique.txt\nCMD ["/bin/busybox", "sh"]\n');
    const repo = uniqueRepo('docker');
    const image = `${d.host}/${repo}:built`;
    await docker('build', '-q', '-t', image, context);
    const built = await inspect(image);
    assert.equal(built.diffIds.length, 2);

    const { served, config } = await push(repo, 'built');
    assert.deepEqual(config.rootfs.diff_ids, built.diffIds);

    for (const reference of [image, `${d.host}/${repo}@${served.digest}`]) {
      await docker('rmi', '-f', image);
      await docker('pull', reference);
      const pulled = await inspect(reference);
      assert.deepEqual(pulled.diffIds, built.diffIds);
      assert.ok(pulled.repoDigests.includes(`${d.host}/${repo}@${served.digest}`), pulled.repoDigests.join());
      if (reference !== image) await docker('tag', reference, image);
    }

    // Pushing the same image to a second repository makes docker mount the layers across repositories.
    const second = uniqueRepo('docker-mount');
    await docker('tag', image, `${d.host}/${second}:copy`);
    const mounted = await push(second, 'copy');
    assert.equal(mounted.served.digest, served.digest);
    assert.equal(mounted.out.match(new RegExp(`Mounted from ${repo}`, 'g'))?.length, 2, mounted.out);
  });

  await t.test('docker load of an archive, then push: the layers the archive held', async () => {
    const layout = new OciLayout(path.join(work, 'layout'));
    const source = await layout.addImage({ layerCount: 3 });
    layout.tag('image', source.descriptor);
    const archive = path.join(work, 'image.tar');
    const loadedName = `localhost/${uniqueRepo('loaded')}:v1`;
    await run('skopeo', ['--insecure-policy', 'copy', `oci:${layout.dir}:image`, `docker-archive:${archive}:${loadedName}`]);
    await docker('load', '-i', archive);
    const repo = uniqueRepo('docker-load');
    await docker('tag', loadedName, `${d.host}/${repo}:loaded`);
    const { config } = await push(repo, 'loaded');
    assert.deepEqual(config.rootfs.diff_ids, source.diffIds);
  });
});
