// RuncInstances end to end (root, real runc/overlayfs/podman): a busybox httpd image built with podman,
// pushed to a test daemon's registry, run from a hand-made RevisionRecord; served over HTTP from the
// host, as the image USER, isolated per instance, re-adopted by a second RuncInstances, and cleaned up.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { SkiffError } from '../../src/core/errors.ts';
import type { RevisionRecord, ServiceSpec } from '../../src/core/service.ts';
import { processArgs } from '../../src/daemon/instances.ts';
import { createRuncInstances } from '../../src/daemon/runc-instances.ts';
import { Registry } from '../../src/registry/registry.ts';
import { BlobStore } from '../../src/registry/blob-store.ts';
import { removeFirewall } from '../../src/runtime/network/firewall.ts';
import { openDatabase } from '../../src/store/sqlite.ts';
import { RegistryStore } from '../../src/store/registry-store.ts';
import { systemClock } from '../../src/core/clock.ts';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushImage, uniqueRepo } from '../helpers/oci.ts';
import { requireTool, run } from '../helpers/tools.ts';

const skip = requireTool('podman', 'podman') ?? requireTool('runc', 'runc') ?? requireTool('busybox', 'busybox-static');

// A network of this run's own (bridge, /24, chains), apart from test/runtime's 10.214/16.
const TAG = (process.pid % 65536).toString(16).padStart(4, '0');
const NETWORK = { bridge: `sks-${TAG}`, cidr: `10.219.${process.pid % 250}.0/24`, chainPrefix: `SKS-${TAG}`, egress: false };

test('process args follow Kubernetes: command drops the image cmd, args replace it', () => {
  const image = { entrypoint: ['/ep'], cmd: ['a', 'b'] };
  assert.deepEqual(processArgs(image, undefined, undefined), ['/ep', 'a', 'b']);
  assert.deepEqual(processArgs(image, undefined, ['c']), ['/ep', 'c']);
  assert.deepEqual(processArgs(image, ['/other'], undefined), ['/other']);
  assert.deepEqual(processArgs(image, ['/other'], ['x']), ['/other', 'x']);
});

function get(host: string, port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: urlPath, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout'))).on('error', reject);
  });
}

/** GET that retries connection errors while the server starts listening (bounded: 200 × 25 ms). */
async function getWhenUp(address: { host: string; port: number }, urlPath: string) {
  for (let i = 0; ; i++) {
    try {
      return await get(address.host, address.port, urlPath);
    } catch (err) {
      if (i >= 200) throw err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

function spec(name: string, over: Partial<ServiceSpec>): ServiceSpec {
  const probe = { periodMs: 1000, timeoutMs: 1000, failureThreshold: 3 };
  return {
    name, image: 'unused', port: 8080, env: {}, memoryBytes: 64 * 1024 ** 2, cpus: 0.5, pids: 64, readOnlyRoot: false, timeoutMs: 10_000, queueLimit: 10, drainGraceMs: 1000,
    readiness: probe,
    scaling: { minScale: 0, maxScale: 1, containerConcurrency: 0, target: 10, targetUtilization: 0.7, metric: 'concurrency', stableWindowMs: 60_000, panicWindowMs: 6000, panicThreshold: 2, idleWindowMs: 60_000, scaleToZeroGraceMs: 30_000, freezeIdle: false },
    ...over,
  };
}

// Service (and so instance and netns) names of this run: counts of netns never include a parallel run's.
const RUN = `sks${randomBytes(3).toString('hex')}`;
let seq = 0;
function revision(imageDigest: string, over: Partial<ServiceSpec> = {}): RevisionRecord {
  const service = `${RUN}-${++seq}`;
  return { name: `${service}-00001`, service, generation: 1, imageRef: imageDigest, imageDigest, spec: spec(service, over), createdAt: 0 };
}
const instanceId = (r: RevisionRecord) => `${r.name}-${randomBytes(3).toString('hex')}`;

const CGI = (body: string) => `#!/bin/busybox sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n${body}\n`;

test('RuncInstances runs a registry image under runc', { skip, timeout: 300_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const work = mkdtempSync(path.join(os.tmpdir(), 'skiff-serving-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));

  // --- the image: busybox httpd FROM scratch, a named non-root USER with a supplementary group, WORKDIR
  const ctx = path.join(work, 'context');
  for (const dir of ['etc', 'www/cgi-bin']) mkdirSync(path.join(ctx, dir), { recursive: true });
  copyFileSync('/bin/busybox', path.join(ctx, 'busybox'));
  writeFileSync(path.join(ctx, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1234:1234:app:/home/app:/bin/sh\n');
  writeFileSync(path.join(ctx, 'etc/group'), 'root:x:0:\napp:x:1234:\nextra:x:2345:other,app\n');
  const index = `hello ${randomBytes(8).toString('hex')}\n`;
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
  const repo = uniqueRepo('serving');
  const authfile = ['--authfile', path.join(work, 'auth.json'), '--tls-verify=false'];
  await run('podman', ['login', ...authfile, '-u', 'skiff', '--password-stdin', d.host], { input: d.token });
  await podman('build', '-q', '-t', `localhost/${repo}:v1`, ctx);
  const digestfile = path.join(work, 'digest');
  await podman('push', ...authfile, '--format', 'oci', '--digestfile', digestfile, `localhost/${repo}:v1`, `docker://${d.host}/${repo}:v1`);
  const image = `${repo}@${readFileSync(digestfile, 'utf8').trim()}`;

  // --- the pieces the daemon wires: registry view on the daemon's data dir, layer cache, runtime
  const db = openDatabase(path.join(d.dataDir, 'skiff.db'));
  t.after(() => db.close());
  const blobs = new BlobStore(path.join(d.dataDir, 'registry'));
  const registry = new Registry(new RegistryStore(db), blobs, systemClock, { maxManifestBytes: 4 << 20 });
  const instancesDir = path.join(work, 'instances');
  // as the daemon builds it; a second call on the same dirs is what a restarted daemon does
  const newInstances = () => createRuncInstances({ dataDir: work, registry, network: NETWORK });
  t.after(async () => {
    try {
      const left = await newInstances();
      for (const i of await left.list()) await left.stop(i.id, 0);
    } finally {
      try { execFileSync('ip', ['link', 'del', NETWORK.bridge], { stdio: 'ignore' }); } catch { /* never created */ }
      await removeFirewall(NETWORK.chainPrefix);
      rmSync(`/run/skiff/ipam/${NETWORK.bridge}`, { recursive: true, force: true });
      for (const dir of ['/run/skiff/ipam', '/run/skiff']) {
        try { rmdirSync(dir); } catch { /* not empty (a parallel run) or absent */ }
      }
      rmSync(work, { recursive: true, force: true }); // again: the runtime made above recreated its state dir
    }
  });
  const instances = await newInstances();
  const ours = () => ({
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(instancesDir)).length,
    netns: execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(`skiff-${RUN}-`)).length,
    dirs: existsSync(instancesDir) ? readdirSync(instancesDir).length : 0,
  });

  const rev = revision(image, { env: { GREETING: 'spec' } });
  const a = instanceId(rev);
  const b = instanceId(rev);
  let addrA = { host: '', port: 0 };
  let addrB = { host: '', port: 0 };

  await t.test('prepare unpacks the layers once', async () => {
    const first = await instances.prepare(rev.imageDigest);
    assert.ok(first.total >= 3, `layers: ${first.total}`);
    assert.equal(first.unpacked, first.total);
    assert.deepEqual(await instances.prepare(rev.imageDigest), { total: first.total, unpacked: 0 });
  });

  await t.test('serves index.html from WORKDIR as the image USER with image + spec env and PORT', async () => {
    await instances.create(rev, a);
    assert.deepEqual((await instances.list()).map((i) => [i.id, i.status]), [[a, 'created']]);
    addrA = await instances.start(a);
    assert.equal(addrA.port, 8080);
    assert.deepEqual(await getWhenUp(addrA, '/'), { status: 200, body: index });
    const id = await get(addrA.host, addrA.port, '/cgi-bin/id');
    assert.equal(id.status, 200, id.body);
    const [uid, gid, groups, env] = id.body.trim().split('\n');
    assert.deepEqual([uid, gid, groups?.split(' ').sort(), env], ['1234', '1234', ['1234', '2345'], '8080 spec /home/app']);
    const stats = await instances.stats(a);
    assert.ok(stats && stats.cpuNanos > 0 && stats.memoryBytes > 0, JSON.stringify(stats));
    assert.ok(stats.workingSetBytes > 0 && stats.workingSetBytes <= stats.memoryBytes, JSON.stringify(stats));
  });

  await t.test("two instances of one image never see each other's writes", async () => {
    await instances.create(rev, b);
    addrB = await instances.start(b);
    assert.notEqual(addrB.host, addrA.host);
    assert.equal((await getWhenUp(addrB, '/')).body, index);
    assert.equal((await get(addrA.host, addrA.port, '/cgi-bin/write?from-a')).body.trim(), 'ok');
    assert.deepEqual(await get(addrA.host, addrA.port, '/note.txt'), { status: 200, body: 'from-a\n' });
    assert.equal((await get(addrB.host, addrB.port, '/note.txt')).status, 404);
    // nor did the write reach the shared layer cache
    const cacheFiles = execFileSync('find', [path.join(work, 'layers'), '-name', 'note.txt'], { encoding: 'utf8' });
    assert.equal(cacheFiles, '');
  });

  await t.test('a second RuncInstances on the same dirs re-adopts running instances', async () => {
    const again = await newInstances();
    const listed = (await again.list()).filter((i) => i.id === a || i.id === b).sort((x, y) => x.id.localeCompare(y.id));
    const expected = [{ id: a, revision: rev.name, address: addrA, status: 'running' }, { id: b, revision: rev.name, address: addrB, status: 'running' }];
    assert.deepEqual(listed, expected.sort((x, y) => x.id.localeCompare(y.id)));
    assert.equal((await getWhenUp(addrA, '/')).status, 200);
  });

  await t.test('stop removes the mount, netns and dir; concurrent or repeated stops are no-ops', async () => {
    assert.deepEqual(ours(), { mounts: 2, netns: 2, dirs: 2 });
    await instances.stop(a, 200);
    assert.deepEqual(ours(), { mounts: 1, netns: 1, dirs: 1 });
    await Promise.all([instances.stop(b, 200), instances.stop(b, 200)]); // a drain racing an orphan sweep
    assert.deepEqual(ours(), { mounts: 0, netns: 0, dirs: 0 });
    await instances.stop(a, 200);
    assert.equal(await instances.stats(a), undefined);
    assert.deepEqual(await instances.list(), []);
  });

  await t.test('exited resolves when the app exits on its own', async () => {
    const quick = revision(image, { command: ['/bin/busybox', 'sh', '-c', 'echo bye; exit 3'] });
    const id = instanceId(quick);
    await instances.create(quick, id);
    await instances.start(id);
    await instances.exited(id);
    // the supervisor may record the exit a moment before the last output line reaches the log file
    for (let i = 0; i < 100 && (await instances.logs(id)).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.match((await instances.logs(id)).join('\n'), /^\S+Z stdout bye$/);
    assert.deepEqual((await instances.list()).map((i) => [i.id, i.revision, i.status]), [[id, quick.name, 'stopped']]);
    await instances.stop(id, 0);
    assert.deepEqual(ours(), { mounts: 0, netns: 0, dirs: 0 });
  });

  await t.test('an image whose layer blob is missing fails create with BLOB_UNKNOWN and leaves nothing', async () => {
    const brokenRepo = uniqueRepo('serving-broken');
    const broken = await pushImage(d, brokenRepo, 'v1', { layers: 1 });
    const missing = broken.layers[0]!.digest;
    rmSync(blobs.blobPath(missing));
    const bad = revision(`${brokenRepo}@${broken.digest}`);
    await assert.rejects(instances.create(bad, instanceId(bad)), (err: unknown) => {
      assert.ok(err instanceof SkiffError, String(err));
      assert.equal(err.code, 'BLOB_UNKNOWN');
      assert.match(err.message, new RegExp(`image ${bad.imageDigest}.*${missing}`));
      return true;
    });
    assert.deepEqual(ours(), { mounts: 0, netns: 0, dirs: 0 });
  });
});
