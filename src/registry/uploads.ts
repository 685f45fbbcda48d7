// registry/uploads: blob upload sessions (monolithic, chunked, resumable). The upload's bytes in the
// blob store are the truth for the offset; the running sha256 is kept in memory between chunks and
// rebuilt from the bytes after a restart or a failed chunk, so digests are verified while streaming
// without a second read.
import { randomUUID, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { SkiffError } from '../core/errors.ts';
import type { FreeSpaceCheck } from '../core/free-space.ts';
import { newHash, parseDigest } from '../core/digest.ts';
import type { Clock } from '../core/clock.ts';
import type { BlobStore, RegistryRepository } from './ports.ts';
import type { DigestLocks } from './digest-locks.ts';

interface SessionState {
  hash: Hash;
  offset: number;
}

export interface UploadStatus {
  id: string;
  repo: string;
  offset: number;
}

const UPLOAD_ID_RE = /^[0-9a-f-]{36}$/;

/** A session that is not there (also what another project's repository answers: http.ts). */
export const unknownUpload = (id: string) => new SkiffError('BLOB_UPLOAD_UNKNOWN', `upload ${id.slice(0, 80)} is unknown`);

export class UploadManager {
  private readonly hashes = new Map<string, SessionState>();
  /** Uploads with a request writing to them; a second concurrent writer is refused, not interleaved. */
  private readonly busy = new Set<string>();

  constructor(
    private readonly metadata: RegistryRepository,
    private readonly blobs: BlobStore,
    private readonly locks: DigestLocks,
    private readonly clock: Clock,
    private readonly space?: FreeSpaceCheck,
  ) {}

  async create(repo: string): Promise<UploadStatus> {
    await this.space?.assert('blob upload');
    const id = randomUUID();
    await this.blobs.createUpload(id);
    await this.metadata.createUpload(id, repo, this.clock.now());
    this.hashes.set(id, { hash: newHash(), offset: 0 });
    return { id, repo, offset: 0 };
  }

  /** The session, or BLOB_UPLOAD_UNKNOWN when it does not exist in this repository. */
  async status(repo: string, id: string): Promise<UploadStatus> {
    const record = UPLOAD_ID_RE.test(id) ? await this.metadata.getUpload(id) : undefined;
    if (!record || record.repository !== repo) throw unknownUpload(id);
    const size = await this.blobs.uploadSize(id);
    if (size === undefined) throw new SkiffError('BLOB_UPLOAD_UNKNOWN', `upload ${id} has no data`);
    return { id, repo, offset: size };
  }

  /**
   * Appends a chunk. `start` (from Content-Range) must equal the current offset; `length`
   * (from Content-Length) when given must match the bytes received.
   */
  async append(repo: string, id: string, body: Readable, expect: { start?: number; length?: number }): Promise<UploadStatus> {
    return this.exclusive(id, async () => {
      const status = await this.status(repo, id);
      await this.space?.assert('blob upload');
      if (expect.start !== undefined && expect.start !== status.offset) {
        throw new SkiffError('RANGE_INVALID', `chunk starts at ${expect.start} but upload is at ${status.offset}`, {
          detail: { offset: status.offset },
        });
      }
      const state = await this.hashState(id, status.offset);
      let received: number;
      try {
        received = await this.blobs.appendUpload(id, body, (chunk) => state.hash.update(chunk));
      } catch (err) {
        this.hashes.delete(id);
        throw err;
      }
      if (expect.length !== undefined && expect.length !== received) {
        // A refused chunk leaves the session as it was, so the client can resend it at the same offset.
        this.hashes.delete(id);
        await this.blobs.truncateUpload(id, status.offset);
        throw new SkiffError('SIZE_INVALID', `chunk should be ${expect.length} bytes but ${received} arrived`);
      }
      state.offset += received;
      await this.metadata.touchUpload(id, this.clock.now());
      return { id, repo, offset: state.offset };
    });
  }

  /** Verifies the digest of everything uploaded, makes the bytes durable, and commits the blob. */
  async finish(repo: string, id: string, digest: string): Promise<{ digest: string; size: number }> {
    const parsed = parseDigest(digest);
    return this.exclusive(id, async () => {
      const status = await this.status(repo, id);
      const actual =
        parsed.algorithm === 'sha256' ? (await this.hashState(id, status.offset)).hash.copy().digest('hex') : await this.hashUpload(id, parsed.algorithm);
      if (actual !== parsed.hex) {
        throw new SkiffError('DIGEST_INVALID', `uploaded content has digest ${parsed.algorithm}:${actual}, not ${digest}`);
      }
      await this.locks.with(digest, async () => {
        await this.blobs.commitUpload(id, digest, this.clock.now());
        await this.metadata.commitBlob(repo, digest, status.offset, this.clock.now());
      });
      await this.metadata.deleteUpload(id);
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

  /** Removes sessions idle since before `touchedBefore`, and upload bytes with no session older than that. */
  async expire(touchedBefore: number): Promise<number> {
    let removed = 0;
    for (const record of await this.metadata.staleUploads(touchedBefore)) {
      if (this.busy.has(record.id)) continue;
      await this.remove(record.id);
      removed++;
    }
    const known = await this.metadata.uploadIds();
    for (const upload of await this.blobs.listUploads()) {
      // create() stores the bytes just before the record, so young bytes without one may be a session being born.
      if (known.has(upload.id) || this.busy.has(upload.id) || upload.modifiedAt >= touchedBefore) continue;
      await this.blobs.removeUpload(upload.id);
      removed++;
    }
    return removed;
  }

  private async remove(id: string): Promise<void> {
    await this.metadata.deleteUpload(id);
    this.hashes.delete(id);
    await this.blobs.removeUpload(id);
  }

  private async hashState(id: string, offset: number): Promise<SessionState> {
    const known = this.hashes.get(id);
    if (known && known.offset === offset) return known;
    const state = { hash: await this.hashOf(id, 'sha256'), offset };
    this.hashes.set(id, state);
    return state;
  }

  private async hashUpload(id: string, algorithm: 'sha256' | 'sha512'): Promise<string> {
    return (await this.hashOf(id, algorithm)).digest('hex');
  }

  private async hashOf(id: string, algorithm: 'sha256' | 'sha512'): Promise<Hash> {
    const hash = newHash(algorithm);
    for await (const chunk of this.blobs.readUpload(id)) hash.update(chunk as Buffer);
    return hash;
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
