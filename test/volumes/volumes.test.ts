// test/volumes/volumes: persistent volumes end to end on a real daemon (runc, loop-mounted ext4): the
// kernel enforces the size (ENOSPC inside the instance, the host untouched); data survives a redeploy,
// a scale to zero and a daemon restart after which the volume had to be mounted again (as after a
// reboot); rm of a volume in use is refused; read-write on max > 1 needs --shared; tenants see only
// their own; export → import round trip; hostile archives refused, nothing written outside the volume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { FAST, gatewayGet, runningCount, until } from '../helpers/serving.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { tarOf } from '../images/fixtures.ts';
import { SkiffClient } from '../../src/api/client.ts';
import { LoopVolumes } from '../../src/runtime/volumes/loop-volumes.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, loop devices, mount)' : false;

const clientOf = (d: TestDaemon, token = d.token) => new SkiffClient({ baseUrl: d.url, token });

async function entriesOf(stream: AsyncIterable<Buffer>): Promise<Map<string, string>> {
  const extract = tar.extract();
  const out = new Map<string, string>();
  const feeding = pipeline(Readable.from(stream), extract);
  for await (const e of extract) {
    const chunks: Buffer[] = [];
    for await (const c of e as unknown as AsyncIterable<Buffer>) chunks.push(c);
    const name = e.header.name.replace(/^\.\//, '').replace(/\/$/, '');
    if (name && name !== '.') out.set(name, e.header.type === 'symlink' ? `-> ${e.header.linkname}` : e.header.type === 'directory' ? '<dir>' : Buffer.concat(chunks).toString());
  }
  await feeding;
  return out;
}

const rejectsWith = (code: string, message?: RegExp) => (err: Error & { code?: string }) => {
  assert.equal(err.code, code, err.message);
  if (message) assert.match(err.message, message);
  return true;
};

test('volumes: the size is the kernel\'s (ENOSPC inside, host untouched); data survives a redeploy, scale to zero and a restart that remounts it; rm in use is refused', { skip }, async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-test-volumes-'));
  // both daemons' cleanups (instances, network) run before the data dir goes, newest daemon first
  const closers: Array<() => unknown> = [];
  t.after(async () => {
    for (const close of closers.reverse()) await close();
    await new LoopVolumes(path.join(dataDir, 'volumes')).unmountAll();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const scope = { after: (fn: () => unknown) => void closers.push(fn) };
  const d1 = await startTestDaemon(scope, { dataDir });
  const client = clientOf(d1);
  const image = await pushHttpdImage(d1, uniqueRepo('vol'), 'v1');
  const created = await client.createVolume({ name: 'data', size: '16Mi' });
  assert.equal(created.sizeBytes, 16 * 1024 ** 2);
  assert.deepEqual(created.usedBy, []);

  await client.deploy({ name: 'app', image: image.reference, volumes: [{ volume: 'data', path: '/var/lib/app' }], scaling: { min: 0, max: 1, ...FAST } });
  const call = async (p: string) => (await gatewayGet(d1.gatewayUrl, 'app', p)).body.trim();
  assert.equal(await call('/cgi-bin/put?/var/lib/app/note=kept'), 'ok', 'the image user (uid 1000) writes to a new volume');
  assert.equal(await call('/cgi-bin/get?/var/lib/app/note'), 'kept');

  // quota: 64 MiB into a 16 MiB volume fails inside the instance; the host's disk barely moved
  const image0 = statSync(path.join(dataDir, 'volumes/data/disk.img'));
  assert.match(await call('/cgi-bin/fill?/var/lib/app/big=64'), /^failed: .*No space left on device/);
  const image1 = statSync(path.join(dataDir, 'volumes/data/disk.img'));
  assert.equal(image1.size, 16 * 1024 ** 2, 'the image never grows past its size');
  assert.ok(image1.blocks * 512 <= 17 * 1024 ** 2, `host blocks: ${image1.blocks * 512} (before ${image0.blocks * 512})`);
  assert.equal(await call('/cgi-bin/get?/var/lib/app/note'), 'kept', 'the instance still serves');

  // a redeploy: the new revision sees the same data
  await client.update('app', { env: { REV: '2' } });
  await until('revision 2 serves', async () => (await gatewayGet(d1.gatewayUrl, 'app', '/cgi-bin/env')).body.includes('REV=2'));
  assert.equal(await call('/cgi-bin/get?/var/lib/app/note'), 'kept');

  // scale to zero and back
  await until('app scales to zero', async () => (await runningCount(client, 'app')) === 0, 30_000);
  assert.equal(await call('/cgi-bin/get?/var/lib/app/note'), 'kept');

  // rm while in use: refused, naming the service
  await assert.rejects(client.deleteVolume('data'), rejectsWith('CONFLICT', /in use by service app/));
  assert.deepEqual((await client.getVolume('data')).usedBy, ['app']);

  // a restart after the volume's mount (and its loop device) went, as after a reboot
  await d1.daemon.stop();
  await d1.daemon.stopInstances();
  const mnt = path.join(dataDir, 'volumes/data/mnt');
  execFileSync('umount', [mnt]);
  assert.ok(!existsSync(path.join(mnt, 'data/note')));
  const d2 = await startTestDaemon(scope, { dataDir, settings: (s) => (s.runtime = d1.settings.runtime) });
  assert.equal((await gatewayGet(d2.gatewayUrl, 'app', '/cgi-bin/get?/var/lib/app/note')).body.trim(), 'kept');
  assert.equal((await clientOf(d2).getVolume('data')).mounted, true);

  // once the service is gone, rm works and leaves nothing: no mount, no loop device, no image
  await clientOf(d2).deleteService('app');
  await clientOf(d2).deleteVolume('data');
  assert.ok(!existsSync(path.join(dataDir, 'volumes/data')));
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(mnt));
  // the loop device goes with the last mount of it: the deleted service's instances' own, once they end
  await until('the loop device is released', () => !execFileSync('losetup', ['-a'], { encoding: 'utf8' }).includes(dataDir), 30_000);
});

test('volumes: deploy rules — unknown volume (nothing stored), read-write on max > 1 needs --shared, scale keeps the rule; tenants see only their own', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const client = clientOf(d);
  const image = await pushHttpdImage(d, uniqueRepo('vol-rules'), 'v1');
  await client.createVolume({ name: 'solo', size: '8Mi' });
  await client.createVolume({ name: 'common', size: '8Mi', shared: true });
  await assert.rejects(client.createVolume({ name: 'solo' }), rejectsWith('CONFLICT'));
  await assert.rejects(client.createVolume({ name: 'tiny', size: '1Mi' }), rejectsWith('BAD_REQUEST', /size/));

  await assert.rejects(client.deploy({ name: 'web', image: image.reference, volumes: [{ volume: 'nope', path: '/data' }] }), rejectsWith('NOT_FOUND', /volumes\[0\]\.volume: no volume named nope/));
  await assert.rejects(client.service('web'), rejectsWith('NOT_FOUND'), 'nothing stored');

  await assert.rejects(client.deploy({ name: 'web', image: image.reference, volumes: [{ volume: 'solo', path: '/data' }], scaling: { max: 3 } }), rejectsWith('BAD_REQUEST', /--shared/));
  await client.deploy({ name: 'web', image: image.reference, volumes: [{ volume: 'solo', path: '/data', readOnly: true }, { volume: 'common', path: '/shared' }], scaling: { max: 3 } });
  await client.deploy({ name: 'one', image: image.reference, volumes: [{ volume: 'solo', path: '/data' }], scaling: { max: 1 } });
  await assert.rejects(client.scale('one', { max: 2 }), rejectsWith('BAD_REQUEST', /--shared/));
  await assert.rejects(client.deploy({ name: 'two', image: image.reference, volumes: [{ volume: 'solo', path: '/proc/x' }] }), rejectsWith('BAD_REQUEST'));
  assert.deepEqual((await client.getVolume('solo')).usedBy, ['one', 'web']);
  await assert.rejects(client.deleteVolume('solo'), rejectsWith('CONFLICT', /services one, web/));

  // another tenant: sees none of them, cannot mount them, cannot remove or export them
  await client.createProject('other');
  const other = clientOf(d, (await client.createToken('other', 'deploy', 'other')).secret);
  assert.deepEqual((await other.listVolumes()).volumes, []);
  await assert.rejects(other.getVolume('solo'), rejectsWith('NOT_FOUND'));
  await assert.rejects(other.deleteVolume('common'), rejectsWith('NOT_FOUND'));
  await assert.rejects(other.exportVolume('common'), rejectsWith('NOT_FOUND'));
  await assert.rejects(other.deploy({ name: 'thief', image: image.reference, volumes: [{ volume: 'common', path: '/data' }] }), rejectsWith('NOT_FOUND', /no volume named common/));
  await other.createVolume({ name: 'mine', size: '8Mi' });
  assert.deepEqual((await other.listVolumes()).volumes.map((v) => v.name), ['mine']);
  assert.deepEqual((await client.listVolumes()).volumes.map((v) => v.name), ['common', 'solo']);
  // a pull token may not read volumes at all
  const pull = clientOf(d, (await client.createToken('reader', 'pull')).secret);
  await assert.rejects(pull.listVolumes(), rejectsWith('DENIED', /volumes:read/));
});

test('volumes: export → import round trip; hostile archives refused; nothing written outside the volume; too large is VOLUME_FULL', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const client = clientOf(d);
  await client.createVolume({ name: 'src', size: '16Mi' });
  await client.createVolume({ name: 'copy', size: '16Mi' });
  const archive = await tarOf([
    { name: 'conf/', type: 'directory', mode: 0o755 },
    { name: 'conf/app.yaml', mode: 0o644, body: 'port: 8080\n' },
    { name: 'notes.txt', mode: 0o600, body: 'hello volume\n' },
    { name: 'latest', type: 'symlink', mode: 0o777, linkname: 'conf/app.yaml' },
    { name: 'null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3 },
  ]);
  const imported = await client.importVolume('src', Readable.from([archive]));
  assert.equal(imported.entries, 5);
  assert.deepEqual(imported.dropped, ['null'], 'a device node is never made');
  const exported = await entriesOf(await client.exportVolume('src'));
  assert.deepEqual(Object.fromEntries(exported), { conf: '<dir>', 'conf/app.yaml': 'port: 8080\n', 'notes.txt': 'hello volume\n', latest: '-> conf/app.yaml' });

  // round trip: what src exports, imported into copy, exports the same
  const chunks: Buffer[] = [];
  for await (const c of await client.exportVolume('src')) chunks.push(c);
  await client.importVolume('copy', Readable.from([Buffer.concat(chunks)]));
  assert.deepEqual(await entriesOf(await client.exportVolume('copy')), exported);
  // an import merges: new files join, same names are replaced
  await client.importVolume('copy', Readable.from([await tarOf([{ name: 'notes.txt', mode: 0o644, body: 'replaced\n' }, { name: 'conf/extra', mode: 0o644, body: 'x' }])]));
  const merged = await entriesOf(await client.exportVolume('copy'));
  assert.equal(merged.get('notes.txt'), 'replaced\n');
  assert.equal(merged.get('conf/extra'), 'x');
  assert.equal(merged.get('conf/app.yaml'), 'port: 8080\n');

  // hostile archives: each refused, and nothing lands outside the volume
  const marker = `skiff-vol-escape-${process.pid}`;
  const outside = path.join(os.tmpdir(), marker);
  t.after(() => rmSync(outside, { recursive: true, force: true }));
  const hostile: Array<[string, Parameters<typeof tarOf>[0]]> = [
    ['dot-dot', [{ name: `../../../../../../tmp/${marker}`, mode: 0o644, body: 'x' }]],
    ['absolute', [{ name: `/tmp/${marker}`, mode: 0o644, body: 'x' }]],
    ['through a symlink', [{ name: 'esc', type: 'symlink', mode: 0o777, linkname: '/tmp' }, { name: `esc/${marker}`, mode: 0o644, body: 'x' }]],
    ['whiteout', [{ name: '.wh.notes.txt', mode: 0o644, body: '' }]],
  ];
  for (const [what, entries] of hostile) {
    await assert.rejects(client.importVolume('copy', Readable.from([await tarOf(entries)])), rejectsWith('BAD_REQUEST', /malformed or hostile/), what);
    assert.ok(!existsSync(outside), `${what}: wrote outside the volume`);
  }
  // a symlink the volume already has (an instance could plant one) is replaced, never followed
  await client.importVolume('copy', Readable.from([await tarOf([{ name: 'esc', type: 'symlink', mode: 0o777, linkname: '/tmp' }])]));
  await client.importVolume('copy', Readable.from([await tarOf([{ name: `esc/${marker}`, mode: 0o644, body: 'inside' }])]));
  assert.ok(!existsSync(outside), 'an existing symlink was followed');
  assert.equal((await entriesOf(await client.exportVolume('copy'))).get(`esc/${marker}`), 'inside');
  const after = await entriesOf(await client.exportVolume('copy'));
  assert.equal(after.get('notes.txt'), 'replaced\n', 'refused imports changed nothing');
  assert.ok(![...after.keys()].some((k) => k.startsWith('.import-')), 'no staging area is left or exported');

  // larger than the volume: VOLUME_FULL, and nothing of it is kept
  const big = await tarOf([{ name: 'big.bin', mode: 0o644, body: Buffer.alloc(24 * 1024 ** 2, 1) }]);
  await assert.rejects(client.importVolume('copy', Readable.from([big])), rejectsWith('VOLUME_FULL', /copy is full/));
  assert.ok(!(await entriesOf(await client.exportVolume('copy'))).has('big.bin'));
  assert.ok(((await client.getVolume('copy')).usedBytes ?? 0) < 4 * 1024 ** 2, 'the staged part was removed');
});
