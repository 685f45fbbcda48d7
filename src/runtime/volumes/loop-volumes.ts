// runtime/volumes/loop-volumes: persistent volumes on this node, each a sparse ext4 image of the
// volume's size mounted through a loop device, so the kernel enforces the size (a write past it is
// ENOSPC inside the instance; the host's disk never fills). Mounted once on the host, bind-mounted
// into each instance that names it (runc/bundle.ts); mounted again at daemon start, since a reboot
// (or anyone's umount) loses the mount and its loop device.
//
//   <dataDir>/volumes/<name>/
//     disk.img          the ext4 image (sparse: only written blocks take host space)
//     mnt/              its mount point while the daemon runs (loop, nodev, nosuid)
//       data/           the volume's files: what instances see at their mount path
//       .import-<rand>/ an import's staging area, on the same filesystem (so the volume's own size
//                       limits it) but outside what instances see
//       lost+found/     ext4's own, hidden from instances
//
// Import never writes through a path an instance controls: the tar is unpacked by the layer writer
// (images/layer-writer.ts: no `..`, no absolute names, no write through a symlink, devices dropped)
// into the staging area, then moved into data/ by a small Perl helper chrooted into the volume's
// filesystem, so a symlink an instance planted in data/ (even one swapped in during the move) resolves
// inside the volume, never on the host.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { SkiffError } from '../../core/errors.ts';
import { silentLogger, type Logger } from '../../core/logger.ts';
import { assertVolumeName } from '../../core/volumes.ts';
import { budgetsWith } from '../../images/budgets.ts';
import { invalid } from '../../images/entry-path.ts';
import { LayerWriter } from '../../images/layer-writer.ts';
import { execTool } from '../exec.ts';

export interface VolumeUsage {
  sizeBytes: number;
  usedBytes: number;
  /** whether its filesystem is mounted on the host now */
  mounted: boolean;
}

export interface ImportResult {
  entries: number;
  /** entries not materialised: device nodes and fifos */
  dropped: string[];
}

// Moves the staging tree into data/, chrooted into the volume's filesystem root. A directory that
// exists on both sides is merged; anything else at the destination is replaced (never followed).
const MERGE_PL = String.raw`
use strict;
my ($root, $from) = @ARGV;
chroot($root) or die "chroot: $!\n";
chdir('/') or die "chdir: $!\n";
sub remove { my ($p) = @_;
  my @st = lstat($p); return unless @st;
  if (-d _) { opendir(my $d, $p) or die "opendir: $!\n"; my @n = grep { $_ ne '.' && $_ ne '..' } readdir($d); closedir($d);
    remove("$p/$_") for @n; rmdir($p) or die "rmdir: $!\n"; }
  else { unlink($p) or die "unlink: $!\n"; } }
sub merge { my ($src, $dst) = @_;
  opendir(my $d, $src) or die "opendir: $!\n"; my @n = grep { $_ ne '.' && $_ ne '..' } readdir($d); closedir($d);
  for my $n (@n) { my ($s, $t) = ("$src/$n", "$dst/$n");
    my @ss = lstat($s); my $sdir = @ss && -d _;
    my @ts = lstat($t); my $tdir = @ts && -d _;
    if ($sdir && $tdir) { merge($s, $t); next; }
    remove($t) if @ts;
    rename($s, $t) or die "rename: $!\n"; } }
merge("/$from", "/data");
`;

export class LoopVolumes {
  private readonly log: Logger;
  /** volumes known to be mounted (checked against /proc/self/mountinfo when not) */
  private readonly mounted = new Set<string>();
  /** one mount/unmount/import at a time per volume */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    /** `<dataDir>/volumes` */
    private readonly root: string,
    logger?: Logger,
  ) {
    this.log = (logger ?? silentLogger).child({ component: 'volumes' });
  }

  private dir(name: string): string {
    return path.join(this.root, assertVolumeName(name));
  }

  private image(name: string): string {
    return path.join(this.dir(name), 'disk.img');
  }

  private mountPoint(name: string): string {
    return path.join(this.dir(name), 'mnt');
  }

  private serial<T>(name: string, f: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(name) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(f);
    const tail = next.catch(() => undefined);
    this.locks.set(name, tail);
    void tail.then(() => this.locks.get(name) === tail && this.locks.delete(name));
    return next;
  }

  exists(name: string): boolean {
    return existsSync(this.image(name));
  }

  /** A new volume: the sparse image, its ext4 filesystem, mounted, with an empty data/. */
  create(name: string, sizeBytes: number): Promise<void> {
    return this.serial(name, async () => {
      const dir = this.dir(name);
      if (existsSync(this.image(name))) throw new SkiffError('CONFLICT', `volume ${name} already exists on this node`);
      await fsp.mkdir(this.root, { recursive: true, mode: 0o700 });
      await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
      try {
        const tmp = path.join(dir, 'disk.img.tmp');
        const fh = await fsp.open(tmp, 'w', 0o600);
        try {
          await fh.truncate(sizeBytes);
        } finally {
          await fh.close();
        }
        // -m 0: no blocks reserved for root (an instance often runs as root: it should get the size asked)
        await run('mkfs.ext4', ['-q', '-F', '-m', '0', '-E', 'root_owner=0:0', tmp]);
        await fsp.rename(tmp, this.image(name));
        await this.mountNow(name);
        await fsp.mkdir(path.join(this.mountPoint(name), 'data'), { mode: 0o755 });
      } catch (err) {
        await this.unmountNow(name).catch(() => undefined);
        await fsp.rm(dir, { recursive: true, force: true });
        throw err;
      }
      this.log.info({ volume: name, sizeBytes }, 'volume created');
    });
  }

  /** Where an instance bind-mounts the volume from; mounts it first when it is not (after a reboot). */
  async hostPath(name: string): Promise<string> {
    if (!this.exists(name)) throw new SkiffError('NOT_FOUND', `no volume ${name} on this node`);
    if (!this.mounted.has(name)) await this.serial(name, () => this.mountNow(name));
    return path.join(this.mountPoint(name), 'data');
  }

  /** Mounts every volume that is not (daemon start); a failure is logged, not thrown (its instances
   *  fail to start and say why). */
  async restore(names: string[]): Promise<void> {
    for (const name of names) {
      if (!this.exists(name)) {
        this.log.warn({ volume: name }, 'volume recorded but its image is missing on this node');
        continue;
      }
      await this.serial(name, () => this.mountNow(name)).catch((err: unknown) => this.log.error({ volume: name, err }, 'cannot mount volume'));
    }
  }

  /** Unmounts the volume and deletes its image; nothing is left. */
  remove(name: string): Promise<void> {
    return this.serial(name, async () => {
      await this.unmountNow(name);
      await fsp.rm(this.dir(name), { recursive: true, force: true });
      this.log.info({ volume: name }, 'volume removed');
    });
  }

  /** Unmounts every volume (tests; a daemon leaves them mounted for its instances). */
  async unmountAll(): Promise<void> {
    const names = existsSync(this.root) ? await fsp.readdir(this.root) : [];
    for (const name of names) await this.serial(name, () => this.unmountNow(name)).catch(() => undefined);
  }

  async usage(name: string): Promise<VolumeUsage | undefined> {
    if (!this.exists(name)) return undefined;
    const mounted = await this.isMounted(name);
    if (!mounted) return { sizeBytes: (await fsp.stat(this.image(name))).size, usedBytes: 0, mounted };
    const s = await fsp.statfs(this.mountPoint(name));
    return { sizeBytes: s.blocks * s.bsize, usedBytes: (s.blocks - s.bfree) * s.bsize, mounted };
  }

  /** The volume's files as a tar stream (GNU tar, numeric owners; files as they are while it reads). */
  async export(name: string): Promise<Readable> {
    const data = await this.hostPath(name);
    const child = spawn('tar', ['--numeric-owner', '--one-file-system', '-C', data, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-2000)));
    child.on('close', (code) => {
      if (code !== 0) child.stdout.destroy(new SkiffError('INTERNAL', `exporting volume ${name} failed: ${stderr.trim() || `tar exited with ${code}`}`));
    });
    return child.stdout;
  }

  /** Unpacks a tar into the volume, over what is there (files replaced, directories merged). A
   *  hostile entry (`..`, absolute, through a symlink) is LAYER_INVALID-free here: BAD_REQUEST; a tar
   *  larger than the free space is VOLUME_FULL, and what it had unpacked is removed. */
  import(name: string, source: Readable): Promise<ImportResult> {
    return this.serial(name, async () => {
      if (!this.exists(name)) throw new SkiffError('NOT_FOUND', `no volume ${name} on this node`);
      await this.mountNow(name);
      const mnt = this.mountPoint(name);
      const stagingName = `.import-${randomBytes(6).toString('hex')}`;
      const staging = path.join(mnt, stagingName);
      await fsp.mkdir(staging, { mode: 0o700 });
      try {
        const result = await unpackInto(staging, source, (await fsp.stat(this.image(name))).size);
        await run('perl', ['-e', MERGE_PL, mnt, stagingName]);
        return result;
      } catch (err) {
        throw volumeError(name, err);
      } finally {
        await fsp.rm(staging, { recursive: true, force: true }).catch((err: unknown) => this.log.warn({ volume: name, err }, 'cannot remove an import staging area'));
      }
    });
  }

  private async isMounted(name: string): Promise<boolean> {
    const mp = this.mountPoint(name);
    const info = await fsp.readFile('/proc/self/mountinfo', 'utf8');
    // field 5 is the mount point, with spaces and the like octal-escaped
    const escaped = mp.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
    return info.split('\n').some((l) => l.split(' ')[4] === escaped);
  }

  private async mountNow(name: string): Promise<void> {
    if (await this.isMounted(name)) {
      this.mounted.add(name);
      return;
    }
    const mp = this.mountPoint(name);
    await fsp.mkdir(mp, { recursive: true, mode: 0o700 });
    // the journal replays here after a crash; `loop` sets the device up with autoclear (freed at umount)
    await run('mount', ['-t', 'ext4', '-o', 'loop,nodev,nosuid', this.image(name), mp]);
    this.mounted.add(name);
    this.log.debug({ volume: name }, 'volume mounted');
  }

  private async unmountNow(name: string): Promise<void> {
    this.mounted.delete(name);
    if (!(await this.isMounted(name))) return;
    try {
      await run('umount', [this.mountPoint(name)]);
    } catch (err) {
      throw new SkiffError('CONFLICT', `volume ${name} is still mounted by an instance: ${(err as Error).message}`, { cause: err });
    }
  }
}

async function unpackInto(staging: string, source: Readable, maxBytes: number): Promise<ImportResult> {
  const writer = new LayerWriter(staging, {
    // the tar stream itself may be larger than the volume by its headers; the volume's ENOSPC is the real bound
    budgets: budgetsWith({ maxBytes: maxBytes * 2 + 1024 ** 2 }),
    applyOwnership: process.getuid?.() === 0,
    whiteoutDevice: async () => {
      throw invalid('a volume archive has no whiteouts (.wh. names)');
    },
  });
  const extract = tar.extract();
  const feeding = pipeline(source, extract);
  const consuming = (async () => {
    for await (const entry of extract) {
      try {
        await writer.apply(entry.header, entry as unknown as AsyncIterable<Buffer>);
      } finally {
        entry.resume();
      }
    }
  })();
  const [fed, consumed] = await Promise.allSettled([feeding, consuming]);
  if (consumed.status === 'rejected') throw consumed.reason;
  if (fed.status === 'rejected') throw fed.reason;
  await writer.finish();
  return { entries: writer.entries, dropped: writer.dropped };
}

/** Runs a host tool; INTERNAL with its stderr (not its arguments: the merge script is one) when it fails. */
async function run(cmd: string, args: string[]): Promise<void> {
  const r = await execTool(cmd, args);
  if (r.code !== 0) throw new SkiffError('INTERNAL', `${cmd} failed (${r.code}): ${r.stderr.trim().slice(0, 500)}`);
}

function volumeError(name: string, err: unknown): unknown {
  const e = err as NodeJS.ErrnoException & { stderr?: string };
  if (e?.code === 'ENOSPC' || /No space left on device/i.test(e?.message ?? '')) {
    return new SkiffError('VOLUME_FULL', `volume ${name} is full: the archive does not fit in its size (nothing of it was kept)`, { cause: err });
  }
  if (err instanceof SkiffError && (err.code === 'LAYER_INVALID' || err.code === 'LAYER_TOO_LARGE')) {
    return new SkiffError('BAD_REQUEST', `import into volume ${name} refused: ${err.message.replace(/^layer is malformed or hostile: /, 'the archive is malformed or hostile: ')}`, { cause: err });
  }
  if (err instanceof SkiffError) return err;
  if (typeof e?.syscall === 'string' || e?.code) return err;
  return new SkiffError('BAD_REQUEST', `import into volume ${name} refused: cannot read the archive: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
