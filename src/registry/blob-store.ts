// registry/blob-store: content-addressed bytes on the local filesystem, and upload session files.
//
// <root>/
//   blobs/sha256/<first two hex>/<hex>   immutable content (layers, configs, manifests)
//   uploads/<uuid>                       bytes of an upload in progress, appended in order
//
// A blob path exists only after its bytes were fsynced and renamed into place; metadata in SQLite
// decides visibility. Re-committing existing content refreshes the file's mtime, which GC reads to
// avoid deleting a blob a concurrent push has just re-committed. Committing content (file + row) and GC's
// "no row, so delete the file" run under a per-digest lock, so a commit is never undone by a stale check.
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { parseDigest } from '../core/digest.ts';
import { mkdirDurable, renameDurable, writeFileAtomic } from '../core/fsutil.ts';

export class BlobStore {
  readonly blobsDir: string;
  readonly uploadsDir: string;
  private readonly digestLocks = new Map<string, Promise<void>>();

  constructor(root: string) {
    this.blobsDir = path.join(root, 'blobs');
    this.uploadsDir = path.join(root, 'uploads');
  }

  async init(): Promise<void> {
    await mkdirDurable(this.blobsDir);
    await mkdirDurable(this.uploadsDir);
    // A crash mid-write leaves writeFileAtomic's temp file behind, and nothing else ever removes it.
    // init() runs before the daemon serves, so no writer can own one now.
    for await (const { name, file } of this.entries()) if (name.startsWith(TEMP_PREFIX)) await fsp.rm(file, { force: true });
  }

  blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return path.join(this.blobsDir, algorithm, hex.slice(0, 2), hex);
  }

  uploadPath(id: string): string {
    return path.join(this.uploadsDir, id);
  }

  async exists(digest: string): Promise<boolean> {
    try {
      await fsp.access(this.blobPath(digest));
      return true;
    } catch {
      return false;
    }
  }

  read(digest: string, range?: { start: number; end: number }): Readable {
    // 256 KiB reads, not the 64 KiB default: about a third less server CPU per pulled byte (fewer buffers,
    // syscalls and stream ticks), measured with bench/registry.ts; 1 MiB reads cost more again.
    return createReadStream(this.blobPath(digest), { ...range, highWaterMark: 256 * 1024 });
  }

  async readAll(digest: string): Promise<Buffer> {
    return fsp.readFile(this.blobPath(digest));
  }

  /** Moves a verified, fsynced upload file into the content store. */
  async commitUpload(uploadId: string, digest: string): Promise<void> {
    const target = this.blobPath(digest);
    if (await this.refresh(target)) {
      await fsp.rm(this.uploadPath(uploadId), { force: true });
      return;
    }
    await renameDurable(this.uploadPath(uploadId), target);
  }

  /** Writes small content (a manifest) durably under its digest. */
  async writeBlob(digest: string, data: Buffer): Promise<void> {
    const target = this.blobPath(digest);
    if (await this.refresh(target)) return;
    await writeFileAtomic(target, data);
  }

  /** If the blob exists, bumps its mtime (see header) and says so. */
  private async refresh(file: string): Promise<boolean> {
    const now = new Date();
    try {
      await fsp.utimes(file, now, now);
      return true;
    } catch {
      return false;
    }
  }

  /** Runs `fn` after every earlier holder of `digest`'s lock has finished (FIFO, in-process). */
  async withDigestLock<T>(digest: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.digestLocks.get(digest);
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    this.digestLocks.set(digest, current);
    try {
      await previous;
      return await fn();
    } finally {
      release();
      if (this.digestLocks.get(digest) === current) this.digestLocks.delete(digest);
    }
  }

  async deleteBlobFileIfOlder(digest: string, cutoffMs: number): Promise<boolean> {
    const file = this.blobPath(digest);
    try {
      const st = await fsp.stat(file);
      if (st.mtimeMs >= cutoffMs) return false;
      await fsp.rm(file, { force: true });
      return true;
    } catch {
      return false;
    }
  }

  async removeUpload(id: string): Promise<void> {
    await fsp.rm(this.uploadPath(id), { force: true });
  }

  /** Every digest with a file in the store (for GC's orphan-file sweep). */
  async *listBlobFiles(): AsyncGenerator<{ digest: string; mtimeMs: number }> {
    for await (const { algorithm, name, file } of this.entries()) {
      if (name.startsWith(TEMP_PREFIX)) continue;
      const st = await fsp.stat(file).catch(() => undefined);
      if (st) yield { digest: `${algorithm}:${name}`, mtimeMs: st.mtimeMs };
    }
  }

  /** Every file under blobs/<algorithm>/<first two hex>/, temp files included. */
  private async *entries(): AsyncGenerator<{ algorithm: string; name: string; file: string }> {
    for (const algorithm of await readdirOrEmpty(this.blobsDir)) {
      for (const prefix of await readdirOrEmpty(path.join(this.blobsDir, algorithm))) {
        const dir = path.join(this.blobsDir, algorithm, prefix);
        for (const name of await readdirOrEmpty(dir)) yield { algorithm, name, file: path.join(dir, name) };
      }
    }
  }

  async listUploadFiles(): Promise<string[]> {
    return readdirOrEmpty(this.uploadsDir);
  }
}

/** Names writeFileAtomic gives its temp files (see core/fsutil). */
const TEMP_PREFIX = '.tmp-';

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch {
    return [];
  }
}
