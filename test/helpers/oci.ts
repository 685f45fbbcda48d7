// test/helpers/oci: a tiny OCI distribution client for tests against a startTestDaemon() registry:
// authenticated /v2 requests, blob and manifest pushes, random images, and OCI error-body checks.
// Helpers that push assert success themselves; tests of failures call v2() and expectOciError().
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { digestOf } from '../../src/core/digest.ts';
import { MEDIA } from '../../src/registry/manifest.ts';

export { MEDIA };

/** What the helpers need of a registry; a TestDaemon is one. */
export interface RegistryTarget {
  url: string;
  token: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  [extra: string]: unknown;
}

export interface TestImage {
  digest: string;
  /** The manifest bytes exactly as pushed. */
  bytes: Buffer;
  config: Descriptor;
  layers: Descriptor[];
  /** The manifest's own descriptor, for indexes and referrers' subjects. */
  descriptor: Descriptor;
}

export const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const CONFIG_TYPE = 'application/vnd.oci.image.config.v1+json';

/** A repository name no other test uses. */
export function uniqueRepo(prefix = 'test'): string {
  return `${prefix}/r${randomBytes(5).toString('hex')}`;
}

export function randomBlob(size: number): Buffer {
  return randomBytes(size);
}

/**
 * A request to `reg` at `path` (e.g. `/v2/a/b/tags/list`) with the token as Bearer, unless `auth` is
 * given: null sends no Authorization header, a string is sent as the whole header value.
 */
export function v2(
  reg: RegistryTarget,
  path: string,
  init: Omit<RequestInit, 'body'> & { body?: BodyInit | Uint8Array | null; auth?: string | null } = {},
): Promise<Response> {
  const { auth, ...rest } = init;
  const headers = new Headers(rest.headers);
  const authorization = auth === undefined ? `Bearer ${reg.token}` : auth;
  if (authorization !== null && !headers.has('authorization')) headers.set('authorization', authorization);
  // Node's Buffer is a Uint8Array that fetch accepts; only its declared type needs the cast.
  return fetch(reg.url + path, { ...rest, body: rest.body as BodyInit | null | undefined, headers, redirect: 'manual' });
}

/** Pushes `data` as one monolithic upload (POST ?digest=) and returns its descriptor. */
export async function pushBlob(reg: RegistryTarget, repo: string, data: Buffer | string, mediaType = LAYER_TYPE): Promise<Descriptor> {
  const bytes = Buffer.from(data);
  const digest = digestOf(bytes);
  const res = await v2(reg, `/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: bytes });
  assert.equal(res.status, 201, `pushBlob ${repo}: ${res.status} ${await res.text()}`);
  return { mediaType, digest, size: bytes.length };
}

/**
 * PUTs a manifest (an object is serialized with JSON.stringify; a Buffer or string is sent byte-exact)
 * and returns its digest and bytes. Throws unless the registry answered 201.
 */
export async function putManifest(
  reg: RegistryTarget,
  repo: string,
  reference: string,
  manifest: object | Buffer | string,
  mediaType: string = mediaTypeOf(manifest) ?? MEDIA.ociManifest,
): Promise<{ digest: string; bytes: Buffer; response: Response }> {
  const bytes = manifestBytes(manifest);
  const response = await v2(reg, `/v2/${repo}/manifests/${reference}`, { method: 'PUT', body: bytes, headers: { 'content-type': mediaType } });
  assert.equal(response.status, 201, `putManifest ${repo}:${reference}: ${response.status} ${await response.clone().text()}`);
  const digest = digestOf(bytes);
  assert.equal(response.headers.get('docker-content-digest'), digest);
  return { digest, bytes, response };
}

export function manifestBytes(manifest: object | Buffer | string): Buffer {
  return Buffer.isBuffer(manifest) ? manifest : Buffer.from(typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
}

function mediaTypeOf(manifest: object | Buffer | string): string | undefined {
  if (Buffer.isBuffer(manifest) || typeof manifest === 'string') return undefined;
  const t = (manifest as { mediaType?: unknown }).mediaType;
  return typeof t === 'string' ? t : undefined;
}

/** An image manifest document (OCI by default; pass MEDIA.dockerManifest for Docker schema 2). */
export function imageManifest(config: Descriptor, layers: Descriptor[], extra: Record<string, unknown> = {}, mediaType: string = MEDIA.ociManifest) {
  return { schemaVersion: 2, mediaType, config, layers, ...extra };
}

/** An index (OCI by default; MEDIA.dockerList for a Docker manifest list) over `manifests`. */
export function indexManifest(manifests: Descriptor[], extra: Record<string, unknown> = {}, mediaType: string = MEDIA.ociIndex) {
  return { schemaVersion: 2, mediaType, manifests, ...extra };
}

/** Pushes a config and `layers` random layers, then the manifest under `reference` (a tag or its digest). */
export async function pushImage(
  reg: RegistryTarget,
  repo: string,
  reference: string | undefined,
  opts: { layers?: number; layerSize?: number; mediaType?: string; extra?: Record<string, unknown> } = {},
): Promise<TestImage> {
  const mediaType = opts.mediaType ?? MEDIA.ociManifest;
  const configType = mediaType === MEDIA.dockerManifest ? 'application/vnd.docker.container.image.v1+json' : CONFIG_TYPE;
  const layerType = mediaType === MEDIA.dockerManifest ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : LAYER_TYPE;
  const config = await pushBlob(reg, repo, JSON.stringify({ architecture: 'amd64', os: 'linux', nonce: randomBytes(8).toString('hex') }), configType);
  const layers: Descriptor[] = [];
  for (let i = 0; i < (opts.layers ?? 1); i++) layers.push(await pushBlob(reg, repo, randomBlob(opts.layerSize ?? 1024), layerType));
  const bytes = manifestBytes(imageManifest(config, layers, opts.extra, mediaType));
  const digest = digestOf(bytes);
  await putManifest(reg, repo, reference ?? digest, bytes, mediaType);
  return { digest, bytes, config, layers, descriptor: { mediaType, digest, size: bytes.length } };
}

/** Asserts `res` is an OCI error: `status`, JSON body `{ errors: [{ code, message, detail }] }` with `code`. */
export async function expectOciError(res: Response, status: number, code: string): Promise<{ code: string; message: string; detail: unknown }> {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = JSON.parse(text) as { errors?: Array<{ code: string; message: string; detail: unknown }> };
  assert.ok(Array.isArray(body.errors) && body.errors.length >= 1, `no errors array in ${text}`);
  const [err] = body.errors;
  assert.equal(err!.code, code, text);
  assert.equal(typeof err!.message, 'string');
  assert.ok('detail' in err!, `error has no detail: ${text}`);
  return err!;
}
