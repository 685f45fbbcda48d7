// registry/ports: what the registry needs, declared here (go-containerregistry's pkg/registry shape:
// handlers over a small blob-store port and the metadata repository). Content bytes and upload bytes
// live behind BlobStore (fs-blob-store.ts on disk, memory-blob-store.ts for tests; both pass
// test/registry/blob-store-contract.ts); what is visible is the metadata's decision (store/).
import type { Readable } from 'node:stream';

export type { RegistryRepository } from '../core/repositories.ts';

export interface BlobStore {
  /** whether content with this digest is stored */
  exists(digest: string): Promise<boolean>;
  /** size and last (re-)commit time of stored content; undefined when absent */
  stat(digest: string): Promise<{ size: number; modifiedAt: number } | undefined>;
  /** the content, or a byte range of it (inclusive); a missing blob errors on the stream */
  read(digest: string, range?: { start: number; end: number }): Readable;
  readAll(digest: string): Promise<Buffer>;
  /** Stores small content (a manifest) durably under its digest. Content already there is kept and its
   *  modifiedAt refreshed: GC reads it to spare a blob a push has just committed again. */
  write(digest: string, data: Buffer): Promise<void>;
  /** Deletes content last (re-)committed before `cutoffMs`; false when it is younger or absent. */
  deleteIfOlder(digest: string, cutoffMs: number): Promise<boolean>;
  /** every stored digest (GC's sweep of content no metadata knows) */
  list(): AsyncIterable<{ digest: string; modifiedAt: number }>;

  /** A new, empty upload session's bytes. */
  createUpload(id: string): Promise<void>;
  /** Appends a request body to the upload, handing each chunk to `onChunk` as it goes (digests are
   *  computed while streaming); resolves with the bytes appended. After a failed body the upload holds
   *  a prefix of what arrived (uploadSize says how much). */
  appendUpload(id: string, body: Readable, onChunk: (chunk: Buffer) => void): Promise<number>;
  /** bytes uploaded so far (the truth for the offset); undefined when there is no such upload */
  uploadSize(id: string): Promise<number | undefined>;
  readUpload(id: string): Readable;
  /** Cuts the upload back to `size` bytes (a refused chunk). */
  truncateUpload(id: string, size: number): Promise<void>;
  /** Makes the upload's bytes durable and moves them under `digest`, stamped `committedAt`; when the
   *  content exists already it is refreshed and the upload dropped. */
  commitUpload(id: string, digest: string, committedAt: number): Promise<void>;
  removeUpload(id: string): Promise<void>;
  /** every upload with bytes, and when it was last written */
  listUploads(): Promise<Array<{ id: string; modifiedAt: number }>>;
}

/** Which names are projects (core/projects.ts repositoryProject needs it for every /v2 request): an
 *  answer from memory, kept by the daemon as projects are made and removed, never a query per blob. */
export interface ProjectNames {
  isProject(name: string): boolean;
}
