// test/images/fixtures: builds layer blobs in memory (tar-stream pack, gzip, zstd), serves them through
// the images BlobSource port while counting opens, and snapshots a directory tree so a test can prove
// that nothing outside a layer directory changed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import type { BlobSource } from '../../src/images/ports.ts';

export interface TarEntry {
  name: string;
  type?: 'file' | 'link' | 'symlink' | 'directory' | 'block-device' | 'character-device' | 'fifo';
  body?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

export async function tarOf(entries: readonly TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { body, ...header } of entries) {
    const data = body === undefined ? undefined : Buffer.from(body);
    if (data) pack.entry({ mtime: new Date(1_700_000_000_000), ...header, size: data.length }, data);
    else pack.entry({ mtime: new Date(1_700_000_000_000), ...header });
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

export function gzip(data: Buffer): Buffer {
  return gzipSync(data);
}

export function zstd(data: Buffer): Buffer {
  const r = spawnSync('zstd', ['-q', '-c'], { input: data, maxBuffer: 1 << 30 });
  if (r.error || r.status !== 0) throw new Error(`zstd is not installed or failed (apt-get install zstd): ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

/** `getfattr -d -m - <file>` (all xattrs, trusted.* included as root); fails naming the Debian package. */
export function xattrs(file: string): string {
  const r = spawnSync('getfattr', ['-d', '-m', '-', file], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`getfattr is not installed or failed (apt-get install attr): ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** An in-memory BlobSource; `opens` counts reads per digest (one unpack = one open). */
export class MemoryBlobs implements BlobSource {
  readonly blobs = new Map<string, Buffer>();
  readonly opens = new Map<string, number>();

  add(data: Buffer, digest = sha256(data)): string {
    this.blobs.set(digest, data);
    return digest;
  }

  async open(digest: string): Promise<Readable> {
    const data = this.blobs.get(digest);
    if (!data) throw new Error(`no blob ${digest}`);
    this.opens.set(digest, (this.opens.get(digest) ?? 0) + 1);
    // 16 KiB chunks, so budgets and digests are checked across chunk boundaries like a real file read.
    const chunks: Buffer[] = [];
    for (let i = 0; i < data.length; i += 16384) chunks.push(data.subarray(i, i + 16384));
    return Readable.from(chunks);
  }
}

/** Every path under `dir` (except `exclude`) with type, mode, owner, size, mtime, content hash, link target. */
export function snapshot(dir: string, exclude: readonly string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string): void => {
    const rel = path.relative(dir, p) || '.';
    if (exclude.includes(p)) return;
    const st = lstatSync(p);
    const base = `mode=${st.mode.toString(8)} uid=${st.uid} gid=${st.gid} size=${st.size} mtime=${st.mtimeMs} nlink=${st.nlink}`;
    if (st.isSymbolicLink()) out.set(rel, `${base} -> ${readlinkSync(p)}`);
    else if (st.isFile()) out.set(rel, `${base} ${sha256(readFileSync(p))}`);
    else if (st.isDirectory()) {
      out.set(rel, base);
      for (const name of readdirSync(p).sort()) walk(path.join(p, name));
    } else out.set(rel, `${base} rdev=${st.rdev}`);
  };
  walk(dir);
  return out;
}

/** rm -rf that also works as non-root on trees holding read-only directories (layers keep their modes). */
export function removeTree(dir: string): void {
  const open = (p: string): void => {
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st?.isDirectory()) return;
    chmodSync(p, 0o700);
    for (const name of readdirSync(p)) open(path.join(p, name));
  };
  open(dir);
  rmSync(dir, { recursive: true, force: true });
}
