// The layer cache on well-formed layers: plain/gzip/zstd give the same tree and diffID, whiteouts and
// opaque directories become real overlayfs markers (checked with stat, getfattr and an overlay mount),
// digests are verified, shared layers unpack once, and crash leftovers are swept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { SkiffError } from '../../src/core/errors.ts';
import { LayerCache } from '../../src/images/layer-cache.ts';
import { gzip, MemoryBlobs, removeTree, sha256, tarOf, xattrs, zstd, type TarEntry } from './fixtures.ts';

const isRoot = process.getuid?.() === 0;
const needsRoot = !isRoot && process.env.CI !== 'true' ? 'overlay whiteouts, xattrs and mounts need root' : undefined;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-layers-'));
  t.after(() => removeTree(dir));
  return dir;
}

const mtime = new Date(1_600_000_000_000);
const BASE: TarEntry[] = [
  { name: './', type: 'directory', mode: 0o755 },
  { name: 'bin/', type: 'directory', mode: 0o755, mtime },
  { name: 'bin/tool', body: '#!/bin/sh\necho hi\n', mode: 0o755, uid: 1000, gid: 1001, mtime },
  { name: 'bin/tool-link', type: 'link', linkname: 'bin/tool' },
  { name: 'etc/hostname', body: 'skiff\n', mode: 0o644 },
  { name: 'lib', type: 'symlink', linkname: '/usr/lib' },
  { name: 'rel', type: 'symlink', linkname: '../bin/tool' },
];

test('plain, gzip and zstd layers unpack to the same tree with the same diffID', async (t) => {
  const dir = tempDir(t);
  const tarball = await tarOf(BASE);
  const blobs = new MemoryBlobs();
  const digests = [blobs.add(tarball), blobs.add(gzip(tarball)), blobs.add(zstd(tarball))];
  const cache = new LayerCache({ dir, blobs });
  await cache.init();
  assert.equal(statSync(dir).mode & 0o777, 0o700, 'the cache is private to the daemon user');
  const layers = await cache.ensureImage(digests);
  assert.deepEqual(layers.map((l) => l.compression), ['none', 'gzip', 'zstd']);
  for (const layer of layers) {
    assert.equal(layer.diffId, sha256(tarball));
    assert.equal(layer.size, tarball.length);
    const root = layer.path;
    assert.equal(readFileSync(path.join(root, 'bin/tool'), 'utf8'), '#!/bin/sh\necho hi\n');
    const tool = statSync(path.join(root, 'bin/tool'));
    assert.equal(tool.mode & 0o7777, 0o755);
    assert.equal(tool.mtimeMs, mtime.getTime());
    if (isRoot) assert.deepEqual([tool.uid, tool.gid], [1000, 1001]);
    assert.equal(statSync(path.join(root, 'bin/tool-link')).ino, tool.ino, 'hardlink shares the inode');
    assert.equal(statSync(path.join(root, 'bin')).mtimeMs, mtime.getTime(), 'directory mtime applied after its children');
    assert.equal(statSync(path.join(root, 'etc')).mode & 0o7777, 0o755, 'implicit parent directory');
    assert.equal(readlinkSync(path.join(root, 'lib')), '/usr/lib', 'absolute symlink targets are data');
    assert.equal(readlinkSync(path.join(root, 'rel')), '../bin/tool');
    assert.deepEqual(readdirSync(path.dirname(root)).sort(), ['layer.json', 'root'], 'no staging leftovers');
  }
  const again = await cache.get(digests[1]!);
  assert.equal(again?.diffId, sha256(tarball), 'metadata survives in layer.json');
});

test('whiteouts become 0:0 char devices and opaque dirs get trusted.overlay.opaque; overlayfs honours both', { skip: needsRoot }, async (t) => {
  const dir = tempDir(t);
  const blobs = new MemoryBlobs();
  const lower = blobs.add(gzip(await tarOf([
    { name: 'gone', body: 'x' },
    { name: 'keep', body: 'k' },
    { name: 'd/old', body: 'o' },
  ])));
  const upper = blobs.add(gzip(await tarOf([
    { name: '.wh.gone', body: '' },
    { name: 'd/.wh..wh..opq', body: '' },
    { name: 'd/new', body: 'n' },
    { name: 'sub/.wh.also', body: '' },
  ])));
  const cache = new LayerCache({ dir, blobs });
  await cache.init();
  const [l, u] = await cache.ensureImage([lower, upper]);
  const wh = lstatSync(path.join(u!.path, 'gone'));
  assert.ok(wh.isCharacterDevice());
  assert.equal(wh.rdev, 0);
  assert.ok(lstatSync(path.join(u!.path, 'sub/also')).isCharacterDevice());
  assert.ok(!existsSync(path.join(u!.path, '.wh.gone')));
  assert.ok(!existsSync(path.join(path.dirname(u!.path), 'whiteout')), 'the shared device is not left beside the layer');
  assert.match(xattrs(path.join(u!.path, 'd')), /^trusted\.overlay\.opaque="y"$/m);
  assert.doesNotMatch(xattrs(path.join(u!.path, 'sub')), /opaque/);

  const mnt = path.join(dir, 'mnt');
  const upperDir = path.join(dir, 'upper');
  const work = path.join(dir, 'work');
  for (const p of [mnt, upperDir, work]) mkdirSync(p);
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${u!.path}:${l!.path},upperdir=${upperDir},workdir=${work}`, mnt]);
  try {
    // after-hooks run in registration order, so the unmount cannot be one: the temp dir's goes first
    assert.deepEqual(readdirSync(mnt).sort(), ['d', 'keep', 'sub']);
    assert.deepEqual(readdirSync(path.join(mnt, 'd')), ['new']);
  } finally {
    execFileSync('umount', [mnt]);
  }
});

test('a digest mismatch is rejected and nothing is published', async (t) => {
  const dir = tempDir(t);
  const blobs = new MemoryBlobs();
  const wrong = sha256('something else');
  blobs.add(await tarOf([{ name: 'a', body: 'a' }]), wrong);
  const cache = new LayerCache({ dir, blobs });
  await cache.init();
  await assert.rejects(cache.ensureLayer(wrong), (err: unknown) => err instanceof SkiffError && err.code === 'DIGEST_INVALID' && /content digest sha256:/.test(err.message));
  assert.deepEqual(readdirSync(dir), []);
});

test('two images sharing a base layer unpack it once; concurrent calls coalesce', async (t) => {
  const dir = tempDir(t);
  const blobs = new MemoryBlobs();
  const base = blobs.add(gzip(await tarOf([{ name: 'base', body: 'b' }])));
  const a = blobs.add(gzip(await tarOf([{ name: 'a', body: 'a' }])));
  const b = blobs.add(gzip(await tarOf([{ name: 'b', body: 'b' }])));
  const cache = new LayerCache({ dir, blobs, concurrency: 3 });
  await cache.init();
  const [imgA, imgB] = await Promise.all([cache.ensureImage([base, a]), cache.ensureImage([base, b])]);
  assert.equal(imgA[0]!.path, imgB[0]!.path);
  await cache.ensureImage([base, a, b]);
  assert.deepEqual(Object.fromEntries(blobs.opens), { [base]: 1, [a]: 1, [b]: 1 });
});

test('init() sweeps unpacks a crash left behind', async (t) => {
  const dir = tempDir(t);
  mkdirSync(path.join(dir, '.tmp-deadbeef', 'root'), { recursive: true });
  const cache = new LayerCache({ dir, blobs: new MemoryBlobs() });
  await cache.init();
  assert.deepEqual(readdirSync(dir), []);
});

test('a zstd layer without the zstd tool fails naming the Debian package', async (t) => {
  const dir = tempDir(t);
  const blobs = new MemoryBlobs();
  const digest = blobs.add(zstd(await tarOf([{ name: 'a', body: 'a' }])));
  const cache = new LayerCache({ dir, blobs });
  await cache.init();
  const saved = process.env.PATH;
  process.env.PATH = path.join(dir, 'no-tools-here');
  try {
    await assert.rejects(cache.ensureLayer(digest), (err: unknown) => err instanceof SkiffError && err.code === 'PREFLIGHT_FAILED' && /apt-get install zstd/.test(err.message));
  } finally {
    process.env.PATH = saved;
  }
  assert.deepEqual(readdirSync(dir), []);
});

test('a blob source failing mid-stream fails the unpack as a system error and publishes nothing', async (t) => {
  const dir = tempDir(t);
  const data = gzip(await tarOf([{ name: 'big', body: Buffer.alloc(256 * 1024, 3) }]));
  const digest = sha256(data);
  const failing = {
    async open(): Promise<Readable> {
      return Readable.from((async function* () {
        yield data.subarray(0, 1000);
        throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', syscall: 'read' });
      })());
    },
  };
  const cache = new LayerCache({ dir, blobs: failing });
  await cache.init();
  await assert.rejects(cache.ensureLayer(digest), (err: unknown) => err instanceof SkiffError && err.code === 'INTERNAL' && /EIO/.test(String((err.cause as Error)?.message)));
  assert.deepEqual(readdirSync(dir), []);
});
