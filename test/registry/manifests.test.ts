// Manifests: the four supported types by tag and by digest, byte-exact storage, content negotiation,
// reference checks, validation, size limit, deletion, and name/tag validation.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon } from '../helpers/daemon.ts';
import {
  v2, expectOciError, pushBlob, pushImage, putManifest, imageManifest, indexManifest, manifestBytes, randomBlob, uniqueRepo,
  MEDIA, CONFIG_TYPE, type Descriptor,
} from '../helpers/oci.ts';
import { digestOf } from '../../src/core/digest.ts';

test('registry manifests', async (t) => {
  const d = await startTestDaemon(t);
  const repo = uniqueRepo('man');
  const oci = await pushImage(d, repo, 'base', { layers: 2 });
  const docker = await pushImage(d, repo, 'docker-base', { mediaType: MEDIA.dockerManifest });
  const platform = { architecture: 'amd64', os: 'linux' };

  // Each kind is pushed in its own repository, by tag then again by digest, and read back four ways.
  const kinds: Array<{ name: string; mediaType: string; build: (r: string) => Promise<Buffer> }> = [
    { name: 'OCI image manifest', mediaType: MEDIA.ociManifest, build: async (r) => (await pushImage(d, r, 'child', { layers: 2 })).bytes },
    { name: 'Docker schema 2 manifest', mediaType: MEDIA.dockerManifest, build: async (r) => (await pushImage(d, r, 'child', { mediaType: MEDIA.dockerManifest })).bytes },
    {
      name: 'OCI index',
      mediaType: MEDIA.ociIndex,
      build: async (r) => {
        const children = [await pushImage(d, r, undefined), await pushImage(d, r, undefined)];
        return manifestBytes(indexManifest(children.map((c) => ({ ...c.descriptor, platform }))));
      },
    },
    {
      name: 'Docker manifest list',
      mediaType: MEDIA.dockerList,
      build: async (r) => {
        const child = await pushImage(d, r, undefined, { mediaType: MEDIA.dockerManifest });
        return manifestBytes(indexManifest([{ ...child.descriptor, platform }], {}, MEDIA.dockerList));
      },
    },
  ];
  for (const k of kinds) {
    await t.test(`${k.name}: PUT by tag and by digest, GET/HEAD by tag and digest`, async () => {
      const r = uniqueRepo('man');
      const bytes = await k.build(r);
      const digest = digestOf(bytes);
      const byTag = await putManifest(d, r, 'v1', bytes, k.mediaType);
      assert.equal(byTag.response.headers.get('location'), `/v2/${r}/manifests/${digest}`);
      await putManifest(d, r, digest, bytes, k.mediaType);
      for (const ref of ['v1', digest]) {
        const get = await v2(d, `/v2/${r}/manifests/${ref}`, { headers: { accept: k.mediaType } });
        assert.equal(get.status, 200);
        assert.equal(get.headers.get('content-type'), k.mediaType);
        assert.equal(get.headers.get('docker-content-digest'), digest);
        assert.deepEqual(Buffer.from(await get.arrayBuffer()), bytes);
        const head = await v2(d, `/v2/${r}/manifests/${ref}`, { method: 'HEAD', headers: { accept: k.mediaType } });
        assert.equal(head.status, 200);
        assert.equal(head.headers.get('content-type'), k.mediaType);
        assert.equal(head.headers.get('docker-content-digest'), digest);
        assert.equal(head.headers.get('content-length'), String(bytes.length));
      }
    });
  }

  await t.test('PUT by a sha512 digest stores and serves the manifest under that digest', async () => {
    const digest = digestOf(docker.bytes, 'sha512');
    const put = await v2(d, `/v2/${repo}/manifests/${digest}`, { method: 'PUT', body: docker.bytes, headers: { 'content-type': MEDIA.dockerManifest } });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('docker-content-digest'), digest);
    const get = await v2(d, `/v2/${repo}/manifests/${digest}`);
    assert.equal(get.headers.get('docker-content-digest'), digest);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), docker.bytes);
  });

  await t.test('manifest bytes are stored exactly, odd whitespace and key order included', async () => {
    const odd = `{\n\t"layers" : [ ${JSON.stringify(oci.layers[0])} ],\r\n  "config":${JSON.stringify(oci.config)} ,"schemaVersion":2,\n"mediaType":"${MEDIA.ociManifest}"   }\n\n`;
    const { digest } = await putManifest(d, repo, 'odd', odd, MEDIA.ociManifest);
    assert.equal(digest, digestOf(odd));
    const get = await v2(d, `/v2/${repo}/manifests/odd`);
    assert.equal(Buffer.from(await get.arrayBuffer()).toString('utf8'), odd);
  });

  await t.test('an OCI manifest without mediaType in the body takes it from Content-Type', async () => {
    const bytes = JSON.stringify({ schemaVersion: 2, config: oci.config, layers: oci.layers });
    await putManifest(d, repo, 'no-media-type', bytes, MEDIA.ociManifest);
    const get = await v2(d, `/v2/${repo}/manifests/no-media-type`);
    assert.equal(get.headers.get('content-type'), MEDIA.ociManifest);
    await get.arrayBuffer();
  });

  const negotiation = [
    { accept: MEDIA.dockerManifest, ok: false },
    { accept: `${MEDIA.dockerManifest}, ${MEDIA.dockerList}`, ok: false },
    { accept: '*/*', ok: true },
    { accept: `${MEDIA.dockerManifest}, ${MEDIA.ociManifest};q=0.5`, ok: true },
    { accept: undefined, ok: true },
  ];
  for (const n of negotiation) {
    await t.test(`an OCI manifest with Accept ${n.accept ?? '(none)'} is ${n.ok ? '200' : '404 MANIFEST_UNKNOWN'}`, async () => {
      const headers: Record<string, string> = n.accept ? { accept: n.accept } : {};
      const res = await v2(d, `/v2/${repo}/manifests/base`, { headers });
      if (n.ok) {
        assert.equal(res.status, 200);
        assert.deepEqual(Buffer.from(await res.arrayBuffer()), oci.bytes);
      } else {
        await expectOciError(res, 404, 'MANIFEST_UNKNOWN');
      }
    });
  }

  const other = uniqueRepo('man');
  const foreignLayer = await pushBlob(d, other, randomBlob(100));
  const missing: Descriptor = { mediaType: CONFIG_TYPE, digest: digestOf('missing'), size: 7 };
  const refused: Array<{ name: string; body: object | string; mediaType?: string; ref?: string; status: number; code: string }> = [
    { name: 'a missing config', body: imageManifest(missing, oci.layers), status: 404, code: 'MANIFEST_BLOB_UNKNOWN' },
    { name: 'a missing layer', body: imageManifest(oci.config, [...oci.layers, { ...missing, mediaType: 'application/vnd.oci.image.layer.v1.tar' }]), status: 404, code: 'MANIFEST_BLOB_UNKNOWN' },
    { name: 'a layer only another repository has', body: imageManifest(oci.config, [foreignLayer]), status: 404, code: 'MANIFEST_BLOB_UNKNOWN' },
    { name: 'an index with an unknown child', body: indexManifest([{ ...oci.descriptor, digest: digestOf('no child') }]), status: 404, code: 'MANIFEST_BLOB_UNKNOWN' },
    { name: 'invalid JSON', body: '{"schemaVersion": 2,', status: 400, code: 'MANIFEST_INVALID' },
    { name: 'a JSON array', body: '[]', status: 400, code: 'MANIFEST_INVALID' },
    { name: 'schemaVersion 1', body: { schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }, mediaType: MEDIA.dockerSchema1Signed, status: 400, code: 'MANIFEST_INVALID' },
    { name: 'no schemaVersion', body: { mediaType: MEDIA.ociManifest, config: oci.config, layers: oci.layers }, status: 400, code: 'MANIFEST_INVALID' },
    { name: 'layers that are not an array', body: { ...imageManifest(oci.config, []), layers: {} }, status: 400, code: 'MANIFEST_INVALID' },
    { name: 'a descriptor with a bad digest', body: imageManifest({ ...oci.config, digest: 'sha256:nope' }, []), status: 400, code: 'MANIFEST_INVALID' },
    { name: 'a descriptor with a negative size', body: imageManifest({ ...oci.config, size: -1 }, []), status: 400, code: 'MANIFEST_INVALID' },
    { name: 'a body mediaType contradicting Content-Type', body: imageManifest(oci.config, oci.layers, { annotations: { case: 'contradict' } }), mediaType: MEDIA.dockerManifest, status: 400, code: 'MANIFEST_INVALID' },
    { name: 'a digest reference that does not match', body: imageManifest(oci.config, oci.layers, { annotations: { case: 'mismatch' } }), ref: digestOf('other bytes'), status: 400, code: 'DIGEST_INVALID' },
  ];
  for (const c of refused) {
    await t.test(`PUT of a manifest with ${c.name} is ${c.status} ${c.code} and stores nothing`, async () => {
      const bytes = manifestBytes(c.body);
      const ref = c.ref ?? 'refused';
      const res = await v2(d, `/v2/${repo}/manifests/${ref}`, { method: 'PUT', body: bytes, headers: { 'content-type': c.mediaType ?? bodyType(c.body) } });
      await expectOciError(res, c.status, c.code);
      await expectOciError(await v2(d, `/v2/${repo}/manifests/${ref}`), 404, 'MANIFEST_UNKNOWN');
      await expectOciError(await v2(d, `/v2/${repo}/manifests/${digestOf(bytes)}`), 404, 'MANIFEST_UNKNOWN');
    });
  }

  const limit = d.settings.registry.maxManifestBytes;
  await t.test(`a manifest of exactly ${limit} bytes is accepted`, async () => {
    const bytes = padded(imageManifest(oci.config, oci.layers), limit);
    const { digest } = await putManifest(d, repo, 'big', bytes);
    const get = await v2(d, `/v2/${repo}/manifests/${digest}`);
    assert.equal(get.headers.get('content-length'), String(limit));
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), bytes);
  });

  for (const streamed of [false, true]) {
    await t.test(`a manifest of ${limit} + 1 bytes is 413 (${streamed ? 'chunked' : 'with Content-Length'})`, async () => {
      const bytes = padded(imageManifest(oci.config, oci.layers), limit + 1);
      const body = streamed ? new Blob([new Uint8Array(bytes)]).stream() : bytes;
      const res = await v2(d, `/v2/${repo}/manifests/too-big`, { method: 'PUT', body, headers: { 'content-type': MEDIA.ociManifest }, ...(streamed ? { duplex: 'half' } : {}) } as Parameters<typeof v2>[2]);
      await expectOciError(res, 413, 'PAYLOAD_TOO_LARGE');
      await expectOciError(await v2(d, `/v2/${repo}/manifests/too-big`), 404, 'MANIFEST_UNKNOWN');
    });
  }

  await t.test('DELETE by digest is 202 and removes every tag pointing at it', async () => {
    const r = uniqueRepo('man');
    const img = await pushImage(d, r, 'a');
    await putManifest(d, r, 'b', img.bytes);
    const keep = await pushImage(d, r, 'keep');
    assert.equal((await v2(d, `/v2/${r}/manifests/${img.digest}`, { method: 'DELETE' })).status, 202);
    for (const ref of ['a', 'b', img.digest]) await expectOciError(await v2(d, `/v2/${r}/manifests/${ref}`), 404, 'MANIFEST_UNKNOWN');
    const tags = (await (await v2(d, `/v2/${r}/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(tags.tags, ['keep']);
    assert.equal((await v2(d, `/v2/${r}/manifests/${keep.digest}`, { method: 'HEAD' })).status, 200);
    await expectOciError(await v2(d, `/v2/${r}/manifests/${img.digest}`, { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
  });

  await t.test('DELETE by tag is 202 and removes only the tag', async () => {
    const r = uniqueRepo('man');
    const img = await pushImage(d, r, 'gone');
    assert.equal((await v2(d, `/v2/${r}/manifests/gone`, { method: 'DELETE' })).status, 202);
    await expectOciError(await v2(d, `/v2/${r}/manifests/gone`), 404, 'MANIFEST_UNKNOWN');
    assert.equal((await v2(d, `/v2/${r}/manifests/${img.digest}`, { method: 'HEAD' })).status, 200);
    await expectOciError(await v2(d, `/v2/${r}/manifests/gone`, { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
  });

  const badNames = [
    { name: 'uppercase', repo: 'Foo/bar' },
    { name: 'a .. component', repo: 'a%2F..%2Fb' },
    { name: 'a leading -', repo: '-lead/x' },
    { name: 'a component ending in .', repo: 'a./b' },
    { name: 'an empty component', repo: 'a%2F%2Fb' },
    { name: '256 characters', repo: 'a'.repeat(256) },
  ];
  for (const b of badNames) {
    await t.test(`a repository name with ${b.name} is 400 NAME_INVALID on every endpoint`, async () => {
      for (const [method, path] of [
        ['GET', `/v2/${b.repo}/manifests/latest`],
        ['PUT', `/v2/${b.repo}/manifests/latest`],
        ['GET', `/v2/${b.repo}/tags/list`],
        ['POST', `/v2/${b.repo}/blobs/uploads/`],
        ['GET', `/v2/${b.repo}/blobs/${oci.config.digest}`],
      ] as const) {
        await expectOciError(await v2(d, path, { method, body: method === 'PUT' ? oci.bytes : undefined }), 400, 'NAME_INVALID');
      }
    });
  }

  await t.test('a 255-character repository name works', async () => {
    const long = `n${randomBlob(4).toString('hex')}/${'a'.repeat(255 - 10)}`;
    assert.equal(long.length, 255);
    await pushImage(d, long, 'v1');
    assert.equal((await v2(d, `/v2/${long}/manifests/v1`, { method: 'HEAD' })).status, 200);
  });

  for (const tag of ['-lead', '.dot', 'a'.repeat(129), 'has+plus', 'semi;colon']) {
    await t.test(`tag ${tag.slice(0, 12)} is 400 TAG_INVALID`, async () => {
      await expectOciError(await v2(d, `/v2/${repo}/manifests/${encodeURIComponent(tag)}`, { method: 'PUT', body: oci.bytes, headers: { 'content-type': MEDIA.ociManifest } }), 400, 'TAG_INVALID');
    });
  }

  await t.test('GET, HEAD and DELETE by a reference that is no valid tag or digest: 404 MANIFEST_UNKNOWN, as distribution answers', async () => {
    for (const ref of ['.INVALID_MANIFEST_NAME', '-lead', 'sha256:short', 'a'.repeat(129)]) {
      for (const method of ['GET', 'HEAD', 'DELETE']) {
        const res = await v2(d, `/v2/${repo}/manifests/${encodeURIComponent(ref)}`, { method });
        if (method === 'HEAD') assert.equal(res.status, 404, `${method} ${ref}`);
        else await expectOciError(res, 404, 'MANIFEST_UNKNOWN');
      }
    }
  });

  await t.test('a 128-character tag with _ . - works', async () => {
    const tag = `_a.b-${'c'.repeat(123)}`;
    assert.equal(tag.length, 128);
    await putManifest(d, repo, tag, oci.bytes);
    assert.equal((await v2(d, `/v2/${repo}/manifests/${tag}`, { method: 'HEAD' })).status, 200);
  });

  await t.test('an unknown repository is 404 NAME_UNKNOWN; an unknown tag in a known one MANIFEST_UNKNOWN', async () => {
    await expectOciError(await v2(d, `/v2/never/pushed/manifests/latest`), 404, 'NAME_UNKNOWN');
    await expectOciError(await v2(d, `/v2/never/pushed/tags/list`), 404, 'NAME_UNKNOWN');
    await expectOciError(await v2(d, `/v2/${repo}/manifests/nope`), 404, 'MANIFEST_UNKNOWN');
    await expectOciError(await v2(d, `/v2/${repo}/manifests/${digestOf('nope')}`), 404, 'MANIFEST_UNKNOWN');
  });

  await t.test('a manifest is visible only in the repository it was pushed to', async () => {
    await expectOciError(await v2(d, `/v2/${other}/manifests/${oci.digest}`), 404, 'MANIFEST_UNKNOWN');
    assert.equal((await v2(d, `/v2/${repo}/manifests/${docker.digest}`, { method: 'HEAD' })).status, 200);
  });
});

function bodyType(body: object | string): string {
  return (typeof body === 'object' && (body as { mediaType?: string }).mediaType) || MEDIA.ociManifest;
}

/** `doc` serialized with an annotation padding it to exactly `size` bytes. */
function padded(doc: object, size: number): Buffer {
  const base = Buffer.byteLength(JSON.stringify({ ...doc, annotations: { pad: '' } }));
  const bytes = Buffer.from(JSON.stringify({ ...doc, annotations: { pad: 'x'.repeat(size - base) } }));
  assert.equal(bytes.length, size);
  return bytes;
}
