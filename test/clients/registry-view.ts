// test/clients/registry-view: what the registry itself serves for a pushed image, read over plain HTTP
// and verified on the way (manifest bytes hash to the digest the registry claims, every blob hashes to
// its digest), so client tests compare clients against the registry's own answer.
import assert from 'node:assert/strict';
import { digestOf } from '../../src/core/digest.ts';
import { MANIFEST_TYPES } from '../../src/registry/manifest.ts';
import { v2, type RegistryTarget } from '../helpers/oci.ts';
import type { Descriptor, ManifestDoc } from './layout.ts';

const ACCEPT_ALL = [...MANIFEST_TYPES].join(', ');

export interface ServedManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  doc: ManifestDoc;
}

/** GETs a manifest by tag or digest and checks Docker-Content-Digest against the bytes. */
export async function servedManifest(reg: RegistryTarget, repo: string, reference: string): Promise<ServedManifest> {
  const res = await v2(reg, `/v2/${repo}/manifests/${reference}`, { headers: { accept: ACCEPT_ALL } });
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.equal(res.status, 200, `GET manifest ${repo}:${reference}: ${res.status} ${bytes.toString()}`);
  const digest = res.headers.get('docker-content-digest') ?? '';
  assert.equal(digestOf(bytes), digest, `manifest ${repo}:${reference} bytes do not hash to Docker-Content-Digest`);
  if (reference.startsWith('sha256:')) assert.equal(digest, reference);
  const doc = JSON.parse(bytes.toString()) as ManifestDoc;
  return { digest, mediaType: res.headers.get('content-type') ?? '', bytes, doc };
}

/** GETs a blob and returns its bytes after checking they hash to `desc.digest` and match its size. */
export async function servedBlob(reg: RegistryTarget, repo: string, desc: Pick<Descriptor, 'digest' | 'size'>): Promise<Buffer> {
  const res = await v2(reg, `/v2/${repo}/blobs/${desc.digest}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.equal(res.status, 200, `GET blob ${repo}@${desc.digest}: ${res.status}`);
  assert.equal(digestOf(bytes), desc.digest, `blob ${desc.digest} in ${repo} does not hash to its digest`);
  assert.equal(bytes.length, desc.size);
  return bytes;
}

/** Verifies an image manifest's config and layers are all served intact; returns the config document. */
export async function verifyImage(reg: RegistryTarget, repo: string, doc: ManifestDoc): Promise<{ rootfs: { diff_ids: string[] }; architecture: string }> {
  for (const layer of doc.layers) await servedBlob(reg, repo, layer);
  return JSON.parse((await servedBlob(reg, repo, doc.config)).toString()) as { rootfs: { diff_ids: string[] }; architecture: string };
}

export function digests(descs: Array<{ digest: string }>): string[] {
  return descs.map((d) => d.digest);
}
