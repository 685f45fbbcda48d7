// registry/memory-blob-store: the BlobStore port in memory, for tests (a registry without a disk). It
// keeps the same semantics as the filesystem store — re-committed content is refreshed, uploads are
// appended in order, a missing blob errors on its stream — so both pass one contract suite.
import { Readable } from 'node:stream';
import type { BlobStore } from './ports.ts';

interface Content {
  bytes: Buffer;
  modifiedAt: number;
}

export class MemoryBlobStore implements BlobStore {
  private readonly content = new Map<string, Content>();
  private readonly uploads = new Map<string, { chunks: Buffer[]; size: number; modifiedAt: number }>();

  /** `now` stamps writes (the filesystem store uses file mtimes) */
  constructor(private readonly now: () => number = () => Date.now()) {}

  async exists(digest: string): Promise<boolean> {
    return this.content.has(digest);
  }

  async stat(digest: string): Promise<{ size: number; modifiedAt: number } | undefined> {
    const c = this.content.get(digest);
    return c && { size: c.bytes.length, modifiedAt: c.modifiedAt };
  }

  read(digest: string, range?: { start: number; end: number }): Readable {
    const c = this.content.get(digest);
    if (!c) return failed(`no blob ${digest}`);
    return Readable.from([range ? c.bytes.subarray(range.start, range.end + 1) : c.bytes]);
  }

  async readAll(digest: string): Promise<Buffer> {
    const c = this.content.get(digest);
    if (!c) throw missing(`no blob ${digest}`);
    return c.bytes;
  }

  async write(digest: string, data: Buffer): Promise<void> {
    const c = this.content.get(digest);
    if (c) c.modifiedAt = this.now();
    else this.content.set(digest, { bytes: Buffer.from(data), modifiedAt: this.now() });
  }

  async deleteIfOlder(digest: string, cutoffMs: number): Promise<boolean> {
    const c = this.content.get(digest);
    if (!c || c.modifiedAt >= cutoffMs) return false;
    return this.content.delete(digest);
  }

  async *list(): AsyncIterable<{ digest: string; modifiedAt: number }> {
    for (const [digest, c] of [...this.content]) yield { digest, modifiedAt: c.modifiedAt };
  }

  async createUpload(id: string): Promise<void> {
    if (this.uploads.has(id)) throw new Error(`upload ${id} exists`);
    this.uploads.set(id, { chunks: [], size: 0, modifiedAt: this.now() });
  }

  async appendUpload(id: string, body: Readable, onChunk: (chunk: Buffer) => void): Promise<number> {
    const u = this.upload(id);
    let received = 0;
    for await (const chunk of body) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      onChunk(b);
      u.chunks.push(b);
      u.size += b.length;
      u.modifiedAt = this.now();
      received += b.length;
    }
    return received;
  }

  async uploadSize(id: string): Promise<number | undefined> {
    return this.uploads.get(id)?.size;
  }

  readUpload(id: string): Readable {
    const u = this.uploads.get(id);
    return u ? Readable.from([Buffer.concat(u.chunks)]) : failed(`no upload ${id}`);
  }

  async truncateUpload(id: string, size: number): Promise<void> {
    const u = this.upload(id);
    const bytes = Buffer.concat(u.chunks).subarray(0, size);
    u.chunks = [bytes];
    u.size = bytes.length;
  }

  async commitUpload(id: string, digest: string, committedAt: number): Promise<void> {
    const u = this.upload(id);
    this.uploads.delete(id);
    const c = this.content.get(digest);
    if (c) c.modifiedAt = committedAt;
    else this.content.set(digest, { bytes: Buffer.concat(u.chunks), modifiedAt: committedAt });
  }

  async removeUpload(id: string): Promise<void> {
    this.uploads.delete(id);
  }

  async listUploads(): Promise<Array<{ id: string; modifiedAt: number }>> {
    return [...this.uploads].map(([id, u]) => ({ id, modifiedAt: u.modifiedAt }));
  }

  private upload(id: string) {
    const u = this.uploads.get(id);
    if (!u) throw missing(`no upload ${id}`);
    return u;
  }
}

/** The error the filesystem store gives for an absent file, so callers handle both alike. */
function missing(message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code: 'ENOENT' });
}

function failed(message: string): Readable {
  return new Readable({
    read() {
      this.destroy(missing(message));
    },
  });
}
