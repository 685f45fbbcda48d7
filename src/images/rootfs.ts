// images/rootfs: an instance's root filesystem — an overlayfs mount whose lower layers are the layer
// cache's immutable roots and whose upper/work dirs are private to the instance, so instances of one
// image share every unpacked byte yet never see each other's writes. Mounting needs root.
//
// <dir>/                   one per instance (the caller owns it and may keep its own files here)
//   l/<n> -> <layer root>  short symlinks, l/0 = top layer … l/<N-1> = base layer
//   empty/                 the only lower dir of an image without layers
//   rw/                    a tmpfs of the writable layer's size, holding
//     upper/  work/        the overlay upperdir and workdir: the instance's writes
//   rootfs/                the mount point, handed to the runtime
//
// Why a tmpfs for the writes: its size is a limit the kernel enforces (writing past it is ENOSPC inside
// the instance), nothing an instance writes reaches the host's disk under the store and the registry,
// and its pages are charged to the instance's memory cgroup — Cloud Run's in-memory filesystem. A
// per-instance disk filesystem (a loop device, or project quotas) would need mkfs per instance or an
// XFS data dir; a tmpfs is one mount.
//
// Why symlinks and relative paths: mount options must fit in one page (4 KiB), and a cache path per
// layer (~100 bytes) would cap an image at ~40 layers. `mount` runs with cwd = <dir>, so each lower
// dir costs "l/<n>:" (≤ 6 bytes) and the kernel's limit of 500 lower layers fits in ~3 KiB. The kernel
// resolves the symlinks at mount time; afterwards the mount no longer depends on them or on the cwd.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../core/errors.ts';
import { mountOverlay, mountTmpfs, unmount } from './overlay.ts';

/** overlayfs' own limit on lower layers (OVL_MAX_STACK). */
export const MAX_LAYERS = 500;

export function rootfsPath(dir: string): string {
  return path.join(dir, 'rootfs');
}

// /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo.
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Whether `target` (an absolute path) is a mount point in this process's mount namespace. */
export async function isMounted(target: string): Promise<boolean> {
  const info = await fsp.readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((line) => line.split(' ')[4] !== undefined && unescape(line.split(' ')[4]!) === target);
}

/**
 * Mounts the overlay of `layerRoots` (base layer first, as manifests list them) at <dir>/rootfs and
 * returns that path. `dir` must be absolute; it is created if missing.
 */
export async function mountRootfs(dir: string, layerRoots: readonly string[], opts: { writableBytes: number }): Promise<string> {
  if (!path.isAbsolute(dir)) throw new SkiffError('INTERNAL', `rootfs dir must be absolute: ${dir}`);
  if (layerRoots.length > MAX_LAYERS) throw new SkiffError('IMAGE_INVALID', `image has ${layerRoots.length} layers; overlayfs stacks at most ${MAX_LAYERS}`);
  const target = rootfsPath(dir);
  if (await isMounted(target)) throw new SkiffError('CONFLICT', `${target} is already mounted`);
  for (const d of ['l', 'rw', 'rootfs']) await fsp.mkdir(path.join(dir, d), { recursive: true, mode: 0o700 });
  const rw = path.join(dir, 'rw');
  if (!(await isMounted(rw))) await mountTmpfs(rw, `size=${Math.max(4096, Math.floor(opts.writableBytes))},mode=0700,nodev,nosuid`);
  for (const d of ['upper', 'work']) await fsp.mkdir(path.join(rw, d), { recursive: true, mode: 0o700 });
  // The merged root directory takes the upperdir's mode and owner (layer roots are 0700 in the cache):
  // 0755 root, or a non-root USER cannot even resolve /bin. The 0700 instance dir still keeps host users out.
  await fsp.chmod(path.join(rw, 'upper'), 0o755);
  const lowers: string[] = [];
  if (layerRoots.length === 0) {
    await fsp.mkdir(path.join(dir, 'empty'), { recursive: true, mode: 0o755 });
    lowers.push('empty');
  }
  // A layer listed twice is stacked once, at its topmost place: the lower copy could only show what the
  // upper copy already shows.
  for (const [n, root] of [...new Set([...layerRoots].reverse())].entries()) {
    const link = path.join('l', String(n));
    await fsp.rm(path.join(dir, link), { force: true });
    await fsp.symlink(root, path.join(dir, link));
    lowers.push(link);
  }
  await mountOverlay(dir, `lowerdir=${lowers.join(':')},upperdir=rw/upper,workdir=rw/work`, target);
  return target;
}

/**
 * Unmounts <dir>/rootfs if mounted and removes `dir` with everything in it. Idempotent: a missing dir
 * or an unmounted rootfs is fine. Never removes anything while the overlay is still mounted.
 */
export async function removeRootfs(dir: string): Promise<void> {
  // The overlay first, then the tmpfs under its upper dir.
  for (const target of [rootfsPath(dir), path.join(dir, 'rw')]) {
    if (!(await isMounted(target))) continue;
    // A concurrent remover may have unmounted it first; only a mount that is still there is an error.
    // "Target is busy" (a process of a killed container not yet reaped still holds it): detached
    // lazily — the kernel frees it with its last user, and the path no longer leads into it.
    await unmount(target).catch(async () => {
      if (await isMounted(target)) await unmount(target, { lazy: true }).catch(() => undefined);
    });
    if (await isMounted(target)) throw new SkiffError('INTERNAL', `${target} is still mounted (stacked mounts?); not removing ${dir}`);
  }
  await fsp.rm(dir, { recursive: true, force: true });
}
