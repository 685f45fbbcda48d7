// core/registry-records: the registry's metadata as records — what the store keeps and the registry
// reads. Bytes live in the registry's blob store; these records decide what is visible.

export interface BlobRecord {
  digest: string;
  size: number;
  createdAt: number;
  /** last upload, mount, check or reference: GC spares blobs touched within its grace window */
  touchedAt: number;
}

export interface ManifestRecord {
  repository: string;
  digest: string;
  mediaType: string;
  size: number;
  artifactType: string | null;
  /** digest of the manifest this one refers to (OCI referrers API) */
  subject: string | null;
  annotations: Record<string, string> | null;
  createdAt: number;
}

export interface UploadRecord {
  id: string;
  repository: string;
  createdAt: number;
  touchedAt: number;
}

/** A manifest to store, with what it references. */
export type NewManifest = Omit<ManifestRecord, 'createdAt'> & {
  /** blobs (config, layers) that must be linked in the repository */
  blobRefs: string[];
  /** child manifests (index entries) that must exist in the repository */
  manifestRefs: string[];
  tag: string | null;
};

export type PutManifestResult = { ok: true } | { ok: false; missing: string[] };
