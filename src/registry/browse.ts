// registry/browse: the registry as a list to look at — repositories, their tagged manifests with sizes
// and referrers — and deleting a tag or a manifest, for /api/v1/registry (the dashboard, which cannot
// reach /v2 with its session). Scoped exactly as /v2 is (project-access.ts): a project's caller sees
// and touches only its project's repositories; another project's is one that does not exist, with
// the very errors /v2 answers. Deleting goes through Registry.deleteManifest, as DELETE /v2/… does.
import { repositoryProject } from '../core/projects.ts';
import { assertRepositoryName } from '../core/names.ts';
import type { RegistryManifestView, RegistryRepositoryDetail, RegistryRepositoryView } from '../core/registry-views.ts';
import type { ProjectNames } from './ports.ts';
import { filteredCatalog, mayUseRepository } from './project-access.ts';
import { unknownManifest, unknownRepository, type Registry } from './registry.ts';

/** how many repositories a list and tags a repository read at most: a page, not a dump */
export const BROWSE_LIMIT = 1000;

export class RegistryBrowser {
  constructor(
    private readonly registry: Registry,
    private readonly projects: ProjectNames,
  ) {}

  /** the project a repository is part of (team-a/app: team-a; anything else: default) */
  projectOf(repo: string): string {
    return repositoryProject(repo, (n) => this.projects.isProject(n));
  }

  /** `tenant`: the caller's project, or '*' (every project). */
  async repositories(tenant: string): Promise<RegistryRepositoryView[]> {
    const names = await filteredCatalog((l, m) => this.registry.catalog(l, m), (repo) => mayUseRepository(tenant, repo, this.projects), '', BROWSE_LIMIT);
    const out: RegistryRepositoryView[] = [];
    for (const name of names) out.push({ name, project: this.projectOf(name), tags: (await this.registry.listTags(name, '', BROWSE_LIMIT).catch(() => [])).length });
    return out;
  }

  async repository(tenant: string, name: string): Promise<RegistryRepositoryDetail> {
    assertRepositoryName(name);
    if (!mayUseRepository(tenant, name, this.projects)) throw unknownRepository(name);
    const tags = await this.registry.listTags(name, '', BROWSE_LIMIT + 1);
    const truncated = tags.length > BROWSE_LIMIT;
    const byDigest = new Map<string, RegistryManifestView>();
    for (const tag of tags.slice(0, BROWSE_LIMIT)) {
      // a tag deleted between the list and this read is simply not shown
      const m = await this.registry.resolveManifest(name, tag).catch(() => undefined);
      if (!m) continue;
      const seen = byDigest.get(m.digest);
      if (seen) {
        seen.tags.push(tag);
        continue;
      }
      const view: RegistryManifestView = {
        digest: m.digest,
        mediaType: m.mediaType,
        ...(m.artifactType ? { artifactType: m.artifactType } : {}),
        size: m.size,
        tags: [tag],
        createdAt: new Date(m.createdAt).toISOString(),
        referrers: (await this.registry.referrers(name, m.digest, undefined)).map((r) => ({ digest: r.digest, mediaType: r.mediaType, size: r.size, ...(r.artifactType ? { artifactType: r.artifactType } : {}) })),
        ...(await this.contentOf(m.digest)),
      };
      byDigest.set(m.digest, view);
    }
    const manifests = [...byDigest.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.digest.localeCompare(b.digest));
    for (const m of manifests) m.tags.sort();
    return { name, project: this.projectOf(name), manifests, truncated };
  }

  /** Deletes a tag, or (a digest) a manifest with every tag pointing at it — DELETE /v2/NAME/manifests/REF. */
  async delete(tenant: string, name: string, reference: string): Promise<void> {
    assertRepositoryName(name);
    if (!mayUseRepository(tenant, name, this.projects)) throw unknownManifest(name, reference);
    await this.registry.deleteManifest(name, reference);
  }

  /** An image manifest's config + layers size, or an index's platforms; nothing when its bytes do not parse. */
  private async contentOf(digest: string): Promise<Pick<RegistryManifestView, 'contentSize' | 'platforms'>> {
    try {
      const doc = JSON.parse((await this.registry.readContent(digest)).toString('utf8')) as {
        config?: { size?: unknown };
        layers?: Array<{ size?: unknown }>;
        manifests?: Array<{ platform?: { os?: string; architecture?: string; variant?: string } }>;
      };
      if (Array.isArray(doc.manifests)) {
        return { platforms: doc.manifests.map((d) => (d.platform ? [d.platform.os, d.platform.architecture, d.platform.variant].filter(Boolean).join('/') : 'unknown')) };
      }
      const sizes = [doc.config?.size, ...(doc.layers ?? []).map((l) => l.size)].filter((s): s is number => typeof s === 'number');
      return { contentSize: sizes.reduce((a, b) => a + b, 0) };
    } catch {
      return {};
    }
  }
}

