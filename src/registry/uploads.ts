// registry/uploads: blob upload sessions (monolithic, chunked, resumable). The upload file on disk is the
// truth for the offset; the running sha256 is kept in memory between chunks and rebuilt from the file
// after a restart or a failed chunk, so digests are verified while streaming without a second read.
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { randomUUID, type Hash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SkiffError } from '../core/errors.ts';
import { newHash, parseDigest } from '../core/digest.ts';
import type { Clock } from '../core/clock.ts';
import type { BlobStore } from './blob-store.ts';
import type { RegistryStore } from '../store/registry-store.ts';

interface SessionState {
  hash: Hash;
  offset: number;
}

export interface UploadStatus {
  id: string;
  repo: string;
  offset: number;
}

export class UploadManager {
  private readonly hashes = new Map<string, SessionState>();
  /** Uploads with a request writing to them; a second concurrent writer is refused, not interleaved. */
  private readonly busy = new Set<string>();

  constructor(
    private readonly store: RegistryStore,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
  ) {}

  async create(repo: string): Promise<UploadStatus> {
    const id = randomUUID();
    await fsp.writeFile(this.blobs.uploadPath(id), Buffer.alloc(0), { flag: 'wx' });
    this.store.createUpload(id, repo, this.clock.now());
    this.hashes.set(id, { hash: newHash(), offset: 0 });
    return { id, repo, offset: 0 };
  }

  /** The session, or BLOB_UPLOAD_UNKNOWN when it does not exist in this repository. */
  async status(repo: string, id: string): Promise<UploadStatus> {
    const row = /^[0-9a-f-]{36}$/.test(id) ? this.store.getUpload(id) : undefined;
    if (!row || row.repo !== repo) throw new SkiffError('BLOB_UPLOAD_UNKNOWN', `upload ${id.slice(0, 80)} is unknown`);
    const st = await fsp.stat(this.blobs.uploadPath(id)).catch(() => undefined);
    if (!st) throw new SkiffError('BLOB_UPLOAD_UNKNOWN', `upload ${id} has no data file`);
    return { id, repo, offset: st.size };
  }

  /**
   * Appends a chunk. `start` (from Content-Range) must equal the current offset; `length`
   * (from Content-Length) when given must match the bytes received.
   */
  async append(repo: string, id: string, body: Readable, expect: { start?: number; length?: number }): Promise<UploadStatus> {
    return this.exclusive(id, async () => {
      const status = await this.status(repo, id);
      if (expect.start !== undefined && expect.start !== status.offset) {
        throw new SkiffError('RANGE_INVALID', `chunk starts at ${expect.start} but upload is at ${status.offset}`, {
          detail: { offset: status.offset },
        });
      }
      const state = await this.hashState(id, status.offset);
      let received = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          received += chunk.length;
          state.hash.update(chunk);
          cb(null, chunk);
        },
      });
      try {
        await pipeline(body, counter, createWriteStream(this.blobs.uploadPath(id), { flags: 'a' }));
      } catch (err) {
        this.hashes.delete(id);
        throw err;
      }
      if (expect.length !== undefined && expect.length !== received) {
        // A refused chunk leaves the session as it was, so the client can resend it at the same offset.
        this.hashes.delete(id);
        await fsp.truncate(this.blobs.uploadPath(id), status.offset);
        throw new SkiffError('SIZE_INVALID', `chunk should be ${expect.length} bytes but ${received} arrived`);
      }
      state.offset += received;
      this.store.touchUpload(id, this.clock.now());
      return { id, repo, offset: state.offset };
    });
  }

  /** Verifies the digest of everything uploaded, fsyncs, and commits the blob. */
  async finish(repo: string, id: string, digest: string): Promise<{ digest: string; size: number }> {
    const parsed = parseDigest(digest);
    return this.exclusive(id, async () => {
      const status = await this.status(repo, id);
      const actual =
        parsed.algorithm === 'sha256'
          ? (await this.hashState(id, status.offset)).hash.copy().digest('hex')
          : await hashFile(this.blobs.uploadPath(id), parsed.algorithm);
      if (actual !== parsed.hex) {
        throw new SkiffError('DIGEST_INVALID', `uploaded content has digest ${parsed.algorithm}:${actual}, not ${digest}`);
      }
      const fh = await fsp.open(this.blobs.uploadPath(id), 'r+');
      try {
        // Stamp the commit time: GC spares files younger than its grace window while their metadata row
        // is being written, and the bytes of a resumed upload may be far older than that.
        const now = new Date(this.clock.now());
        await fh.utimes(now, now);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.blobs.withDigestLock(digest, async () => {
        await this.blobs.commitUpload(id, digest);
        this.store.commitBlob(repo, digest, status.offset, this.clock.now());
      });
      this.store.deleteUpload(id);
      this.hashes.delete(id);
      return { digest, size: status.offset };
    });
  }

  async cancel(repo: string, id: string): Promise<void> {
    await this.exclusive(id, async () => {
      await this.status(repo, id);
      await this.remove(id);
    });
  }

  /** Removes sessions idle since before `touchedBefore`, and upload files with no session row older than that. */
  async expire(touchedBefore: number): Promise<number> {
    let removed = 0;
    for (const row of this.store.staleUploads(touchedBefore)) {
      if (this.busy.has(row.id)) continue;
      await this.remove(row.id);
      removed++;
    }
    const known = this.store.uploadIds();
    for (const file of await this.blobs.listUploadFiles()) {
      if (known.has(file) || this.busy.has(file)) continue;
      // create() writes the file just before the row, so a young file without a row may be a session being born.
      const st = await fsp.stat(this.blobs.uploadPath(file)).catch(() => undefined);
      if (st && st.mtimeMs < touchedBefore) {
        await this.blobs.removeUpload(file);
        removed++;
      }
    }
    return removed;
  }

  private async remove(id: string): Promise<void> {
    this.store.deleteUpload(id);
    this.hashes.delete(id);
    await this.blobs.removeUpload(id);
  }

  private async hashState(id: string, offset: number): Promise<SessionState> {
    const known = this.hashes.get(id);
    if (known && known.offset === offset) return known;
    const hash = newHash();
    await pipeline(createReadStream(this.blobs.uploadPath(id)), async function* (src) {
      for await (const chunk of src) hash.update(chunk as Buffer);
    });
    const state = { hash, offset };
    this.hashes.set(id, state);
    return state;
  }

  private async exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> {
    if (this.busy.has(id)) throw new SkiffError('BLOB_UPLOAD_INVALID', `upload ${id} is already being written by another request`);
    this.busy.add(id);
    try {
      return await fn();
    } finally {
      this.busy.delete(id);
    }
  }
}

async function hashFile(file: string, algorithm: 'sha256' | 'sha512'): Promise<string> {
  const hash = newHash(algorithm);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
