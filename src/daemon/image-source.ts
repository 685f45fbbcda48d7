// daemon/image-source: the images module's ports (ManifestSource for manifests and configs, BlobSource
// for layers) served from Skiff's own registry, in process, without HTTP.
import type { Readable } from 'node:stream';
import { SkiffError } from '../core/errors.ts';
import type { BlobSource, ManifestSource, StoredManifest } from '../images/ports.ts';
import type { Registry } from '../registry/registry.ts';

export class RegistryImageSource implements ManifestSource, BlobSource {
  constructor(private readonly registry: Registry) {}

  async manifest(repo: string, reference: string): Promise<StoredManifest> {
    const row = this.registry.resolveManifest(repo, reference);
    return { digest: row.digest, mediaType: row.media_type, bytes: await this.registry.readManifest(row) };
  }

  async blob(digest: string): Promise<Buffer> {
    await this.mustExist(digest);
    return this.registry.blobs.readAll(digest);
  }

  async open(digest: string): Promise<Readable> {
    await this.mustExist(digest);
    return this.registry.readBlob(digest);
  }

  // A missing file would otherwise surface as a bare ENOENT from deep inside an unpack.
  private async mustExist(digest: string): Promise<void> {
    if (!(await this.registry.blobs.exists(digest))) {
      throw new SkiffError('BLOB_UNKNOWN', `blob ${digest} is missing from the registry's blob store (deleted, or damaged storage)`);
    }
  }
}
