// test/runtime/runc-image.test: the runc driver end to end on an image built by podman (root, real
// runc/overlayfs/podman): a busybox httpd FROM scratch with a named non-root USER in a supplementary
// group, WORKDIR and ENV, pushed to an OCI layout and served from memory; served over HTTP from the
// host, isolated per instance, re-adopted by a second driver, and cleaned up.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { InstanceAddress, InstanceSpec } from '../../src/core/instance.ts';
import type { PinnedImage } from '../../src/core/service.ts';
import { createRuncDriver } from '../../src/runtime/runc/factory.ts';
import { processArgs } from '../../src/runtime/runc/process.ts';
import { requireTool, run } from '../helpers/tools.ts';
import { MemoryImages } from './memory-images.ts';
import { hostFootprint, removeTestNetwork, runId, sweepDeadRuns, testNetwork } from './test-network.ts';
import { collect } from '../helpers/collect.ts';

const skip = requireTool('podman', 'podman') ?? requireTool('runc', 'runc') ?? requireTool('busybox', 'busybox-static');
const NETWORK = testNetwork('s', 219);
const PREFIX = 'skiff-img-';
const RUN = runId(PREFIX);

test('process args follow Kubernetes: command drops the image cmd, args replace it', () => {
  const image = { entrypoint: ['/ep'], cmd: ['a', 'b'] };
  assert.deepEqual(processArgs(image, undefined, undefined), ['/ep', 'a', 'b']);
  assert.deepEqual(processArgs(image, undefined, ['c']), ['/ep', 'c']);
  assert.deepEqual(processArgs(image, ['/other'], undefined), ['/other']);
  assert.deepEqual(processArgs(image, ['/other'], ['x']), ['/other', 'x']);
});

function get(a: InstanceAddress, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: a.host, port: a.port, path: urlPath, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout'))).on('error', reject);
  });
}

/** GET that retries connection errors while the server starts listening (bounded: 200 × 25 ms). */
async function getWhenUp(a: InstanceAddress, urlPath: string) {
  for (let i = 0; ; i++) {
    try {
      return await get(a, urlPath);
    } catch (err) {
      if (i >= 200) throw err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

const CGI = (body: string) => `#!/bin/busybox sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n${body}\n`;

/** Builds the image with podman (vfs storage in `work`) and loads its OCI layout into `images`. */
async function buildImage(work: string, images: MemoryImages, index: string): Promise<PinnedImage> {
  const ctx = path.join(work, 'context');
  for (const dir of ['etc', 'www/cgi-bin']) mkdirSync(path.join(ctx, dir), { recursive: true });
  copyFileSync('/bin/busybox', path.join(ctx, 'busybox'));
  writeFileSync(path.join(ctx, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1234:1234:app:/home/app:/bin/sh\n');
  writeFileSync(path.join(ctx, 'etc/group'), 'root:x:0:\napp:x:1234:\nextra:x:2345:other,app\n');
  writeFileSync(path.join(ctx, 'www/index.html'), index);
  writeFileSync(path.join(ctx, 'www/cgi-bin/id'), CGI('/bin/busybox id -u; /bin/busybox id -g; /bin/busybox id -G; echo "$PORT $GREETING $HOME"'));
  writeFileSync(path.join(ctx, 'www/cgi-bin/write'), CGI('echo "$QUERY_STRING" > /www/note.txt; echo ok'));
  for (const f of ['id', 'write']) chmodSync(path.join(ctx, 'www/cgi-bin', f), 0o755);
  writeFileSync(path.join(ctx, 'Containerfile'), [
    'FROM scratch', 'COPY busybox /bin/busybox', 'COPY etc /etc', 'COPY --chown=1234:1234 www /www', 'ENV GREETING=image',
    // httpd serves "." so the page only appears when WORKDIR became the cwd
    'WORKDIR /www', 'USER app', 'CMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "."]', '',
  ].join('\n'));
  const storage = path.join(work, 'podman');
  const podman = (...args: string[]) => run('podman', ['--root', `${storage}/root`, '--runroot', `${storage}/run`, '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--tmpdir', `${storage}/tmp`, ...args]);
  const tag = `localhost/skiff-test-${RUN}:v1`;
  await podman('build', '-q', '-t', tag, ctx);
  const layout = path.join(work, 'layout');
  await podman('push', '-q', '--format', 'oci', tag, `oci:${layout}:v1`);
  const [image] = images.addLayout('test/podman', layout);
  assert.ok(image, 'the OCI layout has no image');
  return image;
}

test('the runc driver runs a podman-built image', { skip, timeout: 300_000 }, async (t) => {
  sweepDeadRuns(PREFIX);
  const work = mkdtempSync(path.join(os.tmpdir(), 'skiff-test-image-'));
  const images = new MemoryImages();
  // as the daemon builds it; a second call on the same dirs is what a restarted daemon does
  const newDriver = () => createRuncDriver({ dataDir: work, images, network: NETWORK });
  t.after(async () => {
    try {
      const left = newDriver();
      for (const i of await left.list()) await left.delete(i.id);
    } finally {
      rmSync(work, { recursive: true, force: true });
      await removeTestNetwork(NETWORK);
    }
  });
  const index = `hello ${randomBytes(8).toString('hex')}\n`;
  const image = await buildImage(work, images, index);
  const driver = newDriver();
  const instancesDir = path.join(work, 'instances');
  const ours = () => {
    const f = hostFootprint(RUN, instancesDir);
    return { mounts: f.mounts, netns: f.netns, dirs: existsSync(instancesDir) ? readdirSync(instancesDir).length : 0 };
  };

  let seq = 0;
  const spec = (over: Partial<InstanceSpec> = {}): InstanceSpec => ({
    image, service: `${RUN}-svc`, revision: `${RUN}-svc-00001`, port: 8080, env: { GREETING: 'spec' }, readOnlyRoot: false,
    limits: { memoryBytes: 64 << 20, cpus: 0.5, pids: 64 }, ...over,
  });
  const newId = () => `${RUN}-svc-00001-${(++seq).toString(16).padStart(6, '0')}`;
  const a = newId();
  const b = newId();
  let addrA: InstanceAddress = { host: '', port: 0 };
  let addrB: InstanceAddress = { host: '', port: 0 };

  await t.test('prepare unpacks the layers once', async () => {
    const first = await driver.prepare(image);
    assert.ok(first.total >= 3, `layers: ${first.total}`);
    assert.equal(first.unpacked, first.total);
    assert.deepEqual(await driver.prepare(image), { total: first.total, unpacked: 0 });
  });

  await t.test('serves index.html from WORKDIR as the image USER with image + spec env and PORT', async () => {
    await driver.create(a, spec());
    assert.deepEqual((await driver.list()).map((i) => [i.id, i.status]), [[a, 'created']]);
    addrA = await driver.start(a);
    assert.equal(addrA.port, 8080);
    assert.deepEqual(await getWhenUp(addrA, '/'), { status: 200, body: index });
    const id = await get(addrA, '/cgi-bin/id');
    assert.equal(id.status, 200, id.body);
    const [uid, gid, groups, env] = id.body.trim().split('\n');
    assert.deepEqual([uid, gid, groups?.split(' ').sort(), env], ['1234', '1234', ['1234', '2345'], '8080 spec /home/app']);
    const stats = await driver.stats(a);
    assert.ok(stats && stats.cpuNanos > 0 && stats.memoryBytes > 0, JSON.stringify(stats));
    assert.ok(stats.workingSetBytes > 0 && stats.workingSetBytes <= stats.memoryBytes, JSON.stringify(stats));
  });

  await t.test("two instances of one image never see each other's writes", async () => {
    await driver.create(b, spec());
    addrB = await driver.start(b);
    assert.notEqual(addrB.host, addrA.host);
    assert.equal((await getWhenUp(addrB, '/')).body, index);
    assert.equal((await get(addrA, '/cgi-bin/write?from-a')).body.trim(), 'ok');
    assert.deepEqual(await get(addrA, '/note.txt'), { status: 200, body: 'from-a\n' });
    assert.equal((await get(addrB, '/note.txt')).status, 404);
    // nor did the write reach the shared layer cache
    assert.equal(execFileSync('find', [path.join(work, 'layers'), '-name', 'note.txt'], { encoding: 'utf8' }), '');
  });

  await t.test('a second driver on the same dirs re-adopts running instances', async () => {
    const again = newDriver();
    const listed = (await again.list()).sort((x, y) => x.id.localeCompare(y.id));
    const info = (id: string, address: InstanceAddress) => ({ id, service: `${RUN}-svc`, revision: `${RUN}-svc-00001`, status: 'running', address });
    assert.deepEqual(listed, [info(a, addrA), info(b, addrB)].sort((x, y) => x.id.localeCompare(y.id)));
    assert.equal((await getWhenUp(addrA, '/')).status, 200);
  });

  // two mounts per instance: its rootfs overlay and the tmpfs under its writable layer
  await t.test('stop keeps the instance; delete removes the mount, netns and dir; concurrent or repeated deletes are no-ops', async () => {
    assert.deepEqual(ours(), { mounts: 4, netns: 2, dirs: 2 });
    await driver.stop(a, 200);
    assert.equal((await driver.inspect(a))?.status, 'stopped');
    assert.deepEqual(ours(), { mounts: 4, netns: 2, dirs: 2 }, 'a stopped instance keeps what it owns until delete');
    await driver.delete(a);
    assert.deepEqual(ours(), { mounts: 2, netns: 1, dirs: 1 });
    await Promise.all([driver.delete(b), driver.delete(b)]); // a drain racing an orphan sweep
    assert.deepEqual(ours(), { mounts: 0, netns: 0, dirs: 0 });
    await driver.delete(a);
    assert.equal(await driver.stats(a), undefined);
    assert.deepEqual(await driver.list(), []);
  });

  await t.test('watch resolves when the app exits on its own; its output stays readable until delete', async () => {
    const id = newId();
    await driver.create(id, spec({ command: ['/bin/busybox', 'sh', '-c', 'echo bye; exit 3'] }));
    await driver.start(id);
    assert.deepEqual(await driver.watch(id), { reason: 'exited', exitCode: 3 });
    // the supervisor may record the exit a moment before the last output line reaches the log file
    for (let i = 0; i < 100 && (await collect(driver.logs(id))).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual((await collect(driver.logs(id))).map((l) => `${l.stream} ${l.line}`), ['stdout bye']);
    assert.deepEqual((await driver.list()).map((i) => [i.id, i.revision, i.status]), [[id, `${RUN}-svc-00001`, 'stopped']]);
    await driver.delete(id);
    assert.deepEqual(ours(), { mounts: 0, netns: 0, dirs: 0 });
  });
});
