// store/registry-store: typed access to registry metadata (repositories, blobs, manifests, tags, uploads).
// Blob and manifest bytes live in the blob store on disk; this table set decides what is visible.
// Manifest writes check their references inside the same transaction GC uses, so a collection can
// never delete a blob that a manifest being written refers to.
import type { Db } from './sqlite.ts';

export interface BlobRow {
  digest: string;
  size: number;
  created_at: number;
  touched_at: number;
}

export interface ManifestRow {
  repo: string;
  digest: string;
  media_type: string;
  size: number;
  artifact_type: string | null;
  subject: string | null;
  annotations: string | null;
  created_at: number;
}

export interface UploadRow {
  id: string;
  repo: string;
  created_at: number;
  touched_at: number;
}

export interface NewManifest {
  repo: string;
  digest: string;
  mediaType: string;
  size: number;
  artifactType: string | null;
  subject: string | null;
  annotations: Record<string, string> | null;
  /** Blobs (config, layers) that must be linked in the repository. */
  blobRefs: string[];
  /** Child manifests (index entries) that must exist in the repository. */
  manifestRefs: string[];
  tag: string | null;
}

export type PutManifestResult = { ok: true } | { ok: false; missing: string[] };

export class RegistryStore {
  private readonly s;

  constructor(private readonly db: Db) {
    this.s = {
      ensureRepo: db.prepare('INSERT OR IGNORE INTO repositories (name, created_at) VALUES (?, ?)'),
      getBlob: db.prepare<[string], BlobRow>('SELECT * FROM blobs WHERE digest = ?'),
      putBlob: db.prepare(
        `INSERT INTO blobs (digest, size, created_at, touched_at) VALUES (@digest, @size, @now, @now)
         ON CONFLICT(digest) DO UPDATE SET touched_at = excluded.touched_at`,
      ),
      touchBlob: db.prepare('UPDATE blobs SET touched_at = ? WHERE digest = ?'),
      link: db.prepare('INSERT OR IGNORE INTO repo_blobs (repo, digest) VALUES (?, ?)'),
      isLinked: db.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM repo_blobs WHERE repo = ? AND digest = ?'),
      unlink: db.prepare('DELETE FROM repo_blobs WHERE repo = ? AND digest = ?'),
      getManifest: db.prepare<[string, string], ManifestRow>('SELECT * FROM manifests WHERE repo = ? AND digest = ?'),
      insertManifest: db.prepare(
        `INSERT OR IGNORE INTO manifests (repo, digest, media_type, size, artifact_type, subject, annotations, created_at)
         VALUES (@repo, @digest, @mediaType, @size, @artifactType, @subject, @annotations, @now)`,
      ),
      insertRef: db.prepare('INSERT OR IGNORE INTO manifest_refs (repo, manifest, ref) VALUES (?, ?, ?)'),
      putTag: db.prepare(
        `INSERT INTO tags (repo, tag, digest, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(repo, tag) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at`,
      ),
      resolveTag: db.prepare<[string, string], { digest: string }>('SELECT digest FROM tags WHERE repo = ? AND tag = ?'),
      deleteTag: db.prepare('DELETE FROM tags WHERE repo = ? AND tag = ?'),
      deleteTagsOf: db.prepare('DELETE FROM tags WHERE repo = ? AND digest = ?'),
      deleteManifest: db.prepare('DELETE FROM manifests WHERE repo = ? AND digest = ?'),
      deleteRefsOf: db.prepare('DELETE FROM manifest_refs WHERE repo = ? AND manifest = ?'),
      listTags: db.prepare<[string, string, number], { tag: string }>(
        'SELECT tag FROM tags WHERE repo = ? AND tag > ? ORDER BY tag LIMIT ?',
      ),
      repoExists: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM repositories WHERE name = ?'),
      catalog: db.prepare<[string, number], { name: string }>(
        `SELECT name FROM repositories r WHERE name > ?
           AND (EXISTS (SELECT 1 FROM manifests m WHERE m.repo = r.name) OR EXISTS (SELECT 1 FROM repo_blobs b WHERE b.repo = r.name))
         ORDER BY name LIMIT ?`,
      ),
      referrers: db.prepare<[string, string], ManifestRow>('SELECT * FROM manifests WHERE repo = ? AND subject = ? ORDER BY digest'),
      createUpload: db.prepare('INSERT INTO uploads (id, repo, created_at, touched_at) VALUES (?, ?, ?, ?)'),
      getUpload: db.prepare<[string], UploadRow>('SELECT * FROM uploads WHERE id = ?'),
      touchUpload: db.prepare('UPDATE uploads SET touched_at = ? WHERE id = ?'),
      deleteUpload: db.prepare('DELETE FROM uploads WHERE id = ?'),
      staleUploads: db.prepare<[number], UploadRow>('SELECT * FROM uploads WHERE touched_at < ?'),
      allUploadIds: db.prepare<[], { id: string }>('SELECT id FROM uploads'),
      unreferencedBlobs: db.prepare<[number], { digest: string }>(
        `SELECT digest FROM blobs b WHERE touched_at < ?
           AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.digest = b.digest)
           AND NOT EXISTS (SELECT 1 FROM manifest_refs r WHERE r.ref = b.digest)`,
      ),
      unlinkAll: db.prepare('DELETE FROM repo_blobs WHERE digest = ?'),
      deleteBlob: db.prepare('DELETE FROM blobs WHERE digest = ?'),
      allBlobDigests: db.prepare<[], { digest: string }>('SELECT digest FROM blobs'),
    };
  }

  ensureRepo(repo: string, now: number): void {
    this.s.ensureRepo.run(repo, now);
  }

  getBlob(digest: string): BlobRow | undefined {
    return this.s.getBlob.get(digest);
  }

  /** Records a blob whose bytes are durably in the blob store, and links it into `repo`. */
  commitBlob(repo: string, digest: string, size: number, now: number): void {
    this.db.transaction(() => {
      this.s.ensureRepo.run(repo, now);
      this.s.putBlob.run({ digest, size, now });
      this.s.link.run(repo, digest);
    })();
  }

  /** Cross-repository mount: links an existing blob into `repo`. False when the blob is not readable in `from`. */
  mountBlob(repo: string, from: string, digest: string, now: number): BlobRow | undefined {
    return this.db.transaction(() => {
      const blob = this.s.getBlob.get(digest);
      if (!blob || !this.s.isLinked.get(from, digest)) return undefined;
      this.s.ensureRepo.run(repo, now);
      this.s.link.run(repo, digest);
      this.s.touchBlob.run(now, digest);
      return blob;
    })();
  }

  /** The blob if it is readable in `repo`. Touching it protects it from GC while a push that skipped it finishes. */
  linkedBlob(repo: string, digest: string, now?: number): BlobRow | undefined {
    if (!this.s.isLinked.get(repo, digest)) return undefined;
    if (now !== undefined) this.s.touchBlob.run(now, digest);
    return this.s.getBlob.get(digest);
  }

  unlinkBlob(repo: string, digest: string): boolean {
    return this.s.unlink.run(repo, digest).changes > 0;
  }

  getManifest(repo: string, digest: string): ManifestRow | undefined {
    return this.s.getManifest.get(repo, digest);
  }

  resolveTag(repo: string, tag: string): string | undefined {
    return this.s.resolveTag.get(repo, tag)?.digest;
  }

  /** Stores a manifest whose bytes are already a blob; all references are checked in the same transaction. */
  putManifest(m: NewManifest, now: number): PutManifestResult {
    return this.db.transaction((): PutManifestResult => {
      const missing = [
        ...m.blobRefs.filter((d) => !this.s.isLinked.get(m.repo, d)),
        ...m.manifestRefs.filter((d) => !this.s.getManifest.get(m.repo, d)),
      ];
      if (missing.length > 0) return { ok: false, missing };
      this.s.ensureRepo.run(m.repo, now);
      this.s.putBlob.run({ digest: m.digest, size: m.size, now });
      this.s.insertManifest.run({
        repo: m.repo,
        digest: m.digest,
        mediaType: m.mediaType,
        size: m.size,
        artifactType: m.artifactType,
        subject: m.subject,
        annotations: m.annotations ? JSON.stringify(m.annotations) : null,
        now,
      });
      for (const ref of [...m.blobRefs, ...m.manifestRefs]) {
        this.s.insertRef.run(m.repo, m.digest, ref);
        this.s.touchBlob.run(now, ref);
      }
      if (m.tag !== null) this.s.putTag.run(m.repo, m.tag, m.digest, now);
      return { ok: true };
    })();
  }

  /** Deletes a manifest and every tag pointing at it. False when it did not exist. */
  deleteManifest(repo: string, digest: string): boolean {
    return this.db.transaction(() => {
      const deleted = this.s.deleteManifest.run(repo, digest).changes > 0;
      if (deleted) {
        this.s.deleteTagsOf.run(repo, digest);
        this.s.deleteRefsOf.run(repo, digest);
      }
      return deleted;
    })();
  }

  deleteTag(repo: string, tag: string): boolean {
    return this.s.deleteTag.run(repo, tag).changes > 0;
  }

  repoExists(repo: string): boolean {
    return this.s.repoExists.get(repo) !== undefined;
  }

  listTags(repo: string, last: string, limit: number): string[] {
    return this.s.listTags.all(repo, last, limit).map((r) => r.tag);
  }

  catalog(last: string, limit: number): string[] {
    return this.s.catalog.all(last, limit).map((r) => r.name);
  }

  referrers(repo: string, subject: string): ManifestRow[] {
    return this.s.referrers.all(repo, subject);
  }

  createUpload(id: string, repo: string, now: number): void {
    this.db.transaction(() => {
      this.s.ensureRepo.run(repo, now);
      this.s.createUpload.run(id, repo, now, now);
    })();
  }

  getUpload(id: string): UploadRow | undefined {
    return this.s.getUpload.get(id);
  }

  touchUpload(id: string, now: number): void {
    this.s.touchUpload.run(now, id);
  }

  deleteUpload(id: string): void {
    this.s.deleteUpload.run(id);
  }

  staleUploads(touchedBefore: number): UploadRow[] {
    return this.s.staleUploads.all(touchedBefore);
  }

  uploadIds(): Set<string> {
    return new Set(this.s.allUploadIds.all().map((r) => r.id));
  }

  blobDigests(): Set<string> {
    return new Set(this.s.allBlobDigests.all().map((r) => r.digest));
  }

  /**
   * Sweep phase of GC: in one transaction, finds blobs no manifest is or refers to and that were not
   * touched since `touchedBefore`, and forgets them. The caller then deletes their files.
   */
  collectUnreferenced(touchedBefore: number): string[] {
    return this.db.transaction(() => {
      const victims = this.s.unreferencedBlobs.all(touchedBefore).map((r) => r.digest);
      for (const d of victims) {
        this.s.unlinkAll.run(d);
        this.s.deleteBlob.run(d);
      }
      return victims;
    })();
  }
}
