// registry/registry: the registry's operations, independent of HTTP: manifests, tags, blobs, referrers, catalog.
import type { Readable } from 'node:stream';
import { SkiffError } from '../core/errors.ts';
import { digestOf } from '../core/digest.ts';
import type { Clock } from '../core/clock.ts';
import { parseReference, type Reference } from '../core/names.ts';
import type { BlobRecord, ManifestRecord } from '../core/registry-records.ts';
import type { BlobStore, RegistryRepository } from './ports.ts';
import type { DigestLocks } from './digest-locks.ts';
import { parseManifest, MEDIA } from './manifest.ts';

export interface Referrer {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export class Registry {
  constructor(
    private readonly metadata: RegistryRepository,
    private readonly blobs: BlobStore,
    private readonly locks: DigestLocks,
    private readonly clock: Clock,
    private readonly limits: { maxManifestBytes: number },
  ) {}

  get maxManifestBytes(): number {
    return this.limits.maxManifestBytes;
  }

  /** Resolves a tag or digest to the manifest, or NAME_UNKNOWN / MANIFEST_UNKNOWN. */
  async resolveManifest(repo: string, reference: string): Promise<ManifestRecord> {
    const ref = lookupReference(reference);
    const digest = !ref ? undefined : ref.kind === 'digest' ? ref.digest : await this.metadata.resolveTag(repo, ref.tag);
    const manifest = digest === undefined ? undefined : await this.metadata.getManifest(repo, digest);
    if (!manifest) {
      if (!(await this.metadata.repositoryExists(repo))) throw unknownRepository(repo);
      throw unknownManifest(repo, reference);
    }
    return manifest;
  }

  async readManifest(manifest: ManifestRecord): Promise<Buffer> {
    return this.readContent(manifest.digest);
  }

  /** Content the metadata says exists; a missing file is damaged storage, said as such. */
  async readContent(digest: string): Promise<Buffer> {
    try {
      return await this.blobs.readAll(digest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      throw new SkiffError('BLOB_UNKNOWN', `blob ${digest} is missing from the registry's blob store (deleted, or damaged storage)`, { cause: err });
    }
  }

  /** Whether the blob store holds the content (the metadata may know a blob whose bytes are gone). */
  hasContent(digest: string): Promise<boolean> {
    return this.blobs.exists(digest);
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
    const manifest = {
      repository: repo,
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
    const result = await this.locks.with(digest, async () => {
      await this.blobs.write(digest, bytes);
      return this.metadata.putManifest(manifest, this.clock.now());
    });
    if (!result.ok) {
      throw new SkiffError('MANIFEST_BLOB_UNKNOWN', `manifest references content unknown in ${repo}: ${result.missing.slice(0, 5).join(', ')}`, {
        detail: { missing: result.missing },
      });
    }
    return { digest, subject: parsed.subject };
  }

  /** Deletes a manifest by digest (and its tags), or only a tag. */
  async deleteManifest(repo: string, reference: string): Promise<void> {
    const ref = lookupReference(reference);
    const deleted = !ref ? false : ref.kind === 'digest' ? await this.metadata.deleteManifest(repo, ref.digest) : await this.metadata.deleteTag(repo, ref.tag);
    if (!deleted) throw unknownManifest(repo, reference);
  }

  /** A blob readable in `repo`; reading it counts as a use that protects it from GC for the grace window. */
  async statBlob(repo: string, digest: string): Promise<BlobRecord> {
    const blob = await this.metadata.linkedBlob(repo, digest, this.clock.now());
    if (!blob) throw unknownBlob(repo, digest);
    return blob;
  }

  readBlob(digest: string, range?: { start: number; end: number }): Readable {
    return this.blobs.read(digest, range);
  }

  async deleteBlob(repo: string, digest: string): Promise<void> {
    if (!(await this.metadata.unlinkBlob(repo, digest))) throw unknownBlob(repo, digest);
  }

  mountBlob(repo: string, from: string, digest: string): Promise<BlobRecord | undefined> {
    return this.metadata.mountBlob(repo, from, digest, this.clock.now());
  }

  async listTags(repo: string, last: string, limit: number): Promise<string[]> {
    if (!(await this.metadata.repositoryExists(repo))) throw unknownRepository(repo);
    return this.metadata.listTags(repo, last, limit);
  }

  catalog(last: string, limit: number): Promise<string[]> {
    return this.metadata.catalog(last, limit);
  }

  async referrers(repo: string, subject: string, artifactType: string | undefined): Promise<Referrer[]> {
    return (await this.metadata.referrers(repo, subject))
      .filter((m) => artifactType === undefined || m.artifactType === artifactType)
      .map((m) => ({
        mediaType: m.mediaType,
        digest: m.digest,
        size: m.size,
        ...(m.artifactType ? { artifactType: m.artifactType } : {}),
        ...(m.annotations ? { annotations: m.annotations } : {}),
      }));
  }
}

export const REFERRERS_MEDIA_TYPE = MEDIA.ociIndex;

// What a missing repository, manifest or blob answers, in one place: another project's repository
// answers with these very errors (http.ts, daemon/serving-adapters.ts), so it reads as one that does not exist.
export const unknownRepository = (repo: string) => new SkiffError('NAME_UNKNOWN', `repository ${repo} is not known`);
export const unknownManifest = (repo: string, reference: string) => new SkiffError('MANIFEST_UNKNOWN', `manifest ${reference} is unknown in ${repo}`);
export const unknownBlob = (repo: string, digest: string) => new SkiffError('BLOB_UNKNOWN', `blob ${digest} is unknown in ${repo}`);

/**
 * A reference to look up (GET, HEAD, DELETE): one that is not a valid tag or digest names no manifest,
 * so it is unknown — 404 MANIFEST_UNKNOWN, as CNCF distribution answers and conformance tooling
 * expects — not a 400. Only storing under one (PUT) rejects it as TAG_INVALID / DIGEST_INVALID.
 */
function lookupReference(reference: string): Reference | undefined {
  try {
    return parseReference(reference);
  } catch {
    return undefined;
  }
}
