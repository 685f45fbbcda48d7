// test/images/hostile-cases: the hostile-layer corpus, modelled on containerd's archive breakout tests
// and moby's untar tests. Each case is a crafted layer and its expected outcome: rejected with a code
// and message, or neutralised (unpacked, with an assertion about what the layer root holds).
// `evil` is an absolute path to a sentinel directory beside the cache (`x/dest-evil` next to
// `x/dest`), `outside` a sentinel file; escapes would land there and the snapshot would change.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import type { UnpackBudgets } from '../../src/images/budgets.ts';
import type { CachedLayer } from '../../src/images/layer-cache.ts';
import { gzip, tarOf, xattrs, zstd, type TarEntry } from './fixtures.ts';

export type Outcome =
  | { code: 'LAYER_INVALID' | 'LAYER_TOO_LARGE' | 'DIGEST_INVALID'; message: RegExp }
  | { check: (root: string, layer: CachedLayer) => void };

export interface HostileCase {
  name: string;
  entries?: TarEntry[];
  /** A raw blob for cases tar-stream's pack cannot express. */
  blob?: () => Promise<Buffer>;
  compress?: 'gzip' | 'zstd';
  budgets?: Partial<UnpackBudgets>;
  /** Creates an overlay whiteout (mknod needs root). */
  needsRoot?: boolean;
  expect: Outcome;
}

const f = (name: string, body: string | Buffer = 'pwned', extra: Partial<TarEntry> = {}): TarEntry => ({ name, body, ...extra });
const d = (name: string, extra: Partial<TarEntry> = {}): TarEntry => ({ name, type: 'directory', mode: 0o755, ...extra });
const sl = (name: string, linkname: string): TarEntry => ({ name, type: 'symlink', linkname });
const hl = (name: string, linkname: string): TarEntry => ({ name, type: 'link', linkname });
const invalid = (message: RegExp): Outcome => ({ code: 'LAYER_INVALID', message });
const tooLarge = (message: RegExp): Outcome => ({ code: 'LAYER_TOO_LARGE', message });
const check = (fn: (root: string, layer: CachedLayer) => void): Outcome => ({ check: fn });
const isRoot = process.getuid?.() === 0;

/** Rewrites a numeric field of the first tar header (base-256 when `raw` starts with 0x80/0xff) and fixes the checksum. */
function patchHeader(data: Buffer, offset: number, raw: Buffer): Buffer {
  const out = Buffer.from(data);
  raw.copy(out, offset);
  out.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += out[i]!;
  out.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return out;
}

export function hostileCases(evil: string, outside: string): HostileCase[] {
  return [
    // entry names
    { name: 'dot-dot name', entries: [f('../pwned')], expect: invalid(/contains "\.\."/) },
    { name: 'dot-dot in the middle', entries: [f('a/../../pwned')], expect: invalid(/contains "\.\."/) },
    { name: 'sibling-prefix escape ../../../dest-evil', entries: [f('../../../../dest-evil/pwned')], expect: invalid(/contains "\.\."/) },
    { name: 'dot-dot directory', entries: [d('..')], expect: invalid(/contains "\.\."/) },
    { name: 'absolute name', entries: [f(path.join(evil, 'pwned'))], expect: invalid(/absolute path/) },
    { name: 'absolute name with double slash', entries: [f('//etc/pwned')], expect: invalid(/absolute path/) },
    {
      name: 'a bare / root entry (umoci writes one) is the layer root',
      entries: [d('/', { mode: 0o700 }), f('a', 'a')],
      expect: check((root) => assert.equal(readFileSync(path.join(root, 'a'), 'utf8'), 'a')),
    },
    { name: 'NUL byte in a pax path', entries: [f('ok', 'x', { pax: { path: 'ok\0../../pwned' } })], expect: invalid(/NUL byte/) },
    { name: 'component longer than NAME_MAX', entries: [f('a'.repeat(300))], expect: invalid(/longer than 255/) },
    { name: 'path over the length budget', entries: [f(`${'d/'.repeat(100)}f`)], budgets: { maxPathLength: 100 }, expect: tooLarge(/path longer than 100/) },
    // writes through symlinks made earlier in the same layer
    { name: 'file through an absolute symlink', entries: [sl('l', evil), f('l/pwned')], expect: invalid(/through a symlink/) },
    { name: 'file through a relative ../ symlink', entries: [sl('l', '../../../..'), f('l/dest-evil/pwned')], expect: invalid(/through a symlink/) },
    { name: 'file through two symlink hops', entries: [sl('a', 'b'), sl('b', evil), f('a/pwned')], expect: invalid(/through a symlink/) },
    { name: 'two hops via a nested ../.. link', entries: [d('d'), sl('d/up', '../../../../..'), sl('hop', 'd/up'), f('hop/x/dest-evil/pwned')], expect: invalid(/through a symlink/) },
    { name: 'self-referencing dir symlink', entries: [sl('x', '.'), f('x/x/x/pwned')], expect: invalid(/through a symlink/) },
    { name: 'directory through a symlink', entries: [sl('l', evil), d('l/sub')], expect: invalid(/through a symlink/) },
    { name: 'symlink through a symlink', entries: [sl('l', evil), sl('l/inner', outside)], expect: invalid(/through a symlink/) },
    { name: 'hardlink created through a symlink', entries: [f('f'), sl('l', evil), hl('l/h', 'f')], expect: invalid(/through a symlink/) },
    { name: 'whiteout through a symlink', entries: [sl('l', evil), f('l/.wh.secret', '')], expect: invalid(/through a symlink/) },
    { name: 'opaque marker through a symlink', entries: [sl('l', evil), f('l/.wh..wh..opq', '')], expect: invalid(/through a symlink/) },
    { name: 'file through a file', entries: [f('plain'), f('plain/pwned')], expect: invalid(/through a file/) },
    {
      name: 'file replacing a symlink does not write through it',
      entries: [sl('evil', outside), f('evil', 'replaced')],
      expect: check((root) => {
        assert.ok(lstatSync(path.join(root, 'evil')).isFile());
        assert.equal(readFileSync(path.join(root, 'evil'), 'utf8'), 'replaced');
      }),
    },
    {
      name: 'directory replacing a symlink is a real directory',
      entries: [sl('evil', evil), d('evil'), f('evil/inside')],
      expect: check((root) => assert.ok(lstatSync(path.join(root, 'evil')).isDirectory() && existsSync(path.join(root, 'evil/inside')))),
    },
    {
      name: 'symlink loop is stored as data',
      entries: [sl('a', 'b'), sl('b', 'a')],
      expect: check((root) => assert.deepEqual([readlinkSync(path.join(root, 'a')), readlinkSync(path.join(root, 'b'))], ['b', 'a'])),
    },
    {
      name: 'absolute and climbing symlink targets are kept verbatim',
      entries: [sl('abs', outside), sl('up', '../../../../../../etc/shadow')],
      expect: check((root) => {
        assert.equal(readlinkSync(path.join(root, 'abs')), outside);
        assert.equal(readlinkSync(path.join(root, 'up')), '../../../../../../etc/shadow');
      }),
    },
    { name: 'symlink with an empty target', entries: [sl('empty', '')], expect: invalid(/empty or NUL/) },
    // hardlinks
    { name: 'hardlink to ../ outside', entries: [hl('h', '../../../../dest-evil/secret')], expect: invalid(/hardlink target .* contains "\.\."/) },
    { name: 'hardlink to an absolute path', entries: [hl('h', path.join(evil, 'secret'))], expect: invalid(/hardlink target .* absolute/) },
    { name: 'hardlink through a symlink', entries: [sl('l', evil), hl('h', 'l/secret')], expect: invalid(/not a regular file earlier/) },
    { name: 'hardlink to a symlink', entries: [sl('s', outside), hl('h', 's')], expect: invalid(/not a regular file earlier/) },
    { name: 'hardlink to a missing file', entries: [hl('h', 'missing')], expect: invalid(/not a regular file earlier/) },
    { name: 'hardlink to a directory', entries: [d('dir'), hl('h', 'dir')], expect: invalid(/not a regular file earlier/) },
    { name: 'hardlink to itself', entries: [f('h'), hl('h', 'h')], expect: invalid(/points to itself/) },
    {
      name: 'file over a hardlink name does not write through the shared inode',
      entries: [f('orig', 'original'), hl('h', 'orig'), f('h', 'new')],
      expect: check((root) => {
        assert.equal(readFileSync(path.join(root, 'orig'), 'utf8'), 'original');
        assert.equal(readFileSync(path.join(root, 'h'), 'utf8'), 'new');
      }),
    },
    // device nodes and fifos: dropped
    ...(['character-device', 'block-device', 'fifo'] as const).map((type) => ({
      name: `${type} is dropped`,
      entries: [d('dev'), { name: 'dev/node', type, devmajor: 8, devminor: 0 }],
      expect: check((root, layer) => {
        assert.equal(existsSync(path.join(root, 'dev/node')), false);
        assert.deepEqual(layer.dropped, ['dev/node']);
      }),
    })),
    {
      name: 'a 0:0 char device in the tar is dropped, not taken as a whiteout',
      entries: [{ name: 'fake', type: 'character-device', devmajor: 0, devminor: 0 }],
      expect: check((root, layer) => assert.ok(!existsSync(path.join(root, 'fake')) && layer.dropped.includes('fake'))),
    },
    // whiteout abuse
    { name: 'opaque marker as a directory', entries: [d('d'), d('d/.wh..wh..opq')], expect: invalid(/empty regular file/) },
    { name: 'opaque marker with content', entries: [f('.wh..wh..opq', 'data')], expect: invalid(/empty regular file/) },
    { name: 'opaque marker used as a parent', entries: [f('.wh..wh..opq/child')], expect: invalid(/whiteout name as a directory/) },
    { name: 'whiteout as a symlink', entries: [sl('.wh.target', outside)], expect: invalid(/empty regular file/) },
    { name: 'whiteout of ..', entries: [f('d/.wh...', '')], expect: invalid(/names no file/) },
    { name: 'whiteout of .', entries: [f('.wh..', '')], expect: invalid(/names no file/) },
    { name: 'bare .wh. prefix', entries: [f('.wh.', '')], expect: invalid(/names no file/) },
    { name: 'whiteout of a file this layer created', entries: [f('x'), f('.wh.x', '')], expect: invalid(/both whited out and created/) },
    { name: 'file created after its whiteout', entries: [f('.wh.x', ''), f('x')], needsRoot: true, expect: invalid(/both whited out and created/) },
    { name: 'entry under a whited-out path', entries: [f('.wh.x', ''), f('x/y')], needsRoot: true, expect: invalid(/through a whiteout/) },
    {
      name: 'aufs metadata is dropped',
      entries: [f('.wh..wh.aufs', '')],
      expect: check((root, layer) => assert.ok(!existsSync(path.join(root, '.wh..wh.aufs')) && layer.dropped.includes('.wh..wh.aufs'))),
    },
    {
      name: 'tar xattrs (trusted.overlay.*) are not applied',
      entries: [d('d', { pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y', 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } })],
      expect: check((root) => {
        assert.doesNotMatch(xattrs(path.join(root, 'd')), /overlay/);
      }),
    },
    // duplicate entries
    { name: 'file replacing a directory', entries: [d('d'), f('d/child'), f('d')], expect: invalid(/replace a directory/) },
    { name: 'symlink replacing a directory', entries: [d('d'), sl('d', evil), f('d/pwned')], expect: invalid(/replace a directory/) },
    {
      name: 'duplicate file: the last one wins',
      entries: [f('dup', 'first'), f('dup', 'second')],
      expect: check((root) => assert.equal(readFileSync(path.join(root, 'dup'), 'utf8'), 'second')),
    },
    {
      name: 'duplicate directory: the last metadata wins',
      entries: [d('d', { mode: 0o700 }), f('d/f'), d('d', { mode: 0o751 })],
      expect: check((root) => assert.equal(statSync(path.join(root, 'd')).mode & 0o7777, 0o751)),
    },
    // ownership and modes
    { name: 'uid 2^32-1 (chown "no change") via pax', entries: [f('f', 'x', { pax: { uid: '4294967295' } })], expect: invalid(/uid 4294967295 is outside/) },
    { name: 'gid 2^53 via pax', entries: [f('f', 'x', { pax: { gid: '9007199254740993' } })], expect: invalid(/gid 9007199254740993 is outside/) },
    { name: 'non-numeric pax uid', entries: [f('f', 'x', { pax: { uid: '-1' } })], expect: invalid(/uid -1 is outside/) },
    {
      name: 'negative base-256 uid',
      blob: async () => patchHeader(await tarOf([f('f', 'x')]), 108, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe])),
      expect: invalid(/uid -1 is outside/),
    },
    { name: 'uid above a configured maxId', entries: [f('f', 'x', { uid: 70000 })], budgets: { maxId: 65535 }, expect: invalid(/uid 70000 is outside 0\.\.65535/) },
    {
      name: 'large but valid ids and setuid/setgid bits are kept',
      entries: [f('suid', '#!', { mode: 0o6755, uid: 200000, gid: 200001 }), d('ro', { mode: 0o555 }), f('ro/inside', 'x', { mode: 0o444 })],
      expect: check((root) => {
        const st = statSync(path.join(root, 'suid'));
        assert.equal(st.mode & 0o7777, 0o6755);
        if (isRoot) assert.deepEqual([st.uid, st.gid], [200000, 200001]);
        assert.equal(statSync(path.join(root, 'ro')).mode & 0o7777, 0o555);
        assert.equal(readFileSync(path.join(root, 'ro/inside'), 'utf8'), 'x');
      }),
    },
    // budgets and malformed streams
    { name: 'gzip bomb over the byte budget', blob: async () => gzip(await tarOf([f('zeros', Buffer.alloc(32 << 20))])), budgets: { maxBytes: 1 << 20 }, expect: tooLarge(/uncompressed bytes/) },
    { name: 'zstd bomb over the byte budget', blob: async () => zstd(await tarOf([f('zeros', Buffer.alloc(32 << 20))])), budgets: { maxBytes: 1 << 20 }, expect: tooLarge(/uncompressed bytes/) },
    { name: 'too many entries', entries: Array.from({ length: 30 }, (_, i) => f(`f${i}`, '')), budgets: { maxEntries: 20 }, expect: tooLarge(/more than 20 entries/) },
    { name: 'not a tar at all', blob: async () => Buffer.from('this is not a tar archive'.repeat(40)), expect: invalid(/cannot read the layer/) },
    { name: 'truncated tar', blob: async () => (await tarOf([f('big', Buffer.alloc(8192, 1))])).subarray(0, 3000), expect: invalid(/cannot read the layer/) },
    { name: 'file data cut inside its last block', blob: async () => (await tarOf([f('f', Buffer.alloc(1000, 1))])).subarray(0, 512 + 900), expect: invalid(/truncated: it ends at byte 1412/) },
    {
      name: 'no padding or end-of-archive blocks after complete data (umoci 0.4 insert) is accepted',
      blob: async () => (await tarOf([f('a', 'aaa'), f('b', Buffer.alloc(1000, 2))])).subarray(0, 1024 + 512 + 1000),
      expect: check((root, layer) => {
        assert.deepEqual(readFileSync(path.join(root, 'b')), Buffer.alloc(1000, 2));
        assert.equal(layer.size, 2536, 'diffID and size cover the real bytes only');
      }),
    },
    { name: 'truncated gzip', blob: async () => gzip(await tarOf([f('big', Buffer.alloc(8192, 1))])).subarray(0, 60), expect: invalid(/cannot read the layer/) },
    { name: 'corrupt zstd', blob: async () => Buffer.concat([zstd(await tarOf([f('a')])).subarray(0, 20), Buffer.alloc(64, 7)]), expect: invalid(/zstd could not decompress/) },
    { name: 'garbage after the end of the archive', blob: async () => Buffer.concat([await tarOf([f('a')]), Buffer.alloc(512, 0x41)]), expect: invalid(/cannot read the layer/) },
  ];
}
