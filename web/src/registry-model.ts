// web/registry-model: what the Registry page shows of GET /api/v1/registry/repositories[/{repo}], the
// API paths it calls (a repository name is one path segment, its slashes encoded), and the words of
// the delete confirmation — pure, tested in test/web/registry-model.test.ts.
import type { RegistryManifestView, RegistryRepositoryView } from '../../src/core/registry-views.ts';
import { formatBytes, formatTime } from './resources-model.ts';

export const REGISTRY_API = '/api/v1/registry/repositories';

/** the API path of a repository: `team-a/app` → …/team-a%2Fapp (one segment; the daemon decodes it) */
export function repositoryPath(name: string): string {
  return `${REGISTRY_API}/${encodeURIComponent(name)}`;
}

/** what deleting `reference` calls: a tag, or a digest (sha256:…), which takes its tags with it */
export function deletePath(repository: string, reference: string): string {
  const kind = reference.includes(':') ? 'manifests' : 'tags';
  return `${repositoryPath(repository)}/${kind}/${encodeURIComponent(reference)}`;
}

/** "sha256:0123456789ab" — enough to tell digests apart on screen; the full one is in a title/copy */
export function shortDigest(digest: string): string {
  const [alg, hex] = digest.split(':');
  return hex ? `${alg}:${hex.slice(0, 12)}` : digest;
}

export interface RepositoryRow {
  name: string;
  project: string;
  tags: number;
  haystack: string;
}

export function repositoryRow(r: RegistryRepositoryView): RepositoryRow {
  return { name: r.name, project: r.project, tags: r.tags, haystack: `${r.name}\n${r.project}`.toLowerCase() };
}

export interface ManifestRow {
  digest: string;
  short: string;
  tags: string[];
  /** "image, 2.3 MiB" or "index: linux/amd64, linux/arm64" or an artifact type */
  kind: string;
  size: string;
  pushed: string;
  referrers: Array<{ digest: string; short: string; what: string; size: string }>;
  haystack: string;
}

/** an image's config media types: the registry reports a manifest's config type as its artifactType
 *  (OCI 1.1), so an ordinary image carries one of these and is not an artifact */
const IMAGE_CONFIGS = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);

export function manifestRow(m: RegistryManifestView): ManifestRow {
  const artifact = m.artifactType && !IMAGE_CONFIGS.has(m.artifactType) ? m.artifactType : undefined;
  const kind = m.platforms ? `index: ${m.platforms.join(', ') || 'no platforms'}` : artifact ? `artifact ${artifact}` : 'image';
  return {
    digest: m.digest,
    short: shortDigest(m.digest),
    tags: m.tags,
    kind,
    size: m.contentSize !== undefined ? formatBytes(m.contentSize) : `${formatBytes(m.size)} (manifest)`,
    pushed: formatTime(m.createdAt),
    referrers: m.referrers.map((r) => ({ digest: r.digest, short: shortDigest(r.digest), what: r.artifactType ?? r.mediaType, size: formatBytes(r.size) })),
    haystack: [m.digest, ...m.tags, kind].join('\n').toLowerCase(),
  };
}

/** What is about to be deleted, said before the user confirms (a digest takes every tag with it). */
export function confirmText(repository: string, reference: string, tagsOfDigest: string[] = []): string {
  if (!reference.includes(':')) return `Delete tag ${repository}:${reference}? The image stays under its digest and any other tag.`;
  const tags = tagsOfDigest.length ? ` and its ${tagsOfDigest.length === 1 ? 'tag' : 'tags'} ${tagsOfDigest.join(', ')}` : '';
  return `Delete manifest ${repository}@${shortDigest(reference)}${tags}? Services already running it keep running; its layers go at the next garbage collection.`;
}
