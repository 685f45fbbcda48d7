// registry/manifest: parses and validates a pushed manifest and extracts what the registry must know:
// the blobs and child manifests it references, its subject and artifactType (for the referrers API).
import { SkiffError } from '../core/errors.ts';
import { isDigest } from '../core/digest.ts';

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

const IMAGE_TYPES = new Set<string>([MEDIA.ociManifest, MEDIA.dockerManifest]);
const INDEX_TYPES = new Set<string>([MEDIA.ociIndex, MEDIA.dockerList]);
export const MANIFEST_TYPES: ReadonlySet<string> = new Set([...IMAGE_TYPES, ...INDEX_TYPES]);

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { architecture?: string; os?: string; variant?: string };
}

export interface ParsedManifest {
  mediaType: string;
  kind: 'image' | 'index';
  blobRefs: string[];
  manifestRefs: string[];
  subject: string | null;
  artifactType: string | null;
  annotations: Record<string, string> | null;
}

function invalid(message: string): SkiffError {
  return new SkiffError('MANIFEST_INVALID', message);
}

function descriptor(value: unknown, where: string): Descriptor {
  if (value === null || typeof value !== 'object') throw invalid(`${where}: descriptor must be an object`);
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== 'string' || d.mediaType === '') throw invalid(`${where}: mediaType must be a non-empty string`);
  if (typeof d.digest !== 'string' || !isDigest(d.digest)) throw invalid(`${where}: digest is missing or invalid`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw invalid(`${where}: size must be a non-negative integer`);
  if (d.urls !== undefined && !(Array.isArray(d.urls) && d.urls.every((u) => typeof u === 'string'))) throw invalid(`${where}: urls must be strings`);
  return d as unknown as Descriptor;
}

function stringMap(value: unknown, where: string): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw invalid(`${where}: annotations must be a map of strings`);
  }
  return value as Record<string, string>;
}

/**
 * Parses manifest bytes. `contentType` is the request's Content-Type; when the body also names a
 * mediaType, the two must agree.
 */
export function parseManifest(bytes: Buffer, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw invalid('manifest must be a JSON object');
  const m = doc as Record<string, unknown>;
  const header = contentType?.split(';')[0]?.trim();
  const bodyType = typeof m.mediaType === 'string' ? m.mediaType : undefined;
  if (header === MEDIA.dockerSchema1 || header === MEDIA.dockerSchema1Signed || m.schemaVersion === 1) {
    throw invalid('Docker schema 1 manifests are not supported; push with a current client (schema 2 or OCI)');
  }
  if (m.schemaVersion !== 2) throw invalid('schemaVersion must be 2');
  if (bodyType && header && MANIFEST_TYPES.has(header) && bodyType !== header) {
    throw invalid(`mediaType ${bodyType} in the body does not match Content-Type ${header}`);
  }
  // OCI manifests may omit mediaType in the body; then Content-Type names it, else the shape decides.
  const mediaType =
    bodyType ?? (header && MANIFEST_TYPES.has(header) ? header : Array.isArray(m.manifests) ? MEDIA.ociIndex : MEDIA.ociManifest);
  if (!MANIFEST_TYPES.has(mediaType)) throw invalid(`unsupported manifest media type ${mediaType}`);

  const subject = m.subject === undefined ? null : descriptor(m.subject, 'subject').digest;
  const annotations = stringMap(m.annotations, 'annotations');
  if (m.artifactType !== undefined && typeof m.artifactType !== 'string') throw invalid('artifactType must be a string');

  if (IMAGE_TYPES.has(mediaType)) {
    const config = descriptor(m.config, 'config');
    if (!Array.isArray(m.layers)) throw invalid('layers must be an array');
    const layers = m.layers.map((l, i) => descriptor(l, `layers[${i}]`));
    // Foreign (non-distributable) layers live elsewhere, named by their urls; they are not required here.
    const local = layers.filter((l) => !(l.urls?.length && (l.mediaType === MEDIA.dockerForeignLayer || l.mediaType.includes('nondistributable'))));
    return {
      mediaType,
      kind: 'image',
      blobRefs: unique([config.digest, ...local.map((l) => l.digest)]),
      manifestRefs: [],
      subject,
      artifactType: (m.artifactType as string | undefined) ?? config.mediaType,
      annotations,
    };
  }
  if (!Array.isArray(m.manifests)) throw invalid('manifests must be an array');
  const children = m.manifests.map((c, i) => descriptor(c, `manifests[${i}]`));
  return {
    mediaType,
    kind: 'index',
    blobRefs: [],
    manifestRefs: unique(children.map((c) => c.digest)),
    subject,
    artifactType: (m.artifactType as string | undefined) ?? null,
    annotations,
  };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** True when an Accept header admits `mediaType` (absent or wildcard Accept admits everything). */
export function accepts(acceptHeaders: string | string[] | undefined, mediaType: string): boolean {
  const values = (Array.isArray(acceptHeaders) ? acceptHeaders : [acceptHeaders ?? ''])
    .flatMap((h) => h.split(','))
    .map((v) => v.split(';')[0]!.trim())
    .filter((v) => v !== '');
  if (values.length === 0) return true;
  return values.some((v) => v === mediaType || v === '*/*' || v === 'application/*');
}
