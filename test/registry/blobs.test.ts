// Blob reads, ranges, digests in paths, cross-repository mounts and blob deletion.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon } from '../helpers/daemon.ts';
import { v2, expectOciError, pushBlob, randomBlob, uniqueRepo } from '../helpers/oci.ts';
import { digestOf } from '../../src/core/digest.ts';

test('registry blobs', async (t) => {
  const d = await startTestDaemon(t);
  const repo = uniqueRepo('blobs');
  const data = randomBlob(1000);
  const blob = await pushBlob(d, repo, data);

  await t.test('HEAD and GET report Content-Length and Docker-Content-Digest', async () => {
    const head = await v2(d, `/v2/${repo}/blobs/${blob.digest}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '1000');
    assert.equal(head.headers.get('docker-content-digest'), blob.digest);
    const get = await v2(d, `/v2/${repo}/blobs/${blob.digest}`);
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('content-length'), '1000');
    assert.equal(get.headers.get('docker-content-digest'), blob.digest);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), data);
  });

  const ranges = [
    { range: 'bytes=0-9', start: 0, end: 9 },
    { range: 'bytes=990-', start: 990, end: 999 },
    { range: 'bytes=-10', start: 990, end: 999 },
    { range: 'bytes=500-5000', start: 500, end: 999 },
    { range: 'bytes=999-999', start: 999, end: 999 },
  ];
  for (const r of ranges) {
    await t.test(`Range ${r.range} is 206 with Content-Range`, async () => {
      const res = await v2(d, `/v2/${repo}/blobs/${blob.digest}`, { headers: { range: r.range } });
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), `bytes ${r.start}-${r.end}/1000`);
      assert.equal(res.headers.get('content-length'), String(r.end - r.start + 1));
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), data.subarray(r.start, r.end + 1));
    });
  }

  for (const range of ['bytes=1000-', 'bytes=5000-6000', 'bytes=9-3', 'bytes=-', 'items=0-1', 'bytes=0-1,5-6']) {
    await t.test(`unsatisfiable or malformed Range ${range} is 416`, async () => {
      const res = await v2(d, `/v2/${repo}/blobs/${blob.digest}`, { headers: { range } });
      assert.equal(res.status, 416);
      await res.arrayBuffer();
    });
  }

  const unknown = digestOf('never pushed');
  await t.test('an unknown blob is 404 BLOB_UNKNOWN (GET) and 404 (HEAD)', async () => {
    await expectOciError(await v2(d, `/v2/${repo}/blobs/${unknown}`), 404, 'BLOB_UNKNOWN');
    assert.equal((await v2(d, `/v2/${repo}/blobs/${unknown}`, { method: 'HEAD' })).status, 404);
  });

  const badDigests = ['sha256:abc', `sha256:${'A'.repeat(64)}`, `sha256:${'g'.repeat(64)}`, 'sha256', `sha512:${'a'.repeat(64)}`, 'notadigest'];
  for (const bad of badDigests) {
    await t.test(`invalid digest ${bad.slice(0, 20)} in a blob path is 400 DIGEST_INVALID`, async () => {
      await expectOciError(await v2(d, `/v2/${repo}/blobs/${bad}`), 400, 'DIGEST_INVALID');
    });
  }

  await t.test('a blob of another repository is BLOB_UNKNOWN until mounted', async () => {
    const other = uniqueRepo('blobs');
    await pushBlob(d, other, 'other repo content');
    await expectOciError(await v2(d, `/v2/${other}/blobs/${blob.digest}`), 404, 'BLOB_UNKNOWN');
    const mount = await v2(d, `/v2/${other}/blobs/uploads/?mount=${blob.digest}&from=${repo}`, { method: 'POST' });
    assert.equal(mount.status, 201);
    assert.equal(mount.headers.get('location'), `/v2/${other}/blobs/${blob.digest}`);
    assert.equal(mount.headers.get('docker-content-digest'), blob.digest);
    const get = await v2(d, `/v2/${other}/blobs/${blob.digest}`);
    assert.equal(get.status, 200);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), data);
  });

  const fallbacks = [
    { name: 'the source lacks the blob', query: () => `mount=${unknown}&from=${repo}` },
    { name: 'the source repository does not exist', query: () => `mount=${blob.digest}&from=no/such-repo` },
    { name: 'from is missing', query: () => `mount=${blob.digest}` },
  ];
  for (const f of fallbacks) {
    await t.test(`a mount where ${f.name} falls back to a 202 upload session`, async () => {
      const target = uniqueRepo('blobs');
      const res = await v2(d, `/v2/${target}/blobs/uploads/?${f.query()}`, { method: 'POST' });
      assert.equal(res.status, 202);
      const location = res.headers.get('location')!;
      assert.match(location, new RegExp(`^/v2/${target}/blobs/uploads/[0-9a-f-]{36}$`));
      assert.equal((await v2(d, location)).status, 204, 'the session is usable');
    });
  }

  await t.test('an invalid mount digest is 400 DIGEST_INVALID', async () => {
    await expectOciError(await v2(d, `/v2/${repo}/blobs/uploads/?mount=sha256:zz&from=${repo}`, { method: 'POST' }), 400, 'DIGEST_INVALID');
  });

  await t.test('DELETE unlinks a blob: 202, then 404 BLOB_UNKNOWN, other repositories keep it', async () => {
    const a = uniqueRepo('blobs');
    const b = uniqueRepo('blobs');
    const shared = await pushBlob(d, a, randomBlob(64));
    await pushBlob(d, b, Buffer.from(await (await v2(d, `/v2/${a}/blobs/${shared.digest}`)).arrayBuffer()));
    const del = await v2(d, `/v2/${a}/blobs/${shared.digest}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    await expectOciError(await v2(d, `/v2/${a}/blobs/${shared.digest}`), 404, 'BLOB_UNKNOWN');
    await expectOciError(await v2(d, `/v2/${a}/blobs/${shared.digest}`, { method: 'DELETE' }), 404, 'BLOB_UNKNOWN');
    assert.equal((await v2(d, `/v2/${b}/blobs/${shared.digest}`, { method: 'HEAD' })).status, 200);
  });
});
