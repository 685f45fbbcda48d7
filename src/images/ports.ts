// images/ports: what the images module needs from the outside world, declared by the consumer.
// The daemon plugs the registry's blob store in; tests plug in a map of buffers. Must not import
// src/registry (see the module table in DESIGN.md).
import type { Readable } from 'node:stream';

/** Content-addressed bytes: a readable stream of the blob exactly as pushed (compressed layer bytes). */
export interface BlobSource {
  open(digest: string): Promise<Readable>;
}

/** A manifest exactly as stored: `bytes` hash to `digest`. */
export interface StoredManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

/** Manifests by repository and tag/digest, and small blobs (image configs) read whole. */
export interface ManifestSource {
  /** Throws NAME_UNKNOWN / MANIFEST_UNKNOWN when absent. */
  manifest(repo: string, reference: string): Promise<StoredManifest>;
  /** Throws BLOB_UNKNOWN when absent. */
  blob(digest: string): Promise<Buffer>;
}
