// `skiff push` end to end: the real CLI in a child process against an in-process daemon, fed with
// hand-written OCI layouts (directory and tar, single image and index) and podman-saved archives
// (docker-archive, oci-archive); what was pushed is read back from the registry and with skopeo.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { digestOf } from '../../src/core/digest.ts';
import { MEDIA } from '../../src/registry/manifest.ts';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { uniqueRepo, v2 } from '../helpers/oci.ts';
import { requireTool, run } from '../helpers/tools.ts';
import { skiff } from '../helpers/cli.ts';
import { OciLayout, readLayoutRef } from '../clients/layout.ts';
import { digests, servedManifest, verifyImage } from '../clients/registry-view.ts';

async function pushOk(d: TestDaemon, args: string[]): Promise<string> {
  const r = await skiff(d, ['push', ...args]);
  assert.equal(r.code, 0, `skiff push ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

function workDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-push-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** skopeo copy docker://<registry>/<repo>:<tag> oci:<out>:pulled, returning the pulled manifest. */
async function pullBack(d: TestDaemon, work: string, repo: string, tag: string) {
  const out = path.join(work, `pulled-${randomBytes(3).toString('hex')}`);
  await run('skopeo', ['--insecure-policy', '--tmpdir', work, 'copy', '--src-creds', `skiff:${d.token}`, '--src-tls-verify=false', `docker://${d.host}/${repo}:${tag}`, `oci:${out}:pulled`]);
  return readLayoutRef(out, 'pulled');
}

async function tarOf(entries: Array<{ name: string; body?: string | Buffer; type?: 'symlink'; linkname?: string }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) pack.entry(e.type ? { name: e.name, type: e.type, linkname: e.linkname } : { name: e.name }, e.body ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('push an OCI layout directory chosen by --ref; skopeo pulls the same layers; a second push finds them all', { skip: requireTool('skopeo', 'skopeo') }, async (t) => {
  const d = await startTestDaemon(t);
  const work = workDir(t);
  const layout = new OciLayout(path.join(work, 'layout'));
  const app = await layout.addImage({ layerCount: 2, layerSize: 20_000 });
  layout.tag('app', app.descriptor);
  layout.tag('other', (await layout.addImage({ layerCount: 1 })).descriptor);
  const repo = uniqueRepo('push');

  const ambiguous = await skiff(d, ['push', layout.dir, `${repo}:v1`]);
  assert.equal(ambiguous.code, 1);
  assert.match(ambiguous.stderr, /error ARCHIVE_INVALID: .*holds 2 images .*--ref/);

  const first = await pushOk(d, ['--ref', 'app', layout.dir, `${repo}:v1`]);
  assert.match(first, new RegExp(`pushed ${repo}:v1 digest ${app.descriptor.digest} \\(2 layers, 0 skipped`));
  const served = await servedManifest(d, repo, 'v1');
  assert.equal(served.digest, app.descriptor.digest);
  await verifyImage(d, repo, served.doc);
  const pulled = await pullBack(d, work, repo, 'v1');
  assert.deepEqual(digests(pulled.doc.layers), digests(app.layers));
  assert.equal(pulled.doc.config.digest, app.config.digest);

  const second = await pushOk(d, ['--ref', 'app', layout.dir, `${repo}:v2`]);
  assert.equal(second.split('\n').filter((l) => /^layer \S+ .* exists$/.test(l)).length, 2, second);
  assert.match(second, /\(2 layers, 2 skipped, 0\.0 MB/);
  assert.equal((await servedManifest(d, repo, 'v2')).digest, app.descriptor.digest);

  // Blobs larger than --chunk-size go up as PATCH chunks; the result is the same image.
  const chunkedRepo = uniqueRepo('push');
  await pushOk(d, ['--ref', 'app', '--chunk-size', '4096', layout.dir, `${chunkedRepo}:v1`]);
  await verifyImage(d, chunkedRepo, (await servedManifest(d, chunkedRepo, 'v1')).doc);
});

test('push an OCI layout tar whose image is an index: platform manifests first, then the index under the tag', async (t) => {
  const d = await startTestDaemon(t);
  const work = workDir(t);
  const layout = new OciLayout(path.join(work, 'layout'));
  const amd64 = await layout.addImage({ architecture: 'amd64', layerCount: 1 });
  const arm64 = await layout.addImage({ architecture: 'arm64', layerCount: 2 });
  const index = layout.addIndex([amd64, arm64]);
  layout.tag('multi', index);
  const archive = path.join(work, 'layout.tar');
  await run('tar', ['-C', layout.dir, '-cf', archive, '.']); // entries named ./index.json etc.
  const repo = uniqueRepo('push');

  const out = await pushOk(d, [archive, `${repo}:multi`]);
  assert.match(out, /\(3 layers, 0 skipped/);
  const served = await servedManifest(d, repo, 'multi');
  assert.equal(served.digest, index.digest);
  assert.equal(served.mediaType, MEDIA.ociIndex);
  for (const image of [amd64, arm64]) {
    const child = await servedManifest(d, repo, image.descriptor.digest);
    assert.deepEqual(digests((await verifyImage(d, repo, child.doc), child.doc.layers)), digests(image.layers));
  }
});

test('push podman-saved docker-archive and oci-archive images; skopeo pulls back the pushed layers', { skip: requireTool('podman', 'podman') ?? requireTool('skopeo', 'skopeo') ?? requireTool('busybox', 'busybox-static') }, async (t) => {
  const d = await startTestDaemon(t);
  const work = workDir(t);
  const context = path.join(work, 'context');
  mkdirSync(context);
  copyFileSync('/bin/busybox', path.join(context, 'busybox'));
  writeFileSync(path.join(context, 'hello'), `hello ${randomBytes(8).toString('hex')}\n`);
  writeFileSync(path.join(context, 'Containerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY hello /hello\nCMD ["/bin/busybox", "cat", "/hello"]\n');
  const image = `localhost/skiff-push-test-${randomBytes(5).toString('hex')}:v1`;
  t.after(() => run('podman', ['rmi', '-f', image]).catch(() => {}));
  await run('podman', ['build', '--quiet', '-t', image, context]);
  const imageId = (await run('podman', ['image', 'inspect', '--format', '{{.Id}}', image])).stdout.trim();

  for (const format of ['docker-archive', 'oci-archive']) {
    const archive = path.join(work, `${format}.tar`);
    await run('podman', ['save', '--format', format, '-o', archive, image]);
    const repo = uniqueRepo('push');
    const out = await pushOk(d, [archive, `${repo}:${format}`]);
    assert.match(out, /\(2 layers, 0 skipped/, out);
    const served = await servedManifest(d, repo, format);
    assert.match(out, new RegExp(`digest ${served.digest} `));
    assert.equal(served.doc.config.digest, `sha256:${imageId}`, `${format}: config pushed byte for byte`);
    const config = await verifyImage(d, repo, served.doc);
    assert.equal(config.rootfs.diff_ids.length, 2);
    const pulled = await pullBack(d, work, repo, format);
    assert.deepEqual(digests(pulled.doc.layers), digests(served.doc.layers), format);
    assert.equal(pulled.descriptor.digest, served.digest, `${format}: skopeo keeps the pushed manifest as is`);

    const again = await pushOk(d, [archive, `${repo}:again`]);
    assert.match(again, /\(2 layers, 2 skipped/, again);
    assert.equal((await servedManifest(d, repo, 'again')).digest, served.digest, `${format}: a re-push yields the same manifest`);
  }
});

test('push a hand-made docker archive whose layer is a symlink inside the archive; a wrong diff_id is refused', async (t) => {
  const d = await startTestDaemon(t);
  const work = workDir(t);
  const layerTar = await tarOf([{ name: 'hello.txt', body: `hi ${randomBytes(4).toString('hex')}` }]);
  const diffId = digestOf(layerTar);
  const archive = async (diffIds: string[]) => {
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } });
    const hex = diffId.slice('sha256:'.length);
    return tarOf([
      { name: 'manifest.json', body: JSON.stringify([{ Config: 'config.json', RepoTags: ['x:y'], Layers: ['abc/layer.tar'] }]) },
      { name: 'config.json', body: config },
      { name: `blobs/sha256/${hex}`, body: layerTar },
      { name: 'abc/layer.tar', type: 'symlink', linkname: `../blobs/sha256/${hex}` },
    ]);
  };
  const good = path.join(work, 'good.tar');
  writeFileSync(good, await archive([diffId]));
  const repo = uniqueRepo('push');
  await pushOk(d, [good, `${repo}:v1`]);
  const served = await servedManifest(d, repo, 'v1');
  assert.equal(served.doc.layers[0]!.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
  const layer = Buffer.from(await (await v2(d, `/v2/${repo}/blobs/${served.doc.layers[0]!.digest}`)).arrayBuffer());
  assert.deepEqual(gunzipSync(layer), layerTar);

  const bad = path.join(work, 'bad.tar');
  writeFileSync(bad, await archive([digestOf('something else')]));
  const r = await skiff(d, ['push', bad, `${repo}:v2`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error ARCHIVE_INVALID: .*bad\.tar: abc\/layer\.tar does not match diff_id/);
});

test('invalid, hostile and unauthorized pushes exit 1 with a stable error code', async (t) => {
  const d = await startTestDaemon(t);
  const work = workDir(t);
  const repo = uniqueRepo('push');
  const cases: Array<{ name: string; bytes: Buffer; expect: RegExp }> = [
    { name: 'garbage.tar', bytes: randomBytes(4096), expect: /not a tar archive/ },
    { name: 'empty-dir.tar', bytes: await tarOf([{ name: 'hello.txt', body: 'hi' }]), expect: /neither an OCI image layout/ },
    { name: 'dotdot.tar', bytes: await tarOf([{ name: '../evil', body: 'x' }]), expect: /escapes the archive/ },
    {
      name: 'symlink.tar',
      bytes: await tarOf([{ name: 'oci-layout', body: '{}' }, { name: 'index.json', type: 'symlink', linkname: '../../../etc/hostname' }]),
      expect: /escapes the archive/,
    },
  ];
  for (const c of cases) {
    const file = path.join(work, c.name);
    writeFileSync(file, c.bytes);
    const r = await skiff(d, ['push', file, `${repo}:v1`]);
    assert.equal(r.code, 1, `${c.name}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^skiff: error ARCHIVE_INVALID: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `), c.name);
    assert.match(r.stderr, c.expect, c.name);
  }
  const missing = await skiff(d, ['push', path.join(work, 'nope.tar'), `${repo}:v1`]);
  assert.match(missing.stderr, /error ARCHIVE_INVALID: .*nope\.tar: cannot read/);

  const layout = new OciLayout(path.join(work, 'layout'));
  const only = await layout.addImage({ layerCount: 1 });
  layout.tag('only', only.descriptor);
  const denied = await skiff(d, ['push', layout.dir, `${repo}:v1`], 'not-a-token');
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /^skiff: error UNAUTHORIZED: /);
  assert.equal((await v2(d, `/v2/${repo}/manifests/v1`)).status, 404);

  // A blob whose bytes do not match its digest is caught while uploading, and nothing is tagged.
  const blobFile = path.join(layout.dir, 'blobs', 'sha256', only.layers[0]!.digest.slice('sha256:'.length));
  writeFileSync(blobFile, randomBytes(only.layers[0]!.size));
  const corrupt = await skiff(d, ['push', layout.dir, `${repo}:v1`]);
  assert.equal(corrupt.code, 1);
  assert.match(corrupt.stderr, /^skiff: error ARCHIVE_INVALID: .*blobs\/sha256\/[0-9a-f]{64} does not match its digest/);
  assert.equal((await v2(d, `/v2/${repo}/manifests/v1`)).status, 404);
});
