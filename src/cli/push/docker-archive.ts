// cli/push/docker-archive: plans the push of a legacy docker archive (`docker save` before 25,
// `skopeo copy ... docker-archive:`, `podman save --format docker-archive`): manifest.json names the
// config and layer files; Skiff writes the registry manifest itself.
//
// Manifest format: an OCI image manifest with gzip layers (`application/vnd.oci.image.layer.v1.tar+gzip`).
// - Docker schema 2 has no uncompressed layer type that `docker pull` accepts, so layers get gzipped.
// - Uncompressed OCI layers would be valid for docker/podman, but `skopeo copy docker://… oci:`
//   recompresses them, so the layer digests would not come back as pushed.
// - With OCI + gzip, skopeo/podman/docker pull the blobs as they are, and `skopeo copy … oci:` keeps
//   even the manifest digest (a Docker schema 2 manifest would be converted to OCI there).
// The config goes up byte for byte: its digest is the sha256 of the config file.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { mustFind, readJson, type ImageSource, type SourceFile } from './source.ts';
import { addBlob, archiveError, sha256, type PushPlan } from './plan.ts';
import { gzipLayer } from './gzip-layer.ts';
import { runBounded } from './bounded.ts';

interface ArchiveEntry {
  Config?: string;
  RepoTags?: string[] | null;
  Layers?: string[];
}

const LAYER_TYPES = { gzip: 'application/vnd.oci.image.layer.v1.tar+gzip', zstd: 'application/vnd.oci.image.layer.v1.tar+zstd' };

export async function planDockerArchive(src: ImageSource, ref: string | undefined): Promise<PushPlan> {
  const { json } = await readJson<ArchiveEntry[]>(src, 'manifest.json');
  const all = Array.isArray(json) ? json : [];
  const chosen = ref === undefined ? all : all.filter((e) => e.RepoTags?.includes(ref));
  if (chosen.length !== 1) {
    const names = all.map((e) => e.RepoTags?.join(' ') || e.Config).join(', ') || 'none';
    const why = ref === undefined ? `holds ${all.length} images (${names}); choose one with --ref` : `has no image tagged ${ref} (it has: ${names})`;
    throw archiveError(src, `manifest.json ${why}`);
  }
  const entry = chosen[0]!;
  if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers)) throw archiveError(src, 'manifest.json entry lacks Config or Layers');

  const { bytes: configBytes, json: config } = await readJson<{ rootfs?: { diff_ids?: unknown[] } }>(src, entry.Config);
  const configFile = await mustFind(src, entry.Config);
  const layerFiles = await Promise.all(entry.Layers.map((name) => mustFind(src, name)));

  const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'skiff-push-'));
  const dispose = () => rm(tmpDir, { recursive: true, force: true });
  try {
    const layers: Array<{ mediaType: string; digest: string; size: number; file: SourceFile }> = [];
    // Two at a time: gzip is CPU-bound, and more parallelism than cores only adds memory.
    await runBounded([...layerFiles.keys()], 2, async (i) => {
      const file = layerFiles[i]!;
      const compression = await sniffCompression(file);
      if (compression !== 'none') {
        layers[i] = { mediaType: LAYER_TYPES[compression], digest: await hashFile(file), size: file.size, file };
        return;
      }
      const diffId = config.rootfs?.diff_ids?.[i];
      const gz = await gzipLayer(src, file, typeof diffId === 'string' ? diffId : undefined, tmpDir, i);
      layers[i] = { mediaType: LAYER_TYPES.gzip, digest: gz.digest, size: gz.file.size, file: gz.file };
    });
    const plan: PushPlan = { blobs: [], manifests: [], dispose };
    addBlob(plan, { digest: sha256(configBytes), size: configBytes.length, kind: 'config', file: configFile, label: src.label });
    for (const l of layers) addBlob(plan, { digest: l.digest, size: l.size, kind: 'layer', file: l.file, label: src.label });
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(configBytes), size: configBytes.length },
      layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    plan.manifests.push({ digest: sha256(bytes), mediaType: manifest.mediaType, bytes });
    return plan;
  } catch (err) {
    await dispose();
    throw err;
  }
}

async function sniffCompression(file: SourceFile): Promise<'none' | keyof typeof LAYER_TYPES> {
  if (file.size < 4) return 'none';
  const head: Buffer[] = [];
  for await (const c of file.open(0, 3)) head.push(c as Buffer);
  const b = Buffer.concat(head);
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

async function hashFile(file: SourceFile): Promise<string> {
  const h = createHash('sha256');
  for await (const c of file.open()) h.update(c as Buffer);
  return `sha256:${h.digest('hex')}`;
}
