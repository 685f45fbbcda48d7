// registry/gc: garbage collection that is safe while pushes run.
// 1. Sweep metadata: in one SQLite transaction, forget blobs that no manifest is or refers to and that
//    nobody uploaded, mounted, checked or referenced within the grace window. Manifest PUTs check their
//    references inside their own transaction, so a manifest and a sweep can never interleave.
// 2. Delete the files of those blobs, except a file whose mtime is inside the grace window: a push has
//    just re-committed that content (see BlobStore.refresh) and its new row must keep its bytes.
// 3. Delete files with no row at all (left by a crash between rename and commit), also after the grace window.
// 4. Expire idle upload sessions.
import { stat } from 'node:fs/promises';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { RegistryStore } from '../store/registry-store.ts';
import type { BlobStore } from './blob-store.ts';
import type { UploadManager } from './uploads.ts';

export interface GcResult {
  blobsDeleted: number;
  bytesFreed: number;
  orphanFilesDeleted: number;
  uploadsExpired: number;
}

export interface GcOptions {
  graceMs: number;
  uploadTtlMs: number;
}

export async function collectGarbage(
  deps: { store: RegistryStore; blobs: BlobStore; uploads: UploadManager; clock: Clock; log: Logger },
  opts: GcOptions,
): Promise<GcResult> {
  const now = deps.clock.now();
  const cutoff = now - opts.graceMs;
  const result: GcResult = { blobsDeleted: 0, bytesFreed: 0, orphanFilesDeleted: 0, uploadsExpired: 0 };

  for (const digest of deps.store.collectUnreferenced(cutoff)) {
    const size = await fileSize(deps.blobs.blobPath(digest));
    if (await deleteUnclaimed(deps, digest, cutoff)) {
      result.blobsDeleted++;
      result.bytesFreed += size;
    }
  }
  const known = deps.store.blobDigests();
  for await (const file of deps.blobs.listBlobFiles()) {
    if (known.has(file.digest) || file.mtimeMs >= cutoff) continue;
    const size = await fileSize(deps.blobs.blobPath(file.digest));
    if (await deleteUnclaimed(deps, file.digest, cutoff)) {
      result.orphanFilesDeleted++;
      result.bytesFreed += size;
    }
  }
  result.uploadsExpired = await deps.uploads.expire(now - opts.uploadTtlMs);
  deps.log.info({ ...result }, 'garbage collection finished');
  return result;
}

/**
 * Deletes a blob's file unless a row claims it again (a push re-committed the content since the sweep or
 * since `known` was read) or it is inside the grace window. Under the digest's lock, which commits also
 * hold from file to row, so the check and the delete cannot straddle a commit.
 */
async function deleteUnclaimed(deps: { store: RegistryStore; blobs: BlobStore }, digest: string, cutoff: number): Promise<boolean> {
  return deps.blobs.withDigestLock(digest, async () => !deps.store.getBlob(digest) && (await deps.blobs.deleteBlobFileIfOlder(digest, cutoff)));
}

async function fileSize(file: string): Promise<number> {
  return stat(file).then((s) => s.size, () => 0);
}
