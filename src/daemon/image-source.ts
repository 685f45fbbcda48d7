// daemon/image-source: the images module's ports (ManifestSource for manifests and configs, BlobSource
// for layers) served from Skiff's own registry, in process, without HTTP.
import type { Readable } from 'node:stream';
import { SkiffError } from '../core/errors.ts';
import type { BlobSource, ManifestSource, StoredManifest } from '../images/ports.ts';
import type { Registry } from '../registry/registry.ts';

export class RegistryImageSource implements ManifestSource, BlobSource {
  constructor(private readonly registry: Registry) {}

  async manifest(repo: string, reference: string): Promise<StoredManifest> {
    const manifest = await this.registry.resolveManifest(repo, reference);
    return { digest: manifest.digest, mediaType: manifest.mediaType, bytes: await this.registry.readManifest(manifest) };
  }

  blob(digest: string): Promise<Buffer> {
    return this.registry.readContent(digest);
  }

  async open(digest: string): Promise<Readable> {
    // A missing file would otherwise surface as a bare ENOENT from deep inside an unpack.
    if (!(await this.registry.hasContent(digest))) {
      throw new SkiffError('BLOB_UNKNOWN', `blob ${digest} is missing from the registry's blob store (deleted, or damaged storage)`);
    }
    return this.registry.readBlob(digest);
  }
}
