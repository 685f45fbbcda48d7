// test/clients/layout: writes OCI image layouts (image-spec "oci-layout" directories) for real clients
// to push: images of random gzip'd tar layers, and indexes over them. Reading a layout back (what a
// client pulled) goes through readLayoutRef(), so tests compare digests, not client output text.
//
// <dir>/
//   oci-layout                 {"imageLayoutVersion":"1.0.0"}
//   index.json                 one descriptor per tag (annotation org.opencontainers.image.ref.name)
//   blobs/sha256/<hex>         manifests, configs, layers
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { digestOf } from '../../src/core/digest.ts';
import { MEDIA } from '../../src/registry/manifest.ts';

const REF_NAME = 'org.opencontainers.image.ref.name';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string };
  annotations?: Record<string, string>;
}

export interface LayoutImage {
  descriptor: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  /** sha256 of each uncompressed layer tar, as the config's rootfs.diff_ids lists them. */
  diffIds: string[];
}

export class OciLayout {
  private readonly refs: Descriptor[] = [];

  constructor(readonly dir: string) {
    mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    this.save();
  }

  addBlob(bytes: Buffer, mediaType: string): Descriptor {
    const digest = digestOf(bytes);
    writeFileSync(path.join(this.dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), bytes);
    return { mediaType, digest, size: bytes.length };
  }

  /** An image of `layerCount` layers, each one random file of `layerSize` bytes. */
  async addImage(opts: { architecture?: string; layerCount?: number; layerSize?: number } = {}): Promise<LayoutImage> {
    const architecture = opts.architecture ?? 'amd64';
    const layers: Descriptor[] = [];
    const diffIds: string[] = [];
    for (let i = 0; i < (opts.layerCount ?? 2); i++) {
      const tarBytes = await tarOf(`layer${i}-${randomBytes(4).toString('hex')}.bin`, randomBytes(opts.layerSize ?? 4096));
      diffIds.push(digestOf(tarBytes));
      layers.push(this.addBlob(gzipSync(tarBytes), 'application/vnd.oci.image.layer.v1.tar+gzip'));
    }
    const configDoc = {
      architecture,
      os: 'linux',
      config: { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: layers.map(() => ({ created_by: 'skiff test layout' })),
    };
    const config = this.addBlob(Buffer.from(JSON.stringify(configDoc)), 'application/vnd.oci.image.config.v1+json');
    const manifest = { schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers };
    const descriptor = { ...this.addBlob(Buffer.from(JSON.stringify(manifest)), MEDIA.ociManifest), platform: { architecture, os: 'linux' } };
    return { descriptor, config, layers, diffIds };
  }

  addIndex(images: LayoutImage[]): Descriptor {
    const index = { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: images.map((i) => i.descriptor) };
    return this.addBlob(Buffer.from(JSON.stringify(index)), MEDIA.ociIndex);
  }

  /** Names `descriptor` `ref` in index.json, so clients can address it as oci:<dir>:<ref>. */
  tag(ref: string, descriptor: Descriptor): void {
    const { platform: _platform, ...plain } = descriptor;
    this.refs.push({ ...plain, annotations: { [REF_NAME]: ref } });
    this.save();
  }

  private save(): void {
    writeFileSync(path.join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: this.refs }));
  }
}

/** The descriptor a layout names `ref` (or its only entry), and the bytes of that manifest. */
export function readLayoutRef(dir: string, ref?: string): { descriptor: Descriptor; bytes: Buffer; doc: ManifestDoc } {
  const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const matches = index.manifests.filter((d) => ref === undefined || d.annotations?.[REF_NAME] === ref);
  if (matches.length !== 1) throw new Error(`layout ${dir} has ${matches.length} entries named ${ref ?? '(any)'}`);
  const descriptor = matches[0]!;
  const bytes = readLayoutBlob(dir, descriptor.digest);
  return { descriptor, bytes, doc: JSON.parse(bytes.toString()) as ManifestDoc };
}

export function readLayoutBlob(dir: string, digest: string): Buffer {
  return readFileSync(path.join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)));
}

export interface ManifestDoc {
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  manifests: Descriptor[];
}

async function tarOf(name: string, content: Buffer): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name, size: content.length, mode: 0o644, mtime: new Date(0) }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
