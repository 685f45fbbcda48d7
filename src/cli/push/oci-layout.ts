// cli/push/oci-layout: plans the push of an OCI image layout (directory or tar). The image is chosen
// from index.json by --ref (org.opencontainers.image.ref.name, or containerd's image name) or is
// the only one; an image index is pushed whole, its platform manifests before the index itself.
import { INDEX_MEDIA_TYPES } from '../../core/media-types.ts';
import { parseDigest } from '../../core/digest.ts';
import { mustFind, readSmall, readJson, type ImageSource } from './source.ts';
import { addBlob, archiveError, sha256, type PushPlan } from './plan.ts';

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';
const INDEX_TYPES = INDEX_MEDIA_TYPES;

export async function planOciLayout(src: ImageSource, ref: string | undefined): Promise<PushPlan> {
  const { json: index } = await readJson<{ manifests?: Descriptor[] }>(src, 'index.json');
  const all = Array.isArray(index.manifests) ? index.manifests : [];
  const refOf = (d: Descriptor) => d.annotations?.[REF_NAME] ?? d.annotations?.[CONTAINERD_NAME];
  const chosen = ref === undefined ? all : all.filter((d) => d.annotations?.[REF_NAME] === ref || d.annotations?.[CONTAINERD_NAME] === ref);
  if (chosen.length !== 1) {
    const names = all.map((d) => refOf(d) ?? d.digest).join(', ') || 'none';
    const why = ref === undefined ? `holds ${all.length} images (${names}); choose one with --ref` : `has no image named ${ref} (it has: ${names})`;
    throw archiveError(src, `index.json ${why}`);
  }
  const plan: PushPlan = { blobs: [], manifests: [] };
  await addManifest(src, plan, chosen[0]!, 0);
  return plan;
}

async function readBlob(src: ImageSource, d: Descriptor, what: string) {
  if (typeof d?.digest !== 'string' || !Number.isSafeInteger(d.size)) throw archiveError(src, `${what} has an invalid descriptor`);
  let algorithm: string, hex: string;
  try {
    ({ algorithm, hex } = parseDigest(d.digest));
  } catch {
    throw archiveError(src, `${what} has an invalid digest ${JSON.stringify(d.digest)}`);
  }
  const file = await mustFind(src, `blobs/${algorithm}/${hex}`);
  if (file.size !== d.size) throw archiveError(src, `${file.name} is ${file.size} bytes but ${what} says ${d.size}`);
  return file;
}

async function addManifest(src: ImageSource, plan: PushPlan, d: Descriptor, depth: number): Promise<void> {
  if (depth > 2) throw archiveError(src, 'image indexes are nested too deeply');
  const file = await readBlob(src, d, `manifest ${d.digest}`);
  const bytes = await readSmall(src, file);
  if (sha256(bytes) !== d.digest) throw archiveError(src, `${file.name} does not match its digest`);
  let doc: { mediaType?: string; manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw archiveError(src, `${file.name} is not valid JSON`);
  }
  const mediaType = doc.mediaType ?? d.mediaType ?? (Array.isArray(doc.manifests) ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json');
  if (INDEX_TYPES.has(mediaType)) {
    for (const child of doc.manifests ?? []) await addManifest(src, plan, child, depth + 1);
  } else {
    if (!doc.config || !Array.isArray(doc.layers)) throw archiveError(src, `${file.name} is not an image manifest`);
    const config = doc.config;
    addBlob(plan, { digest: config.digest, size: config.size, kind: 'config', file: await readBlob(src, config, 'config'), label: src.label });
    for (const [i, l] of doc.layers.entries()) {
      addBlob(plan, { digest: l.digest, size: l.size, kind: 'layer', file: await readBlob(src, l, `layer ${i}`), label: src.label });
    }
  }
  plan.manifests.push({ digest: d.digest, mediaType, bytes });
}
