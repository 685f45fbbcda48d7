// registry/registry: the registry's operations, independent of HTTP: manifests, tags, blobs, referrers, catalog.
import type { Readable } from 'node:stream';
import { SkiffError } from '../core/errors.ts';
import { digestOf } from '../core/digest.ts';
import type { Clock } from '../core/clock.ts';
import { parseReference } from '../core/names.ts';
import type { RegistryStore, ManifestRow, BlobRow } from '../store/registry-store.ts';
import type { BlobStore } from './blob-store.ts';
import { parseManifest, MEDIA } from './manifest.ts';

export interface StoredManifest {
  digest: string;
  mediaType: string;
  size: number;
  bytes: Buffer;
}

export interface Referrer {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export class Registry {
  constructor(
    readonly store: RegistryStore,
    readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly limits: { maxManifestBytes: number },
  ) {}

  get maxManifestBytes(): number {
    return this.limits.maxManifestBytes;
  }

  /** Resolves a tag or digest to the manifest row, or MANIFEST_UNKNOWN. */
  resolveManifest(repo: string, reference: string): ManifestRow {
    const ref = parseReference(reference);
    const digest = ref.kind === 'digest' ? ref.digest : this.store.resolveTag(repo, ref.tag);
    const row = digest === undefined ? undefined : this.store.getManifest(repo, digest);
    if (!row) {
      if (!this.store.repoExists(repo)) throw new SkiffError('NAME_UNKNOWN', `repository ${repo} is not known`);
      throw new SkiffError('MANIFEST_UNKNOWN', `manifest ${reference} is unknown in ${repo}`);
    }
    return row;
  }

  async readManifest(row: ManifestRow): Promise<Buffer> {
    return this.blobs.readAll(row.digest);
  }

  /**
   * Stores a manifest byte-exact under its digest and, when `reference` is a tag, points the tag at it.
   * Its bytes are durable before the metadata transaction makes it visible.
   */
  async putManifest(repo: string, reference: string, bytes: Buffer, contentType: string | undefined): Promise<{ digest: string; subject: string | null }> {
    if (bytes.length > this.limits.maxManifestBytes) {
      throw new SkiffError('PAYLOAD_TOO_LARGE', `manifest is ${bytes.length} bytes; the limit is ${this.limits.maxManifestBytes}`);
    }
    const ref = parseReference(reference);
    const parsed = parseManifest(bytes, contentType);
    const digest = ref.kind === 'digest' && !ref.digest.startsWith('sha256:') ? digestOf(bytes, 'sha512') : digestOf(bytes);
    if (ref.kind === 'digest' && ref.digest !== digest) {
      throw new SkiffError('DIGEST_INVALID', `manifest digest is ${digest}, not ${ref.digest}`);
    }
    const row = {
      repo,
      digest,
      mediaType: parsed.mediaType,
      size: bytes.length,
      artifactType: parsed.artifactType,
      subject: parsed.subject,
      annotations: parsed.annotations,
      blobRefs: parsed.blobRefs,
      manifestRefs: parsed.manifestRefs,
      tag: ref.kind === 'tag' ? ref.tag : null,
    };
    const result = await this.blobs.withDigestLock(digest, async () => {
      await this.blobs.writeBlob(digest, bytes);
      return this.store.putManifest(row, this.clock.now());
    });
    if (!result.ok) {
      throw new SkiffError('MANIFEST_BLOB_UNKNOWN', `manifest references content unknown in ${repo}: ${result.missing.slice(0, 5).join(', ')}`, {
        detail: { missing: result.missing },
      });
    }
    return { digest, subject: parsed.subject };
  }

  /** Deletes a manifest by digest (and its tags), or only a tag. */
  deleteManifest(repo: string, reference: string): void {
    const ref = parseReference(reference);
    const deleted = ref.kind === 'digest' ? this.store.deleteManifest(repo, ref.digest) : this.store.deleteTag(repo, ref.tag);
    if (!deleted) throw new SkiffError('MANIFEST_UNKNOWN', `manifest ${reference} is unknown in ${repo}`);
  }

  /** A blob readable in `repo`; reading it counts as a use that protects it from GC for the grace window. */
  statBlob(repo: string, digest: string): BlobRow {
    const blob = this.store.linkedBlob(repo, digest, this.clock.now());
    if (!blob) throw new SkiffError('BLOB_UNKNOWN', `blob ${digest} is unknown in ${repo}`);
    return blob;
  }

  readBlob(digest: string, range?: { start: number; end: number }): Readable {
    return this.blobs.read(digest, range);
  }

  deleteBlob(repo: string, digest: string): void {
    if (!this.store.unlinkBlob(repo, digest)) throw new SkiffError('BLOB_UNKNOWN', `blob ${digest} is unknown in ${repo}`);
  }

  mountBlob(repo: string, from: string, digest: string): BlobRow | undefined {
    return this.store.mountBlob(repo, from, digest, this.clock.now());
  }

  listTags(repo: string, last: string, limit: number): string[] {
    if (!this.store.repoExists(repo)) throw new SkiffError('NAME_UNKNOWN', `repository ${repo} is not known`);
    return this.store.listTags(repo, last, limit);
  }

  catalog(last: string, limit: number): string[] {
    return this.store.catalog(last, limit);
  }

  referrers(repo: string, subject: string, artifactType: string | undefined): Referrer[] {
    return this.store
      .referrers(repo, subject)
      .filter((m) => artifactType === undefined || m.artifact_type === artifactType)
      .map((m) => ({
        mediaType: m.media_type,
        digest: m.digest,
        size: m.size,
        ...(m.artifact_type ? { artifactType: m.artifact_type } : {}),
        ...(m.annotations ? { annotations: JSON.parse(m.annotations) as Record<string, string> } : {}),
      }));
  }
}

export const REFERRERS_MEDIA_TYPE = MEDIA.ociIndex;
