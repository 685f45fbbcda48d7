// core/fsutil: durable file operations. A file becomes visible only after temp write, fsync, rename and
// directory fsync, so a crash at any moment leaves either the old state or the complete new one.
import { promises as fsp, constants } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** mkdir -p that also fsyncs each parent whose entry it created, so the new directories survive a crash. */
export async function mkdirDurable(dir: string): Promise<void> {
  const created = await fsp.mkdir(dir, { recursive: true });
  if (created === undefined) return;
  let d = dir;
  const stop = path.dirname(created);
  while (d !== stop && d !== path.dirname(d)) {
    d = path.dirname(d);
    await fsyncDir(d);
  }
}

/** Moves a fully written, fsynced file into place and makes the rename durable. */
export async function renameDurable(from: string, to: string): Promise<void> {
  await mkdirDurable(path.dirname(to));
  await fsp.rename(from, to);
  await fsyncDir(path.dirname(to));
  if (path.dirname(from) !== path.dirname(to)) await fsyncDir(path.dirname(from));
}

/** Atomically writes `data` to `file` (temp in the same directory, fsync, rename, directory fsync). */
export async function writeFileAtomic(file: string, data: Buffer | string, mode = 0o644): Promise<void> {
  const dir = path.dirname(file);
  await mkdirDurable(dir);
  const tmp = path.join(dir, `.tmp-${randomBytes(8).toString('hex')}`);
  const fh = await fsp.open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await renameDurable(tmp, file);
}
