// The /v2 error contract: every failure, whichever layer raises it, answers the distribution-spec body
// { errors: [{ code, message, detail }] } with the catalogue's status; HEAD answers the status without a body.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon } from '../helpers/daemon.ts';
import { v2, expectOciError, pushImage, uniqueRepo, imageManifest, MEDIA } from '../helpers/oci.ts';
import { digestOf } from '../../src/core/digest.ts';

test('registry error bodies', async (t) => {
  const d = await startTestDaemon(t);
  const repo = uniqueRepo('err');
  const img = await pushImage(d, repo, 'v1');

  const cases: Array<{ name: string; method?: string; path: string; body?: string; status: number; code: string }> = [
    { name: 'unknown endpoint', path: `/v2/${repo}/nothing-here`, status: 404, code: 'NOT_FOUND' },
    { name: 'POST on tags list', method: 'POST', path: `/v2/${repo}/tags/list`, status: 405, code: 'UNSUPPORTED' },
    { name: 'PATCH on a manifest', method: 'PATCH', path: `/v2/${repo}/manifests/v1`, status: 405, code: 'UNSUPPORTED' },
    { name: 'PUT on a blob', method: 'PUT', path: `/v2/${repo}/blobs/${img.config.digest}`, body: 'x', status: 405, code: 'UNSUPPORTED' },
    { name: 'DELETE on the catalog', method: 'DELETE', path: '/v2/_catalog', status: 405, code: 'UNSUPPORTED' },
    { name: 'malformed percent-encoding', path: `/v2/${repo}/manifests/%E0%A4%A`, status: 400, code: 'BAD_REQUEST' },
    // a lookup by a reference that cannot name a manifest finds none (as distribution answers); storing under one is bad input
    { name: 'GET by an invalid manifest digest reference', path: `/v2/${repo}/manifests/sha256:xyz`, status: 404, code: 'MANIFEST_UNKNOWN' },
    { name: 'PUT under an invalid manifest digest reference', method: 'PUT', path: `/v2/${repo}/manifests/sha256:xyz`, body: '{}', status: 400, code: 'DIGEST_INVALID' },
    { name: 'unknown manifest', path: `/v2/${repo}/manifests/${digestOf('x')}`, status: 404, code: 'MANIFEST_UNKNOWN' },
    { name: 'unknown blob', path: `/v2/${repo}/blobs/${digestOf('x')}`, status: 404, code: 'BLOB_UNKNOWN' },
    { name: 'unknown upload', path: `/v2/${repo}/blobs/uploads/00000000-0000-0000-0000-000000000000`, status: 404, code: 'BLOB_UPLOAD_UNKNOWN' },
    { name: 'unknown repository', path: '/v2/not/here/tags/list', status: 404, code: 'NAME_UNKNOWN' },
    { name: 'invalid repository', path: '/v2/NOPE/tags/list', status: 400, code: 'NAME_INVALID' },
  ];
  for (const c of cases) {
    await t.test(`${c.name}: ${c.status} ${c.code}`, async () => {
      await expectOciError(await v2(d, c.path, { method: c.method ?? 'GET', body: c.body }), c.status, c.code);
    });
  }

  await t.test('HEAD errors carry the status and no body', async () => {
    for (const [path, status] of [[`/v2/${repo}/manifests/nope`, 404], [`/v2/${repo}/blobs/${digestOf('x')}`, 404], ['/v2/NOPE/manifests/v1', 400]] as const) {
      const res = await v2(d, path, { method: 'HEAD' });
      assert.equal(res.status, status, path);
      assert.equal((await res.arrayBuffer()).byteLength, 0);
    }
  });

  await t.test('MANIFEST_BLOB_UNKNOWN names the missing digests in detail', async () => {
    const missing = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf('missing layer'), size: 13 };
    const res = await v2(d, `/v2/${repo}/manifests/v2`, {
      method: 'PUT',
      body: JSON.stringify(imageManifest(img.config, [missing])),
      headers: { 'content-type': MEDIA.ociManifest },
    });
    const err = await expectOciError(res, 404, 'MANIFEST_BLOB_UNKNOWN');
    assert.deepEqual(err.detail, { missing: [missing.digest] });
  });
});
