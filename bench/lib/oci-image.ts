// bench/lib/oci-image: writes a multi-layer OCI image layout of incompressible random data for registry
// benchmarks. Each layer is a tar holding one random file, gzip'd at level 1 (random bytes do not shrink,
// so the gzip is only there because registry clients expect compressed layers and would otherwise
// compress on push, measuring the client's gzip instead of the registry). The layout is cached by size:
// a complete layout is renamed into place, and reused as is by later runs.
import { createWriteStream, existsSync, promises as fsp } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { createGzip } from 'node:zlib';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

const MiB = 1024 * 1024;
/** Share of the total size per layer: a few big layers and a tail of small ones, like a real image. */
const LAYER_SHARES = [0.3, 0.22, 0.16, 0.12, 0.1, 0.06, 0.03, 0.01];

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface BenchImage {
  layoutDir: string;
  /** Bytes a push or pull moves: layers + config + manifest. */
  totalBytes: number;
  layers: number;
}

export async function ensureBenchImage(cacheDir: string, sizeMiB: number): Promise<BenchImage> {
  const layoutDir = path.join(cacheDir, `image-${sizeMiB}mib`);
  if (!existsSync(path.join(layoutDir, 'index.json'))) {
    // Built aside and renamed into place, so two runs building the same cache at once cannot mix files.
    const tmp = `${layoutDir}.tmp-${process.pid}`;
    await buildLayout(tmp, sizeMiB);
    await fsp.rename(tmp, layoutDir).catch(() => fsp.rm(tmp, { recursive: true, force: true }));
  }
  const index = JSON.parse(await fsp.readFile(path.join(layoutDir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const manifestDesc = index.manifests[0]!;
  const manifest = JSON.parse(await fsp.readFile(blobFile(layoutDir, manifestDesc.digest), 'utf8')) as { config: Descriptor; layers: Descriptor[] };
  const totalBytes = manifestDesc.size + manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
  return { layoutDir, totalBytes, layers: manifest.layers.length };
}

async function buildLayout(layoutDir: string, sizeMiB: number): Promise<void> {
  await fsp.mkdir(path.join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const [i, share] of LAYER_SHARES.entries()) {
    const bytes = Math.max(4096, Math.round(sizeMiB * MiB * share));
    const { desc, diffId } = await writeLayer(layoutDir, `layer-${i}.bin`, bytes);
    layers.push(desc);
    diffIds.push(diffId);
  }
  const config = await writeJsonBlob(layoutDir, 'application/vnd.oci.image.config.v1+json', {
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/layer-0.bin'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
  });
  const manifest = await writeJsonBlob(layoutDir, 'application/vnd.oci.image.manifest.v1+json', {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config,
    layers,
  });
  await fsp.writeFile(path.join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await fsp.writeFile(
    path.join(layoutDir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'bench' } }] }),
  );
}

async function writeLayer(layoutDir: string, name: string, bytes: number): Promise<{ desc: Descriptor; diffId: string }> {
  const pack = tar.pack();
  const entry = pack.entry({ name, size: bytes, mode: 0o755, mtime: new Date(0) }, (err) => (err ? pack.destroy(err) : pack.finalize()));
  Readable.from(randomChunks(bytes)).pipe(entry);
  const tarHash = createHash('sha256');
  const gzHash = createHash('sha256');
  let gzSize = 0;
  const tmp = path.join(layoutDir, `${name}.tmp`);
  await pipeline(pack, tap((c) => tarHash.update(c)), createGzip({ level: 1 }), tap((c) => { gzHash.update(c); gzSize += c.length; }), createWriteStream(tmp));
  const digest = `sha256:${gzHash.digest('hex')}`;
  await fsp.rename(tmp, blobFile(layoutDir, digest));
  return { desc: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size: gzSize }, diffId: `sha256:${tarHash.digest('hex')}` };
}

function* randomChunks(total: number): Generator<Buffer> {
  for (let left = total; left > 0; left -= MiB) yield randomBytes(Math.min(MiB, left));
}

function tap(fn: (chunk: Buffer) => void): Transform {
  return new Transform({ transform(chunk: Buffer, _enc, cb) { fn(chunk); cb(null, chunk); } });
}

async function writeJsonBlob(layoutDir: string, mediaType: string, value: unknown): Promise<Descriptor> {
  const data = Buffer.from(JSON.stringify(value));
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  await fsp.writeFile(blobFile(layoutDir, digest), data);
  return { mediaType, digest, size: data.length };
}

function blobFile(layoutDir: string, digest: string): string {
  return path.join(layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length));
}
