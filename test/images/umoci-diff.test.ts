// Differential test against the reference: an image built by umoci (layers with modes, owners,
// setuid, symlinks, hardlinks, a whiteout and an opaque directory) is unpacked by Skiff's cache and
// mounted as overlayfs, and by `umoci unpack`; the two trees must match entry for entry (type, mode,
// owner, size, mtime, link target, content hash).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, createReadStream, linkSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LayerCache } from '../../src/images/layer-cache.ts';
import { removeTree, snapshot } from './fixtures.ts';

const isRoot = process.getuid?.() === 0;
const skip = !isRoot && process.env.CI !== 'true' ? 'umoci unpack and overlay mounts need root' : undefined;

function umoci(...args: string[]): void {
  const r = spawnSync('umoci', args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`umoci ${args.join(' ')} failed (apt-get install umoci): ${r.error?.message ?? r.stderr}`);
}

function tree(dir: string, files: Record<string, string>): void {
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), body);
  }
}

test('an umoci-built image unpacks and mounts to the same tree umoci unpack produces', { skip }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-umoci-diff-'));
  t.after(() => removeTree(dir));
  const layout = path.join(dir, 'layout');
  const image = `${layout}:diff`;
  umoci('init', '--layout', layout);
  umoci('new', '--image', image);

  const one = path.join(dir, 'src1');
  tree(one, { 'bin/tool': '#!/bin/sh\n', 'etc/conf': 'a=1\n', 'gone/file': 'bye', 'opq/old': 'old', 'data/blob': 'x'.repeat(70_000) });
  chmodSync(path.join(one, 'bin/tool'), 0o4755);
  chownSync(path.join(one, 'etc/conf'), 1234, 5678);
  chmodSync(path.join(one, 'etc'), 0o750);
  linkSync(path.join(one, 'bin/tool'), path.join(one, 'bin/tool2'));
  symlinkSync('/etc/conf', path.join(one, 'abs-link'));
  symlinkSync('../etc/conf', path.join(one, 'bin/rel-link'));
  utimesSync(path.join(one, 'data/blob'), new Date(1_500_000_000_000), new Date(1_500_000_000_000));
  umoci('insert', '--image', image, one, '/');
  umoci('insert', '--image', image, '--whiteout', '/gone/file');
  const two = path.join(dir, 'src2');
  tree(two, { new: 'n' });
  umoci('insert', '--image', image, '--opaque', two, '/opq');

  const bundle = path.join(dir, 'bundle');
  umoci('unpack', '--image', image, bundle);

  const index = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const blob = (d: string): string => path.join(layout, 'blobs', 'sha256', d.slice('sha256:'.length));
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as { layers: { digest: string }[] };
  const cache = new LayerCache({ dir: path.join(dir, 'cache'), blobs: { open: async (d) => createReadStream(blob(d)) } });
  await cache.init();
  const layers = await cache.ensureImage(manifest.layers.map((l) => l.digest));

  const mnt = path.join(dir, 'mnt');
  for (const p of ['mnt', 'upper', 'work']) mkdirSync(path.join(dir, p));
  const lower = layers.map((l) => l.path).reverse().join(':');
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${path.join(dir, 'upper')},workdir=${path.join(dir, 'work')}`, mnt]);
  try {
    // Directory sizes and mtimes are the filesystem's business (overlay vs ext4); everything else must match.
    const normalise = (snap: Map<string, string>): Map<string, string> =>
      new Map([...snap].map(([k, v]) => [k, v.startsWith('mode=4') ? v.replace(/ size=\d+ mtime=[\d.]+ nlink=\d+/, '') : v.replace(/ nlink=\d+/, '')]));
    const ours = normalise(snapshot(mnt));
    const theirs = normalise(snapshot(path.join(bundle, 'rootfs')));
    ours.delete('.');
    theirs.delete('.');
    assert.deepEqual(ours, theirs);
    assert.ok(theirs.has('opq/new') && !theirs.has('opq/old') && !theirs.has('gone/file'), 'the image exercises whiteout and opaque');
  } finally {
    execFileSync('umount', [mnt]);
  }
});
