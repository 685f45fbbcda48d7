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
    if (await deps.blobs.deleteBlobFileIfOlder(digest, cutoff)) {
      result.blobsDeleted++;
      result.bytesFreed += size;
    }
  }
  const known = deps.store.blobDigests();
  for await (const file of deps.blobs.listBlobFiles()) {
    if (known.has(file.digest) || file.mtimeMs >= cutoff) continue;
    const size = await fileSize(deps.blobs.blobPath(file.digest));
    // Re-check under the cutoff rule: the row may have appeared since `known` was read.
    if (!deps.store.getBlob(file.digest) && (await deps.blobs.deleteBlobFileIfOlder(file.digest, cutoff))) {
      result.orphanFilesDeleted++;
      result.bytesFreed += size;
    }
  }
  result.uploadsExpired = await deps.uploads.expire(now - opts.uploadTtlMs);
  deps.log.info({ ...result }, 'garbage collection finished');
  return result;
}

async function fileSize(file: string): Promise<number> {
  return stat(file).then((s) => s.size, () => 0);
}
