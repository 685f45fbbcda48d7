// test/runtime/memory-images: images for runtime tests without a registry — an in-memory ManifestSource &
// BlobSource (the images module's ports, which the daemon serves from its registry) with the registry's
// error codes, and builders for FROM-scratch busybox images (Debian's busybox-static) made in-process.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { digestOf } from '../../src/core/digest.ts';
import { SkiffError } from '../../src/core/errors.ts';
import type { PinnedImage } from '../../src/core/service.ts';
import type { BlobSource, ManifestSource, StoredManifest } from '../../src/images/ports.ts';
import { tarOf, type TarEntry } from '../images/fixtures.ts';

const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const CONFIG_TYPE = 'application/vnd.oci.image.config.v1+json';
const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';

/** The `config` part of an OCI image config (Cmd, Entrypoint, Env, User, WorkingDir, …). */
export type ImageProcess = Record<string, unknown>;

export class MemoryImages implements ManifestSource, BlobSource {
  private readonly manifests = new Map<string, Map<string, StoredManifest>>();
  readonly blobs = new Map<string, Buffer>();

  /** Stores the blobs and manifest of an image of `layers` (uncompressed tars, base first). */
  add(repository: string, layers: Buffer[], process: ImageProcess, tag = 'latest'): PinnedImage {
    const layerDescs = layers.map((tar) => {
      const gz = gzipSync(tar);
      const digest = digestOf(gz);
      this.blobs.set(digest, gz);
      return { mediaType: LAYER_TYPE, digest, size: gz.length };
    });
    const config = Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux', config: process, rootfs: { type: 'layers', diff_ids: layers.map((l) => digestOf(l)) },
    }));
    const configDigest = digestOf(config);
    this.blobs.set(configDigest, config);
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST_TYPE, config: { mediaType: CONFIG_TYPE, digest: configDigest, size: config.length }, layers: layerDescs }));
    const stored = { digest: digestOf(bytes), mediaType: MANIFEST_TYPE, bytes };
    const repo = this.manifests.get(repository) ?? new Map<string, StoredManifest>();
    repo.set(tag, stored).set(stored.digest, stored);
    this.manifests.set(repository, repo);
    return { repository, digest: stored.digest };
  }

  /** Stores every image of an OCI image layout (index.json, blobs/<alg>/<hex>) as `repository`, each
   *  under its ref-name annotation too; returns the pinned images in index order. */
  addLayout(repository: string, dir: string): PinnedImage[] {
    const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; mediaType: string; annotations?: Record<string, string> }> };
    for (const alg of readdirSync(path.join(dir, 'blobs'))) {
      for (const hex of readdirSync(path.join(dir, 'blobs', alg))) this.blobs.set(`${alg}:${hex}`, readFileSync(path.join(dir, 'blobs', alg, hex)));
    }
    const repo = this.manifests.get(repository) ?? new Map<string, StoredManifest>();
    this.manifests.set(repository, repo);
    return index.manifests.map((d) => {
      const stored = { digest: d.digest, mediaType: d.mediaType, bytes: this.blobs.get(d.digest)! };
      repo.set(d.digest, stored);
      const tag = d.annotations?.['org.opencontainers.image.ref.name'];
      if (tag) repo.set(tag, stored);
      return { repository, digest: d.digest };
    });
  }

  /** A pinned image of a known repository whose digest was never pushed. */
  missing(repository: string): PinnedImage {
    return { repository, digest: digestOf(randomBytes(32)) };
  }

  async manifest(repo: string, reference: string): Promise<StoredManifest> {
    const r = this.manifests.get(repo);
    if (!r) throw new SkiffError('NAME_UNKNOWN', `repository ${repo} not known to registry`);
    const m = r.get(reference);
    if (!m) throw new SkiffError('MANIFEST_UNKNOWN', `manifest ${repo}:${reference} unknown`);
    return m;
  }

  async blob(digest: string): Promise<Buffer> {
    const b = this.blobs.get(digest);
    if (!b) throw new SkiffError('BLOB_UNKNOWN', `blob ${digest} unknown`);
    return b;
  }

  async open(digest: string): Promise<Readable> {
    return Readable.from([await this.blob(digest)]);
  }
}

const BUSYBOX = '/bin/busybox';
const cgi = (body: string) => `#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n${body}\n`;

/**
 * A FROM-scratch layer: /bin/busybox with a symlink per applet, root and app (1000:1000) in
 * /etc/passwd, /www/index.html, /www/cgi-bin/env (the environment, one KEY=VALUE a line) and
 * /www/cgi-bin/whoami (uid, gid, groups, cwd of httpd, hostname), /tmp.
 */
export async function busyboxLayer(): Promise<Buffer> {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} missing: install the Debian package busybox-static`);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a !== '' && a !== 'busybox');
  const entries: TarEntry[] = [
    { name: 'bin/', type: 'directory', mode: 0o755 },
    { name: 'bin/busybox', mode: 0o755, body: readFileSync(BUSYBOX) },
    ...applets.map((a): TarEntry => ({ name: `bin/${a}`, type: 'symlink', mode: 0o777, linkname: 'busybox' })),
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: 'etc/passwd', mode: 0o644, body: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' },
    { name: 'etc/group', mode: 0o644, body: 'root:x:0:\napp:x:1000:\n' },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
    { name: 'www/', type: 'directory', mode: 0o755 },
    { name: 'www/index.html', mode: 0o644, body: 'hello from skiff\n' },
    { name: 'www/cgi-bin/', type: 'directory', mode: 0o755 },
    { name: 'www/cgi-bin/env', mode: 0o755, body: cgi('env') },
    { name: 'www/cgi-bin/whoami', mode: 0o755, body: cgi('id -u; id -g; id -G; pwd; hostname') },
  ];
  return tarOf(entries);
}

/** A layer of one file with random content: an image no cache has seen. */
export function uniqueLayer(): Promise<Buffer> {
  return tarOf([{ name: 'unique.txt', mode: 0o644, body: randomBytes(16).toString('hex') }]);
}

/** The busybox image's default process: httpd on $PORT serving /www (CGI under /cgi-bin). */
export const HTTPD_PROCESS: ImageProcess = {
  Cmd: ['/bin/sh', '-c', 'exec httpd -f -p "$PORT" -h /www'],
  Env: ['PATH=/bin', 'GREETING=from-image', 'IMAGE_ONLY=kept'],
  WorkingDir: '/',
};
