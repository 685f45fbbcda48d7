// images/ports: what the images module needs from the outside world, declared by the consumer.
// The daemon plugs the registry's blob store in; tests plug in a map of buffers. Must not import
// src/registry (see the module table in DESIGN.md).
import type { Readable } from 'node:stream';

/** Content-addressed bytes: a readable stream of the blob exactly as pushed (compressed layer bytes). */
export interface BlobSource {
  open(digest: string): Promise<Readable>;
}
