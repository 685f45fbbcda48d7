// images/layer-writer: applies tar entries, one at a time, to a fresh private layer root.
//
// Safety model: the root is an empty directory created by this unpack (mode 0700 inside a 0700
// cache), so nothing but this writer changes it, and `kinds` — what this writer created at each path
// — is the complete truth about the tree. Every parent component of an entry must be a directory in
// `kinds`; a parent that is a symlink (one hop or many), a file or a whiteout refuses the entry, so no
// write ever goes through a symlink. Final components are created with O_EXCL|O_NOFOLLOW, mkdir,
// symlink or link, none of which follow a symlink. Policies (docs/images.md): later entries replace
// earlier non-directories; replacing a directory with a non-directory, or creating a path this layer
// also whites out, is refused; devices and fifos are dropped; tar xattrs are not applied.
import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Header } from 'tar-stream';
import { classifyWhiteout, entryParts, invalid } from './entry-path.ts';
import { tooLarge, type UnpackBudgets } from './budgets.ts';

/** The entry body: tar-stream's streamx Readable, drained by the caller after apply(). */
export type EntryBody = AsyncIterable<Buffer>;

type Kind = 'dir' | 'file' | 'symlink' | 'whiteout';

interface Meta {
  mode: number;
  uid: number;
  gid: number;
  mtime: Date | undefined;
}

export interface WriterOptions {
  readonly budgets: UnpackBudgets;
  /** lchown entries to their tar uid/gid (only possible as root). */
  readonly applyOwnership: boolean;
  /** Path of the shared 0:0 whiteout device, created on first use. */
  readonly whiteoutDevice: () => Promise<string>;
}

const CREATE_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const IMPLICIT_DIR: Meta = { mode: 0o755, uid: 0, gid: 0, mtime: undefined };

export class LayerWriter {
  private readonly kinds = new Map<string, Kind>([['', 'dir']]);
  private readonly dirs = new Map<string, Meta>([['', IMPLICIT_DIR]]);
  private readonly opaqueDirs = new Set<string>();
  readonly dropped: string[] = [];
  entries = 0;

  constructor(
    private readonly root: string,
    private readonly opts: WriterOptions,
  ) {}

  get opaque(): string[] {
    return [...this.opaqueDirs];
  }

  async apply(header: Header, body: EntryBody): Promise<void> {
    if (++this.entries > this.opts.budgets.maxEntries) throw tooLarge(`more than ${this.opts.budgets.maxEntries} entries`);
    this.checkLength(header.name);
    const parts = entryParts(header.name);
    const rel = parts.join('/');
    const meta = this.metaOf(header);
    if (parts.length === 0) {
      if (header.type !== 'directory') throw invalid(`the layer root entry is a ${header.type}`);
      return;
    }
    const parent = parts.slice(0, -1).join('/');
    await this.ensureDir(parent);
    const base = parts[parts.length - 1]!;
    const wh = classifyWhiteout(base);
    if (wh.kind !== 'none') {
      if (header.type !== 'file' || header.size !== 0) throw invalid(`whiteout ${rel} must be an empty regular file`);
      if (wh.kind === 'opaque') this.opaqueDirs.add(parent);
      else if (wh.kind === 'aufs-meta') this.dropped.push(rel);
      else await this.whiteout(parent ? `${parent}/${wh.target}` : wh.target);
      return;
    }
    switch (header.type) {
      case 'file':
      case 'contiguous-file':
        return this.writeFile(rel, meta, body);
      case 'directory':
        if ((await this.clear(rel, 'dir')) === 'absent') await fsp.mkdir(this.abs(rel), 0o700);
        this.kinds.set(rel, 'dir');
        this.dirs.set(rel, meta);
        return;
      case 'symlink':
        return this.symlink(rel, header.linkname ?? '', meta);
      case 'link':
        return this.hardlink(rel, header.linkname ?? '');
      case 'character-device':
      case 'block-device':
      case 'fifo':
        // Containers get /dev from the runtime; a device node in a layer is at best useless.
        this.dropped.push(rel);
        return;
      default:
        throw invalid(`entry ${rel} has unsupported type ${String(header.type)}`);
    }
  }

  /** Applies directory metadata deepest first (so a read-only directory does not block its children). */
  async finish(): Promise<void> {
    const order = [...this.dirs.keys()].sort((a, b) => depth(b) - depth(a));
    for (const rel of order) {
      const m = this.dirs.get(rel)!;
      const p = this.abs(rel);
      if (this.opts.applyOwnership) await fsp.lchown(p, m.uid, m.gid);
      await fsp.chmod(p, m.mode);
      if (m.mtime) await fsp.utimes(p, m.mtime, m.mtime);
    }
  }

  private abs(rel: string): string {
    return rel === '' ? this.root : path.join(this.root, rel);
  }

  private checkLength(p: string): void {
    if (Buffer.byteLength(p) > this.opts.budgets.maxPathLength) throw tooLarge(`a path longer than ${this.opts.budgets.maxPathLength} bytes`);
  }

  private metaOf(h: Header): Meta {
    // tar-stream applies pax path/linkpath/size itself but not uid/gid, which large ids need.
    const pax = (h.pax ?? {}) as Record<string, string | undefined>;
    const uid = this.id(pax.uid ?? h.uid, 'uid');
    const gid = this.id(pax.gid ?? h.gid, 'gid');
    const t = h.mtime?.getTime();
    return { mode: (h.mode ?? 0o644) & 0o7777, uid, gid, mtime: t !== undefined && Number.isFinite(t) ? h.mtime : undefined };
  }

  private id(raw: unknown, what: string): number {
    const n = typeof raw === 'string' && /^\d{1,20}$/.test(raw) ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > this.opts.budgets.maxId) {
      throw invalid(`${what} ${String(raw).slice(0, 40)} is outside 0..${this.opts.budgets.maxId}`);
    }
    return n;
  }

  /** Every component of `rel` must be a directory this layer has (made implicitly if missing). */
  private async ensureDir(rel: string): Promise<void> {
    if (this.kinds.get(rel) === 'dir') return;
    let cur = '';
    for (const part of rel.split('/')) {
      cur = cur ? `${cur}/${part}` : part;
      const kind = this.kinds.get(cur);
      if (kind === 'dir') continue;
      if (kind !== undefined) throw invalid(`entry under ${cur} goes through a ${kind}`);
      await fsp.mkdir(this.abs(cur), 0o700);
      this.kinds.set(cur, 'dir');
      this.dirs.set(cur, IMPLICIT_DIR);
    }
  }

  /** Makes room for a new entry at `rel`: removes an earlier non-directory, refuses the rest. */
  private async clear(rel: string, next: Kind): Promise<'absent' | 'dir'> {
    const kind = this.kinds.get(rel);
    if (kind === undefined) return 'absent';
    if (kind === 'whiteout') throw invalid(`${rel} is both whited out and created in the same layer`);
    if (kind === 'dir') {
      if (next === 'dir') return 'dir';
      throw invalid(`entry ${rel} would replace a directory with a ${next}`);
    }
    await fsp.unlink(this.abs(rel));
    this.kinds.delete(rel);
    return 'absent';
  }

  private async writeFile(rel: string, m: Meta, body: EntryBody): Promise<void> {
    await this.clear(rel, 'file');
    const fh = await fsp.open(this.abs(rel), CREATE_FILE, 0o600);
    this.kinds.set(rel, 'file');
    try {
      for await (const chunk of body) await fh.write(chunk);
      if (this.opts.applyOwnership) await fh.chown(m.uid, m.gid); // before chmod: chown clears setuid
      await fh.chmod(m.mode);
      if (m.mtime) await fh.utimes(m.mtime, m.mtime);
    } finally {
      await fh.close();
    }
  }

  private async symlink(rel: string, target: string, m: Meta): Promise<void> {
    // The target is data, resolved later inside the container's root; only its shape is checked here.
    if (target === '' || target.includes('\0')) throw invalid(`symlink ${rel} has an empty or NUL-containing target`);
    this.checkLength(target);
    await this.clear(rel, 'symlink');
    await fsp.symlink(target, this.abs(rel));
    this.kinds.set(rel, 'symlink');
    if (this.opts.applyOwnership) await fsp.lchown(this.abs(rel), m.uid, m.gid);
    if (m.mtime) await fsp.lutimes(this.abs(rel), m.mtime, m.mtime);
  }

  private async hardlink(rel: string, linkname: string): Promise<void> {
    this.checkLength(linkname);
    const target = entryParts(linkname, 'hardlink target').join('/');
    if (target === rel) throw invalid(`hardlink ${rel} points to itself`);
    // Only regular files created earlier in this layer: never a directory, symlink, whiteout or a path
    // outside the root (which entryParts already refused).
    if (this.kinds.get(target) !== 'file') throw invalid(`hardlink ${rel} -> ${target}: target is not a regular file earlier in this layer`);
    await this.clear(rel, 'file');
    await fsp.link(this.abs(target), this.abs(rel));
    this.kinds.set(rel, 'file');
  }

  private async whiteout(rel: string): Promise<void> {
    if (this.kinds.has(rel)) throw invalid(`${rel} is both whited out and created in the same layer`);
    await fsp.link(await this.opts.whiteoutDevice(), this.abs(rel));
    this.kinds.set(rel, 'whiteout');
  }
}

function depth(rel: string): number {
  return rel === '' ? 0 : rel.split('/').length;
}
