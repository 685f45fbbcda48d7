// images/overlay: the overlayfs-specific bits Node cannot do itself, each done with one process per
// layer rather than one per file: the whiteout device (`mknod`, then hardlinked for every whiteout,
// as overlayfs itself shares whiteouts), the opaque xattr (`setfattr --restore`, batch of all
// directories), and `sync -f` (syncfs) so a published layer survives a crash without an fsync per file;
// and the `mount -t overlay` / `umount` of an instance's root filesystem (rootfs.ts).
import { spawn } from 'node:child_process';
import { SkiffError } from '../core/errors.ts';

interface Tool {
  readonly cmd: string;
  readonly pkg: string;
}

const MKNOD: Tool = { cmd: 'mknod', pkg: 'coreutils' };
const SETFATTR: Tool = { cmd: 'setfattr', pkg: 'attr' };
const SYNC: Tool = { cmd: 'sync', pkg: 'coreutils' };
const MOUNT: Tool = { cmd: 'mount', pkg: 'mount' };
const UMOUNT: Tool = { cmd: 'umount', pkg: 'mount' };

function run(tool: Tool, args: string[], opts: { cwd?: string; input?: string } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool.cmd, args, { cwd: opts.cwd, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString();
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      const missing = err.code === 'ENOENT';
      reject(new SkiffError('PREFLIGHT_FAILED', missing ? `${tool.cmd} is not installed: apt-get install ${tool.pkg}` : `${tool.cmd}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code) => {
      if (code === 0) return resolve();
      reject(new SkiffError('PREFLIGHT_FAILED', `${tool.cmd} ${args.join(' ')} failed (${code}): ${stderr.trim()}`));
    });
    child.stdin.on('error', () => {}); // a dying child reports through its exit status
    child.stdin.end(opts.input ?? '');
  });
}

/** Creates the 0:0 character device that marks a whiteout. Needs CAP_MKNOD (root). */
export async function makeWhiteoutDevice(file: string): Promise<void> {
  try {
    await run(MKNOD, ['-m', '000', '--', file, 'c', '0', '0']);
  } catch (err) {
    const hint = process.getuid?.() === 0 ? '' : ' (overlay whiteouts need root: CAP_MKNOD)';
    throw new SkiffError('PREFLIGHT_FAILED', `cannot create an overlay whiteout${hint}: ${(err as Error).message}`, { cause: err });
  }
}

// setfattr's dump format unquotes `\ooo`; quoting every byte outside a safe set keeps newlines,
// spaces, `=` and backslashes in names from being read as syntax.
function quote(rel: string): string {
  const out: string[] = [];
  for (const byte of Buffer.from(rel)) {
    const c = String.fromCharCode(byte);
    out.push(/[A-Za-z0-9._\/+,-]/.test(c) ? c : `\\${byte.toString(8).padStart(3, '0')}`);
  }
  return out.join('');
}

/** Sets trusted.overlay.opaque=y on each directory (paths relative to root; '' is the root). */
export async function markOpaque(root: string, dirs: readonly string[]): Promise<void> {
  if (dirs.length === 0) return;
  const dump = dirs.map((d) => `# file: ${quote(d === '' ? '.' : d)}\ntrusted.overlay.opaque="y"\n\n`).join('');
  await run(SETFATTR, ['-h', '--restore=-'], { cwd: root, input: dump });
}

/** syncfs(2) of the filesystem holding `dir`: one flush for the whole layer before it is published. */
export async function syncFilesystem(dir: string): Promise<void> {
  await run(SYNC, ['-f', dir]);
}

/** `mount -t overlay` run from `cwd`, so `options` may name lower/upper/work dirs relative to it. Needs root. */
export async function mountOverlay(cwd: string, options: string, target: string): Promise<void> {
  await run(MOUNT, ['-t', 'overlay', 'overlay', '-o', options, target], { cwd });
}

/** `mount -t tmpfs` with `options` (size=, mode=…) at `target`. Needs root. */
export async function mountTmpfs(target: string, options: string): Promise<void> {
  await run(MOUNT, ['-t', 'tmpfs', '-o', options, 'tmpfs', target]);
}

export async function unmount(target: string, opts: { lazy?: boolean } = {}): Promise<void> {
  await run(UMOUNT, opts.lazy ? ['-l', target] : [target]);
}
