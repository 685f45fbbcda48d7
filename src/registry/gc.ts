// registry/gc: garbage collection that is safe while pushes run.
// 1. Sweep metadata: in one transaction, forget blobs that no manifest is or refers to and that
//    nobody uploaded, mounted, checked or referenced within the grace window. Manifest PUTs check their
//    references inside their own transaction, so a manifest and a sweep can never interleave.
// 2. Delete the bytes of those blobs, except content re-committed inside the grace window: a push has
//    just committed it again (BlobStore.write/commitUpload refresh it) and its new record must keep them.
// 3. Delete content with no record at all (left by a crash between commit and record), also after the grace window.
// 4. Expire idle upload sessions.
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { GcResult } from '../core/views.ts';
import type { BlobStore, RegistryRepository } from './ports.ts';
import type { DigestLocks } from './digest-locks.ts';
import type { UploadManager } from './uploads.ts';

export interface GcOptions {
  graceMs: number;
  uploadTtlMs: number;
}

export interface GcDeps {
  metadata: RegistryRepository;
  blobs: BlobStore;
  locks: DigestLocks;
  uploads: UploadManager;
  clock: Clock;
  log: Logger;
}

export async function collectGarbage(deps: GcDeps, opts: GcOptions): Promise<GcResult> {
  const now = deps.clock.now();
  const cutoff = now - opts.graceMs;
  const result: GcResult = { blobsDeleted: 0, bytesFreed: 0, orphanFilesDeleted: 0, uploadsExpired: 0, graceSeconds: Math.round(opts.graceMs / 1000) };

  for (const digest of await deps.metadata.collectUnreferenced(cutoff)) {
    const freed = await deleteUnclaimed(deps, digest, cutoff);
    if (freed !== undefined) {
      result.blobsDeleted++;
      result.bytesFreed += freed;
    }
  }
  const known = await deps.metadata.blobDigests();
  for await (const content of deps.blobs.list()) {
    if (known.has(content.digest) || content.modifiedAt >= cutoff) continue;
    const freed = await deleteUnclaimed(deps, content.digest, cutoff);
    if (freed !== undefined) {
      result.orphanFilesDeleted++;
      result.bytesFreed += freed;
    }
  }
  result.uploadsExpired = await deps.uploads.expire(now - opts.uploadTtlMs);
  deps.log.info({ ...result }, 'garbage collection finished');
  return result;
}

/**
 * Deletes a blob's bytes unless a record claims it again (a push re-committed the content since the
 * sweep or since `known` was read) or it is inside the grace window; resolves with the bytes freed,
 * undefined when nothing was deleted. Under the digest's lock, which commits also hold from bytes to
 * record, so the check and the delete cannot straddle a commit.
 */
async function deleteUnclaimed(deps: GcDeps, digest: string, cutoff: number): Promise<number | undefined> {
  return deps.locks.with(digest, async () => {
    if (await deps.metadata.getBlob(digest)) return undefined;
    const size = (await deps.blobs.stat(digest))?.size ?? 0;
    return (await deps.blobs.deleteIfOlder(digest, cutoff)) ? size : undefined;
  });
}
