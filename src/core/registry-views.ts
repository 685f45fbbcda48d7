// core/registry-views: what GET /api/v1/registry/repositories[/{repository}] answers — the registry
// as the dashboard and `SkiffClient` browse it (the /v2 API is for image tools; the dashboard's
// session cookie reaches /api/v1 only). Shaped by registry/browse.ts, sent by api/registry-browse-routes.ts.

/** One repository the caller may use (its project's; a token spanning every project: all). */
export interface RegistryRepositoryView {
  name: string;
  /** the project it belongs to (`team-a/app` is team-a's; a name under no project's is default's) */
  project: string;
  /** how many tags it has (at most the listing limit, see `truncated` on the repository) */
  tags: number;
}

/** An artifact referring to a manifest (OCI referrers: a signature, an SBOM, an attestation). */
export interface RegistryReferrerView {
  digest: string;
  mediaType: string;
  /** the referrer manifest's own size in bytes */
  size: number;
  artifactType?: string;
}

/** A tagged manifest of a repository: one entry per digest, with every tag pointing at it. */
export interface RegistryManifestView {
  digest: string;
  mediaType: string;
  artifactType?: string;
  /** the manifest's own size in bytes */
  size: number;
  /** an image manifest: its config and layers, in bytes (what a pull downloads at most); absent for an index */
  contentSize?: number;
  /** an index: its manifests' platforms ("linux/amd64"), in order */
  platforms?: string[];
  /** tags pointing at it, sorted */
  tags: string[];
  /** ISO time it was pushed */
  createdAt: string;
  referrers: RegistryReferrerView[];
}

export interface RegistryRepositoryDetail {
  name: string;
  project: string;
  /** newest first */
  manifests: RegistryManifestView[];
  /** more tags than the listing reads (it shows the first ones in order) */
  truncated: boolean;
}
