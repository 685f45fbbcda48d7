// cli/push/tar-index: reads a tar archive's headers (ustar, GNU long names, pax) into an index of
// entry name → byte range, so blobs are streamed straight out of the archive file: nothing is
// extracted, hence a hostile entry (`..`, absolute path, escaping symlink) can never write anywhere.
// Such names are refused outright; symlinks and hard links are resolved only inside the archive.
import { open } from 'node:fs/promises';
import path from 'node:path';
import { SkiffError } from '../../core/errors.ts';

export type TarEntry =
  | { type: 'file'; offset: number; size: number }
  | { type: 'symlink' | 'hardlink'; target: string }
  | { type: 'other' };

const BLOCK = 512;

function invalid(file: string, why: string): SkiffError {
  return new SkiffError('ARCHIVE_INVALID', `${file}: ${why}`);
}

/** The archive-relative form of an entry name; undefined for the root itself. Throws on escaping names. */
export function archivePath(file: string, name: string): string | undefined {
  if (name.startsWith('/') || name.includes('\0')) throw invalid(file, `entry ${JSON.stringify(name)} has an absolute path`);
  const norm = path.posix.normalize(name).replace(/\/+$/, '');
  if (norm === '..' || norm.startsWith('../')) throw invalid(file, `entry ${JSON.stringify(name)} escapes the archive`);
  return norm === '.' || norm === '' ? undefined : norm;
}

function field(h: Buffer, start: number, len: number): string {
  const raw = h.subarray(start, start + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul === -1 ? len : nul).toString('utf8');
}

function numeric(h: Buffer, start: number, len: number): number {
  // GNU base-256 for values that do not fit in octal (entries over 8 GiB).
  if (h[start]! & 0x80) {
    let n = h[start]! & 0x7f;
    for (let i = 1; i < len; i++) n = n * 256 + h[start + i]!;
    return n;
  }
  const s = field(h, start, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum === numeric(h, 148, 8);
}

function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    const len = parseInt(data.subarray(i, space).toString(), 10);
    if (space === -1 || !(len > 0)) break;
    const rec = data.subarray(space + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

/** Indexes every entry of the tar file; later entries with the same name win, as on extraction. */
export async function indexTar(file: string): Promise<Map<string, TarEntry>> {
  const fh = await open(file, 'r').catch((err: Error) => {
    throw invalid(file, `cannot open: ${err.message}`);
  });
  try {
    const { size: total } = await fh.stat();
    const entries = new Map<string, TarEntry>();
    const h = Buffer.alloc(BLOCK);
    let offset = 0;
    let pending: Record<string, string> = {};
    const readData = async (at: number, len: number) => {
      if (len > 1 << 20) throw invalid(file, 'tar metadata record is too large');
      const b = Buffer.alloc(len);
      await fh.read(b, 0, len, at);
      return b;
    };
    while (offset + BLOCK <= total) {
      await fh.read(h, 0, BLOCK, offset);
      if (h.every((b) => b === 0)) break;
      if (!checksumOk(h)) throw invalid(file, offset === 0 ? 'not a tar archive' : `corrupt tar header at byte ${offset}`);
      const type = String.fromCharCode(h[156]!);
      const size = pending.size !== undefined ? Number(pending.size) : numeric(h, 124, 12);
      const dataAt = offset + BLOCK;
      if (dataAt + size > total) throw invalid(file, 'archive is truncated');
      offset = dataAt + Math.ceil(size / BLOCK) * BLOCK;
      if (type === 'x') pending = { ...pending, ...paxRecords(await readData(dataAt, size)) };
      else if (type === 'L') pending.path = field(await readData(dataAt, size), 0, size);
      else if (type === 'K') pending.linkpath = field(await readData(dataAt, size), 0, size);
      else if (type !== 'g') {
        const prefix = field(h, 345, 155);
        const raw = pending.path ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
        const link = pending.linkpath ?? field(h, 157, 100);
        pending = {};
        const name = archivePath(file, raw);
        if (name === undefined) continue;
        if (type === '0' || type === '\0' || type === '7') entries.set(name, { type: 'file', offset: dataAt, size });
        else if (type === '2') entries.set(name, { type: 'symlink', target: link });
        else if (type === '1') entries.set(name, { type: 'hardlink', target: link });
        else entries.set(name, { type: 'other' });
      }
    }
    return entries;
  } finally {
    await fh.close();
  }
}

/** Follows symlinks and hard links inside the archive to a regular file; escaping links are refused. */
export function resolveEntry(file: string, entries: Map<string, TarEntry>, name: string): { offset: number; size: number } | undefined {
  let current = name;
  for (let hops = 0; hops < 16; hops++) {
    const e = entries.get(current);
    if (!e || e.type === 'other') return undefined;
    if (e.type === 'file') return e;
    if (e.target.startsWith('/')) throw invalid(file, `link ${current} points outside the archive (${e.target})`);
    const joined = e.type === 'symlink' ? path.posix.join(path.posix.dirname(current), e.target) : e.target;
    const next = archivePath(file, joined);
    if (next === undefined) return undefined;
    current = next;
  }
  throw invalid(file, `too many links resolving ${name}`);
}
