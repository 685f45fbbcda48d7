// store/registry-repository: registry metadata (repositories, blobs and their links, manifests and
// what they reference, tags, upload sessions) on either dialect. Blob and manifest bytes live in the
// registry's blob store; these rows decide what is visible. A manifest write checks its references in
// the same transaction a GC sweep deletes in (docs/registry.md), so a sweep can never take a blob that
// an accepted manifest refers to.
import { sql } from 'kysely';
import type { BlobRecord, ManifestRecord, NewManifest, PutManifestResult, UploadRecord } from '../core/registry-records.ts';
import type { BlobsTable, Db, ManifestsTable, UploadsTable } from './database.ts';
import type { RegistryRepository } from './repositories.ts';
import type { Transactor } from './transaction.ts';

/** bound on the values of one IN (…) list: SQLite allows 32766 parameters, PostgreSQL 65535 */
const CHUNK = 1000;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

function toBlob(r: BlobsTable): BlobRecord {
  return { digest: r.digest, size: r.size, createdAt: r.created_at, touchedAt: r.touched_at };
}

function toManifest(r: ManifestsTable): ManifestRecord {
  return {
    repository: r.repo,
    digest: r.digest,
    mediaType: r.media_type,
    size: r.size,
    artifactType: r.artifact_type,
    subject: r.subject,
    annotations: r.annotations === null ? null : (JSON.parse(r.annotations) as Record<string, string>),
    createdAt: r.created_at,
  };
}

function toUpload(r: UploadsTable): UploadRecord {
  return { id: r.id, repository: r.repo, createdAt: r.created_at, touchedAt: r.touched_at };
}

async function ensureRepo(db: Db, repository: string, now: number): Promise<void> {
  await db.insertInto('repositories').values({ name: repository, created_at: now }).onConflict((oc) => oc.column('name').doNothing()).execute();
}

async function link(db: Db, repository: string, digest: string): Promise<void> {
  await db.insertInto('repo_blobs').values({ repo: repository, digest }).onConflict((oc) => oc.columns(['repo', 'digest']).doNothing()).execute();
}

async function touch(db: Db, digests: readonly string[], now: number): Promise<void> {
  for (const part of chunks(digests)) await db.updateTable('blobs').set({ touched_at: now }).where('digest', 'in', part).execute();
}

/** Which of `digests` are linked in `repository` / are manifests of it: one query per kind, not per reference. */
async function present(db: Db, table: 'repo_blobs' | 'manifests', repository: string, digests: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const part of chunks([...new Set(digests)])) {
    const rows = await db.selectFrom(table).select('digest').where('repo', '=', repository).where('digest', 'in', part).execute();
    for (const r of rows) found.add(r.digest);
  }
  return found;
}

export class KyselyRegistryRepository implements RegistryRepository {
  constructor(
    private readonly db: Db,
    private readonly tx: Transactor,
  ) {}

  ensureRepository(repository: string, now: number): Promise<void> {
    return ensureRepo(this.db, repository, now);
  }

  async repositoryExists(repository: string): Promise<boolean> {
    return (await this.db.selectFrom('repositories').select('name').where('name', '=', repository).executeTakeFirst()) !== undefined;
  }

  async getBlob(digest: string): Promise<BlobRecord | undefined> {
    const r = await this.db.selectFrom('blobs').selectAll().where('digest', '=', digest).executeTakeFirst();
    return r && toBlob(r);
  }

  commitBlob(repository: string, digest: string, size: number, now: number): Promise<void> {
    return this.tx.write(async (db) => {
      await ensureRepo(db, repository, now);
      await db
        .insertInto('blobs')
        .values({ digest, size, created_at: now, touched_at: now })
        .onConflict((oc) => oc.column('digest').doUpdateSet((eb) => ({ touched_at: eb.ref('excluded.touched_at') })))
        .execute();
      await link(db, repository, digest);
    });
  }

  mountBlob(repository: string, from: string, digest: string, now: number): Promise<BlobRecord | undefined> {
    return this.tx.write(async (db) => {
      const blob = await db.selectFrom('blobs').selectAll().where('digest', '=', digest).executeTakeFirst();
      if (!blob || !(await present(db, 'repo_blobs', from, [digest])).has(digest)) return undefined;
      await ensureRepo(db, repository, now);
      await link(db, repository, digest);
      await touch(db, [digest], now);
      return toBlob({ ...blob, touched_at: now });
    });
  }

  async linkedBlob(repository: string, digest: string, now?: number): Promise<BlobRecord | undefined> {
    // One statement either way, so the check and the touch cannot be split by a concurrent sweep.
    if (now === undefined) {
      const r = await this.db
        .selectFrom('blobs')
        .innerJoin('repo_blobs', 'repo_blobs.digest', 'blobs.digest')
        .selectAll('blobs')
        .where('repo_blobs.repo', '=', repository)
        .where('blobs.digest', '=', digest)
        .executeTakeFirst();
      return r && toBlob(r);
    }
    const r = await this.db
      .updateTable('blobs')
      .set({ touched_at: now })
      .where('digest', '=', digest)
      .where((eb) => eb.exists(eb.selectFrom('repo_blobs').select('repo_blobs.digest').where('repo_blobs.repo', '=', repository).where('repo_blobs.digest', '=', digest)))
      .returningAll()
      .executeTakeFirst();
    return r && toBlob(r);
  }

  async unlinkBlob(repository: string, digest: string): Promise<boolean> {
    const r = await this.db.deleteFrom('repo_blobs').where('repo', '=', repository).where('digest', '=', digest).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  async getManifest(repository: string, digest: string): Promise<ManifestRecord | undefined> {
    const r = await this.db.selectFrom('manifests').selectAll().where('repo', '=', repository).where('digest', '=', digest).executeTakeFirst();
    return r && toManifest(r);
  }

  async resolveTag(repository: string, tag: string): Promise<string | undefined> {
    const r = await this.db.selectFrom('tags').select('digest').where('repo', '=', repository).where('tag', '=', tag).executeTakeFirst();
    return r?.digest;
  }

  putManifest(m: NewManifest, now: number): Promise<PutManifestResult> {
    return this.tx.write(async (db): Promise<PutManifestResult> => {
      const linked = await present(db, 'repo_blobs', m.repository, m.blobRefs);
      const manifests = await present(db, 'manifests', m.repository, m.manifestRefs);
      const missing = [...m.blobRefs.filter((d) => !linked.has(d)), ...m.manifestRefs.filter((d) => !manifests.has(d))];
      if (missing.length > 0) return { ok: false, missing };
      await ensureRepo(db, m.repository, now);
      // the manifest's own bytes are a blob too (served by digest, protected from GC by this row)
      await db
        .insertInto('blobs')
        .values({ digest: m.digest, size: m.size, created_at: now, touched_at: now })
        .onConflict((oc) => oc.column('digest').doUpdateSet((eb) => ({ touched_at: eb.ref('excluded.touched_at') })))
        .execute();
      // content-addressed: a manifest pushed again is the same manifest; its first record stays
      await db
        .insertInto('manifests')
        .values({
          repo: m.repository,
          digest: m.digest,
          media_type: m.mediaType,
          size: m.size,
          artifact_type: m.artifactType,
          subject: m.subject,
          annotations: m.annotations ? JSON.stringify(m.annotations) : null,
          created_at: now,
        })
        .onConflict((oc) => oc.columns(['repo', 'digest']).doNothing())
        .execute();
      const refs = [...new Set([...m.blobRefs, ...m.manifestRefs])];
      for (const part of chunks(refs)) {
        await db
          .insertInto('manifest_refs')
          .values(part.map((ref) => ({ repo: m.repository, manifest: m.digest, ref })))
          .onConflict((oc) => oc.columns(['repo', 'manifest', 'ref']).doNothing())
          .execute();
      }
      await touch(db, refs, now);
      if (m.tag !== null) {
        await db
          .insertInto('tags')
          .values({ repo: m.repository, tag: m.tag, digest: m.digest, updated_at: now })
          .onConflict((oc) => oc.columns(['repo', 'tag']).doUpdateSet((eb) => ({ digest: eb.ref('excluded.digest'), updated_at: eb.ref('excluded.updated_at') })))
          .execute();
      }
      return { ok: true };
    });
  }

  deleteManifest(repository: string, digest: string): Promise<boolean> {
    return this.tx.write(async (db) => {
      const r = await db.deleteFrom('manifests').where('repo', '=', repository).where('digest', '=', digest).executeTakeFirst();
      if (r.numDeletedRows === 0n) return false;
      await db.deleteFrom('tags').where('repo', '=', repository).where('digest', '=', digest).execute();
      await db.deleteFrom('manifest_refs').where('repo', '=', repository).where('manifest', '=', digest).execute();
      return true;
    });
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    const r = await this.db.deleteFrom('tags').where('repo', '=', repository).where('tag', '=', tag).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  async listTags(repository: string, last: string, limit: number): Promise<string[]> {
    const rows = await this.db.selectFrom('tags').select('tag').where('repo', '=', repository).where('tag', '>', last).orderBy('tag').limit(limit).execute();
    return rows.map((r) => r.tag);
  }

  async catalog(last: string, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('repositories as r')
      .select('r.name')
      .where('r.name', '>', last)
      .where((eb) =>
        eb.or([
          eb.exists(eb.selectFrom('manifests as m').select(sql.lit(1).as('one')).whereRef('m.repo', '=', 'r.name')),
          eb.exists(eb.selectFrom('repo_blobs as b').select(sql.lit(1).as('one')).whereRef('b.repo', '=', 'r.name')),
        ]),
      )
      .orderBy('r.name')
      .limit(limit)
      .execute();
    return rows.map((r) => r.name);
  }

  async referrers(repository: string, subject: string): Promise<ManifestRecord[]> {
    const rows = await this.db.selectFrom('manifests').selectAll().where('repo', '=', repository).where('subject', '=', subject).orderBy('digest').execute();
    return rows.map(toManifest);
  }

  createUpload(id: string, repository: string, now: number): Promise<void> {
    return this.tx.write(async (db) => {
      await ensureRepo(db, repository, now);
      await db.insertInto('uploads').values({ id, repo: repository, created_at: now, touched_at: now }).execute();
    });
  }

  async getUpload(id: string): Promise<UploadRecord | undefined> {
    const r = await this.db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toUpload(r);
  }

  async touchUpload(id: string, now: number): Promise<void> {
    await this.db.updateTable('uploads').set({ touched_at: now }).where('id', '=', id).execute();
  }

  async deleteUpload(id: string): Promise<void> {
    await this.db.deleteFrom('uploads').where('id', '=', id).execute();
  }

  async staleUploads(touchedBefore: number): Promise<UploadRecord[]> {
    const rows = await this.db.selectFrom('uploads').selectAll().where('touched_at', '<', touchedBefore).orderBy('touched_at').orderBy('id').execute();
    return rows.map(toUpload);
  }

  async uploadIds(): Promise<Set<string>> {
    return new Set((await this.db.selectFrom('uploads').select('id').execute()).map((r) => r.id));
  }

  async blobDigests(): Promise<Set<string>> {
    return new Set((await this.db.selectFrom('blobs').select('digest').execute()).map((r) => r.digest));
  }

  collectUnreferenced(touchedBefore: number): Promise<string[]> {
    return this.tx.write(async (db) => {
      const rows = await db
        .selectFrom('blobs as b')
        .select('b.digest')
        .where('b.touched_at', '<', touchedBefore)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('manifests as m').select(sql.lit(1).as('one')).whereRef('m.digest', '=', 'b.digest'))))
        .where((eb) => eb.not(eb.exists(eb.selectFrom('manifest_refs as r').select(sql.lit(1).as('one')).whereRef('r.ref', '=', 'b.digest'))))
        .orderBy('b.digest')
        .execute();
      const victims = rows.map((r) => r.digest);
      for (const part of chunks(victims)) {
        await db.deleteFrom('repo_blobs').where('digest', 'in', part).execute();
        await db.deleteFrom('blobs').where('digest', 'in', part).execute();
      }
      return victims;
    });
  }
}
