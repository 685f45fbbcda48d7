// Unit tests of image references, manifest/config parsing and platform selection (pure, no I/O beyond
// an in-memory ManifestSource of a few lines).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digestOf } from '../../src/core/digest.ts';
import { SkiffError } from '../../src/core/errors.ts';
import { parseImageReference } from '../../src/core/names.ts';
import { resolveImage } from '../../src/images/image-config.ts';
import type { ManifestSource, StoredManifest } from '../../src/images/ports.ts';

const D = 'sha256:' + 'a'.repeat(64);
const code = (c: string) => (err: unknown) => err instanceof SkiffError && err.code === c;

test('image references: host dropped, tag and digest, latest by default', () => {
  assert.deepEqual(parseImageReference('app'), { repository: 'app', reference: 'latest' });
  assert.deepEqual(parseImageReference('team/app:v1'), { repository: 'team/app', tag: 'v1', reference: 'v1' });
  assert.deepEqual(parseImageReference('localhost:5000/team/app:v1'), { repository: 'team/app', tag: 'v1', reference: 'v1' });
  assert.deepEqual(parseImageReference('localhost/app'), { repository: 'app', reference: 'latest' });
  assert.deepEqual(parseImageReference('skiff.example.com/a/b@' + D), { repository: 'a/b', digest: D, reference: D });
  assert.deepEqual(parseImageReference('127.0.0.1:5000/a:t@' + D), { repository: 'a', tag: 't', digest: D, reference: D });
  // 'team' has no '.' or ':' and is not localhost: a path component, not a host
  assert.deepEqual(parseImageReference('team/app'), { repository: 'team/app', reference: 'latest' });
  assert.throws(() => parseImageReference('App'), code('NAME_INVALID'));
  assert.throws(() => parseImageReference('app:.bad'), code('TAG_INVALID'));
  assert.throws(() => parseImageReference('app@sha256:12'), code('DIGEST_INVALID'));
  assert.throws(() => parseImageReference('host:5000/'), code('NAME_INVALID'));
});

/** Blobs and manifests in a map, addressed by digest (and manifests also by tag). */
function memorySource() {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, StoredManifest>();
  const put = (doc: unknown) => {
    const bytes = Buffer.from(JSON.stringify(doc));
    const digest = digestOf(bytes);
    blobs.set(digest, bytes);
    return { digest, size: bytes.length, bytes };
  };
  const source: ManifestSource = {
    manifest: async (_repo, ref) => manifests.get(ref) ?? Promise.reject(new SkiffError('MANIFEST_UNKNOWN', ref)),
    blob: async (d) => blobs.get(d) ?? Promise.reject(new SkiffError('BLOB_UNKNOWN', d)),
  };
  const image = (arch: string, config: Record<string, unknown>, configType = 'application/vnd.oci.image.config.v1+json') => {
    const c = put({ architecture: arch, os: 'linux', config, rootfs: { type: 'layers', diff_ids: [] } });
    const m = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: configType, digest: c.digest, size: c.size }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D, size: 1 }] };
    const s = put(m);
    manifests.set(s.digest, { digest: s.digest, mediaType: m.mediaType, bytes: s.bytes });
    return { mediaType: m.mediaType, digest: s.digest, size: s.size, platform: { os: 'linux', architecture: arch } };
  };
  const tag = (name: string, doc: unknown, mediaType: string) => {
    const s = put(doc);
    manifests.set(name, { digest: s.digest, mediaType, bytes: s.bytes });
  };
  return { source, image, tag, blobs };
}

test('resolveImage reads the config and picks linux/amd64 from an index', async () => {
  const m = memorySource();
  const amd = m.image('amd64', {
    Entrypoint: ['/ep'], Cmd: ['serve'], Env: ['A=1'], WorkingDir: '/app', User: 'app:app', ExposedPorts: { '8080/tcp': {} },
    Healthcheck: { Test: ['CMD', 'true'], Interval: 5e9, Retries: 3 }, StopSignal: 'SIGQUIT', Labels: { k: 'v' },
  });
  const arm = m.image('arm64', { Cmd: ['arm'] });
  m.tag('multi', { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [arm, { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D, size: 1 }, amd] }, 'application/vnd.oci.image.index.v1+json');
  const cfg = await resolveImage(m.source, 'r', 'multi');
  assert.deepEqual(cfg, {
    manifestDigest: amd.digest, layers: [{ digest: D, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }],
    entrypoint: ['/ep'], cmd: ['serve'], env: ['A=1'], workingDir: '/app', user: 'app:app', exposedPorts: ['8080/tcp'],
    healthcheck: { test: ['CMD', 'true'], intervalMs: 5000, timeoutMs: undefined, startPeriodMs: undefined, retries: 3 },
    stopSignal: 'SIGQUIT', labels: { k: 'v' },
  });
  assert.deepEqual((await resolveImage(m.source, 'r', 'multi', { os: 'linux', architecture: 'arm64' })).cmd, ['arm']);
  await assert.rejects(resolveImage(m.source, 'r', 'multi', { os: 'linux', architecture: 's390x' }), (err: unknown) => code('IMAGE_INVALID')(err) && /has: linux\/arm64, linux\/amd64/.test((err as Error).message));
  // a single-platform manifest for another architecture is refused, not run into "exec format error"
  await assert.rejects(resolveImage(m.source, 'r', arm.digest), code('IMAGE_INVALID'));
  // defaults of an empty config
  const bare = m.image('amd64', {});
  assert.deepEqual(await resolveImage(m.source, 'r', bare.digest), { manifestDigest: bare.digest, layers: [{ digest: D, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }], entrypoint: [], cmd: [], env: [], workingDir: '/', user: '', exposedPorts: [], labels: {} });
});

test('resolveImage refuses artifacts, non-tar layers, bad configs and damaged config blobs', async () => {
  const m = memorySource();
  await assert.rejects(resolveImage(m.source, 'r', m.image('amd64', {}, 'application/vnd.example.sbom+json').digest), code('IMAGE_INVALID'));
  await assert.rejects(resolveImage(m.source, 'r', m.image('amd64', { Cmd: 'not-a-list' }).digest), code('IMAGE_INVALID'));
  const ok = m.image('amd64', { Cmd: ['x'] });
  const doc = JSON.parse((await m.source.manifest('r', ok.digest)).bytes.toString()) as { config: { digest: string }; layers: Array<{ mediaType: string }> };
  m.blobs.set(doc.config.digest, Buffer.from('{"tampered":true}'));
  await assert.rejects(resolveImage(m.source, 'r', ok.digest), code('DIGEST_INVALID'));
  doc.layers[0]!.mediaType = 'application/vnd.example.blob';
  m.tag('odd', doc, 'application/vnd.oci.image.manifest.v1+json');
  await assert.rejects(resolveImage(m.source, 'r', 'odd'), code('IMAGE_INVALID'));
  await assert.rejects(resolveImage(m.source, 'r', 'missing'), code('MANIFEST_UNKNOWN'));
});
