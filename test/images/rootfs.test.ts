// Instance root filesystems: USER resolution against an image's passwd/group (plain files, no root), and
// overlay mounts of many layers with long cache paths (root: mount).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { SkiffError } from '../../src/core/errors.ts';
import { resolveImageUser } from '../../src/images/image-user.ts';
import { isMounted, mountRootfs, removeRootfs } from '../../src/images/rootfs.ts';
import { isCI, isRoot } from '../helpers/tools.ts';

function tempDir(t: { after: (fn: () => void) => void }, prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('image USER resolves like runc: names, numbers, groups, supplementary groups', async (t) => {
  const root = tempDir(t, 'skiff-user-');
  mkdirSync(path.join(root, 'etc'));
  writeFileSync(path.join(root, 'etc/passwd'), '# comment\nroot:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nweb:x:33:33:www:/var/www:/bin/false\n');
  writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\napp:x:1000:\nstaff:x:50:web,app\nlog:x:4:app\n');
  const u = (user: string) => resolveImageUser(root, user);
  assert.deepEqual(await u(''), { uid: 0, gid: 0, additionalGids: [], home: '/root' });
  assert.deepEqual(await u('app'), { uid: 1000, gid: 1000, additionalGids: [50, 4], home: '/home/app' });
  assert.deepEqual(await u('33'), { uid: 33, gid: 33, additionalGids: [50], home: '/var/www' });
  assert.deepEqual(await u('app:staff'), { uid: 1000, gid: 50, additionalGids: [], home: '/home/app' });
  assert.deepEqual(await u('web:7'), { uid: 33, gid: 7, additionalGids: [], home: '/var/www' });
  assert.deepEqual(await u('4242'), { uid: 4242, gid: 0, additionalGids: [], home: '/' });
  assert.deepEqual(await u('4242:4343'), { uid: 4242, gid: 4343, additionalGids: [], home: '/' });
  for (const bad of ['nobody', 'app:nogroup', 'app:', ':1', 'a:b:c', '99999999999']) {
    await assert.rejects(u(bad), (err: unknown) => err instanceof SkiffError && err.code === 'IMAGE_INVALID', bad);
  }
});

test('image USER never reads through a symlink planted in the image', async (t) => {
  const root = tempDir(t, 'skiff-user-');
  const outside = tempDir(t, 'skiff-outside-');
  writeFileSync(path.join(outside, 'passwd'), 'evil:x:0:0::/:/bin/sh\n');
  mkdirSync(path.join(root, 'etc'));
  symlinkSync(path.join(outside, 'passwd'), path.join(root, 'etc/passwd'));
  await assert.rejects(resolveImageUser(root, 'evil'), /no user named "evil"/);
  // a symlinked /etc directory is refused the same way
  const root2 = tempDir(t, 'skiff-user-');
  mkdirSync(path.join(outside, 'etc'));
  writeFileSync(path.join(outside, 'etc/passwd'), 'evil:x:0:0::/:/bin/sh\n');
  symlinkSync(path.join(outside, 'etc'), path.join(root2, 'etc'));
  await assert.rejects(resolveImageUser(root2, 'evil'), /no user named "evil"/);
  assert.deepEqual(await resolveImageUser(root2, '5'), { uid: 5, gid: 0, additionalGids: [], home: '/' });
});

const skipMount = !isRoot && !isCI ? 'overlay mounts need root' : undefined;

test('a rootfs of 300 layers with long cache paths mounts (options stay under a page) and is removed idempotently', { skip: skipMount }, async (t) => {
  const base = tempDir(t, 'skiff-rootfs-');
  // ~150-byte layer paths: 300 absolute lowerdirs would need ~45 KiB of mount options
  const cache = path.join(base, 'c'.repeat(60), 'sha256');
  const layers = Array.from({ length: 300 }, (_, i) => {
    const dir = path.join(cache, i.toString(16).padStart(64, '0'), 'root');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `only-${i}`), '');
    writeFileSync(path.join(dir, 'shared'), `layer ${i}`);
    return dir;
  });
  const dir = path.join(base, 'instances', 'i1');
  t.after(() => removeRootfs(dir));
  const rootfs = await mountRootfs(dir, layers, { writableBytes: 1024 ** 2 });
  assert.ok(await isMounted(rootfs));
  assert.equal(readFileSync(path.join(rootfs, 'shared'), 'utf8'), 'layer 299', 'the last manifest layer is on top');
  assert.ok(existsSync(path.join(rootfs, 'only-0')) && existsSync(path.join(rootfs, 'only-299')));
  assert.equal(statSync(rootfs).mode & 0o7777, 0o755, 'a non-root USER must be able to traverse /');
  writeFileSync(path.join(rootfs, 'written'), 'x');
  assert.equal(existsSync(path.join(layers[299]!, 'written')), false, 'writes land in the private upper dir');
  // the writable layer is its own filesystem of the given size: past it is ENOSPC, nothing reaches the host's disk
  assert.throws(() => writeFileSync(path.join(rootfs, 'big'), Buffer.alloc(2 * 1024 ** 2)), /ENOSPC/);
  assert.equal(existsSync(path.join(dir, 'upper')), false, 'no upper dir on the data dir’s disk');
  await assert.rejects(mountRootfs(dir, layers, { writableBytes: 1024 ** 2 }), (err: unknown) => err instanceof SkiffError && err.code === 'CONFLICT');

  await removeRootfs(dir);
  assert.equal(await isMounted(rootfs), false);
  assert.equal(existsSync(dir), false);
  await removeRootfs(dir);
  assert.ok(existsSync(path.join(layers[0]!, 'only-0')), 'the layer cache is untouched');
});
