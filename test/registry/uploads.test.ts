// Blob upload sessions: monolithic, POST+PUT, chunked PATCH, status, cancel, digest checks, and
// resuming an upload after the daemon restarts on the same data directory.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon } from '../helpers/daemon.ts';
import { v2, expectOciError, randomBlob, uniqueRepo, type RegistryTarget } from '../helpers/oci.ts';
import { digestOf } from '../../src/core/digest.ts';

/** Opens an upload session and returns its Location. */
async function startUpload(reg: RegistryTarget, repo: string): Promise<string> {
  const res = await v2(reg, `/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  assert.equal(res.status, 202);
  assert.equal(res.headers.get('range'), '0-0');
  const location = res.headers.get('location')!;
  assert.match(location, new RegExp(`^/v2/${repo}/blobs/uploads/[0-9a-f-]{36}$`));
  assert.equal(res.headers.get('docker-upload-uuid'), location.split('/').at(-1));
  return location;
}

async function patch(reg: RegistryTarget, location: string, chunk: Buffer, start?: number): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (start !== undefined) headers['content-range'] = `${start}-${start + chunk.length - 1}`;
  return v2(reg, location, { method: 'PATCH', body: chunk, headers });
}

/** A PATCH whose Content-Length and Content-Range may disagree (fetch would not send that). */
function rawPatch(reg: RegistryTarget, location: string, contentRange: string, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(reg.url + location);
    const headers = { authorization: `Bearer ${reg.token}`, 'content-range': contentRange, 'content-length': String(body.length) };
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'PATCH', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function expectBlob(reg: RegistryTarget, repo: string, data: Buffer): Promise<void> {
  const res = await v2(reg, `/v2/${repo}/blobs/${digestOf(data)}`);
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), data);
}

test('registry uploads', async (t) => {
  const d = await startTestDaemon(t);

  for (const size of [0, 1, 70_000, 2 * 1024 * 1024 + 1]) {
    await t.test(`monolithic POST ?digest= of ${size} bytes is 201 with Location`, async () => {
      const repo = uniqueRepo('up');
      const data = randomBlob(size);
      const digest = digestOf(data);
      const res = await v2(d, `/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('location'), `/v2/${repo}/blobs/${digest}`);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      await expectBlob(d, repo, data);
    });
  }

  await t.test('a sha512 digest is verified and served under that digest', async () => {
    const repo = uniqueRepo('up');
    const data = randomBlob(3000);
    const digest = digestOf(data, 'sha512');
    assert.equal((await v2(d, `/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data })).status, 201);
    const get = await v2(d, `/v2/${repo}/blobs/${digest}`);
    assert.equal(get.headers.get('docker-content-digest'), digest);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), data);
    await expectOciError(await v2(d, `/v2/${repo}/blobs/uploads/?digest=${digestOf('other', 'sha512')}`, { method: 'POST', body: data }), 400, 'DIGEST_INVALID');
  });

  await t.test('POST then PUT ?digest= with the whole body', async () => {
    const repo = uniqueRepo('up');
    const data = randomBlob(5000);
    const location = await startUpload(d, repo);
    const res = await v2(d, `${location}?digest=${digestOf(data)}`, { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('location'), `/v2/${repo}/blobs/${digestOf(data)}`);
    await expectBlob(d, repo, data);
  });

  for (const withRange of [true, false]) {
    await t.test(`chunked PATCH x4 ${withRange ? 'with' : 'without'} Content-Range, then PUT`, async () => {
      const repo = uniqueRepo('up');
      const data = randomBlob(4 * 3000 + 17);
      const location = await startUpload(d, repo);
      let offset = 0;
      for (const size of [3000, 3000, 3000, 3017]) {
        const res = await patch(d, location, data.subarray(offset, offset + size), withRange ? offset : undefined);
        offset += size;
        assert.equal(res.status, 202);
        assert.equal(res.headers.get('range'), `0-${offset - 1}`);
        assert.equal(res.headers.get('location'), location);
      }
      const put = await v2(d, `${location}?digest=${digestOf(data)}`, { method: 'PUT' });
      assert.equal(put.status, 201);
      await expectBlob(d, repo, data);
    });
  }

  await t.test('a final chunk may come with the PUT', async () => {
    const repo = uniqueRepo('up');
    const data = randomBlob(2000);
    const location = await startUpload(d, repo);
    assert.equal((await patch(d, location, data.subarray(0, 1500), 0)).status, 202);
    const put = await v2(d, `${location}?digest=${digestOf(data)}`, {
      method: 'PUT',
      body: data.subarray(1500),
      headers: { 'content-range': '1500-1999', 'content-type': 'application/octet-stream' },
    });
    assert.equal(put.status, 201);
    await expectBlob(d, repo, data);
  });

  const outOfOrder = [
    { name: 'a gap', start: 150 },
    { name: 'an overlap', start: 50 },
    { name: 'a restart at 0', start: 0 },
  ];
  for (const c of outOfOrder) {
    await t.test(`a chunk with ${c.name} is 416 with Range of the current offset`, async () => {
      const repo = uniqueRepo('up');
      const data = randomBlob(300);
      const location = await startUpload(d, repo);
      assert.equal((await patch(d, location, data.subarray(0, 100), 0)).status, 202);
      const res = await patch(d, location, data.subarray(c.start, c.start + 100), c.start);
      assert.equal(res.status, 416);
      assert.equal(res.headers.get('range'), '0-99');
      assert.equal(res.headers.get('location'), location);
      await res.arrayBuffer();
      // The session is intact: continue from the reported offset.
      assert.equal((await patch(d, location, data.subarray(100), 100)).status, 202);
      assert.equal((await v2(d, `${location}?digest=${digestOf(data)}`, { method: 'PUT' })).status, 201);
      await expectBlob(d, repo, data);
    });
  }

  for (const c of [{ range: '10-109', bytes: 50 }, { range: '10-59', bytes: 100 }]) {
    await t.test(`a chunk of ${c.bytes} bytes claiming Content-Range ${c.range} is 400 SIZE_INVALID and changes nothing`, async () => {
      const repo = uniqueRepo('up');
      const data = randomBlob(60);
      const location = await startUpload(d, repo);
      assert.equal((await patch(d, location, data.subarray(0, 10), 0)).status, 202);
      const res = await rawPatch(d, location, c.range, randomBlob(c.bytes));
      assert.equal(res.status, 400, res.body);
      assert.equal((JSON.parse(res.body) as { errors: Array<{ code: string }> }).errors[0]!.code, 'SIZE_INVALID');
      assert.equal((await v2(d, location)).headers.get('range'), '0-9');
      assert.equal((await patch(d, location, data.subarray(10), 10)).status, 202);
      assert.equal((await v2(d, `${location}?digest=${digestOf(data)}`, { method: 'PUT' })).status, 201);
      await expectBlob(d, repo, data);
    });
  }

  await t.test('GET on a session is 204 with Range, Location and Docker-Upload-UUID', async () => {
    const repo = uniqueRepo('up');
    const location = await startUpload(d, repo);
    await patch(d, location, randomBlob(42), 0);
    const res = await v2(d, location);
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('range'), '0-41');
    assert.equal(res.headers.get('location'), location);
    assert.equal(res.headers.get('docker-upload-uuid'), location.split('/').at(-1));
  });

  await t.test('DELETE cancels a session: 204, then 404 BLOB_UPLOAD_UNKNOWN for every use', async () => {
    const repo = uniqueRepo('up');
    const data = randomBlob(10);
    const location = await startUpload(d, repo);
    await patch(d, location, data, 0);
    assert.equal((await v2(d, location, { method: 'DELETE' })).status, 204);
    await expectOciError(await v2(d, location), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectOciError(await patch(d, location, data, 10), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectOciError(await v2(d, `${location}?digest=${digestOf(data)}`, { method: 'PUT' }), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectOciError(await v2(d, location, { method: 'DELETE' }), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  await t.test('unknown, malformed or foreign session ids are 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const repo = uniqueRepo('up');
    const location = await startUpload(d, repo);
    const id = location.split('/').at(-1)!;
    const other = uniqueRepo('up');
    for (const p of [`/v2/${repo}/blobs/uploads/00000000-0000-0000-0000-000000000000`, `/v2/${repo}/blobs/uploads/not-a-uuid`, `/v2/${other}/blobs/uploads/${id}`]) {
      await expectOciError(await v2(d, p), 404, 'BLOB_UPLOAD_UNKNOWN');
    }
  });

  const wrongDigest = [
    { name: 'monolithic POST', run: (repo: string, data: Buffer, claimed: string) => v2(d, `/v2/${repo}/blobs/uploads/?digest=${claimed}`, { method: 'POST', body: data }) },
    {
      name: 'PUT after PATCH',
      run: async (repo: string, data: Buffer, claimed: string) => {
        const location = await startUpload(d, repo);
        await patch(d, location, data, 0);
        return v2(d, `${location}?digest=${claimed}`, { method: 'PUT' });
      },
    },
  ];
  for (const c of wrongDigest) {
    await t.test(`a wrong digest on ${c.name} is 400 DIGEST_INVALID and nothing becomes visible`, async () => {
      const repo = uniqueRepo('up');
      const data = randomBlob(500);
      const claimed = digestOf('something else');
      await expectOciError(await c.run(repo, data, claimed), 400, 'DIGEST_INVALID');
      for (const digest of [claimed, digestOf(data)]) {
        assert.equal((await v2(d, `/v2/${repo}/blobs/${digest}`, { method: 'HEAD' })).status, 404, digest);
      }
    });
  }

  await t.test('after a wrong digest on PUT the session still completes with the right one', async () => {
    const repo = uniqueRepo('up');
    const data = randomBlob(700);
    const location = await startUpload(d, repo);
    await patch(d, location, data, 0);
    await expectOciError(await v2(d, `${location}?digest=${digestOf('not it')}`, { method: 'PUT' }), 400, 'DIGEST_INVALID');
    assert.equal((await v2(d, `${location}?digest=${digestOf(data)}`, { method: 'PUT' })).status, 201);
    await expectBlob(d, repo, data);
  });

  for (const bad of ['sha256:1234', 'sha256', `SHA256:${'a'.repeat(64)}`]) {
    await t.test(`an invalid digest string ${bad.slice(0, 12)} on POST and PUT is 400 DIGEST_INVALID`, async () => {
      const repo = uniqueRepo('up');
      await expectOciError(await v2(d, `/v2/${repo}/blobs/uploads/?digest=${bad}`, { method: 'POST', body: 'x' }), 400, 'DIGEST_INVALID');
      const location = await startUpload(d, repo);
      await expectOciError(await v2(d, `${location}?digest=${bad}`, { method: 'PUT' }), 400, 'DIGEST_INVALID');
    });
  }

  await t.test('PUT without ?digest= is 400 DIGEST_INVALID', async () => {
    const location = await startUpload(d, uniqueRepo('up'));
    await expectOciError(await v2(d, location, { method: 'PUT' }), 400, 'DIGEST_INVALID');
  });
});

test('an upload resumes after the daemon restarts on the same data directory', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-test-resume-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const repo = uniqueRepo('resume');
  const data = randomBlob(256 * 1024 + 3);

  const first = await startTestDaemon(t, { dataDir });
  const location = await startUpload(first, repo);
  assert.equal((await patch(first, location, data.subarray(0, 100_000), 0)).status, 202);
  await first.daemon.stop();

  const second = await startTestDaemon(t, { dataDir });
  const status = await v2(second, location);
  assert.equal(status.status, 204);
  const offset = Number(/^0-(\d+)$/.exec(status.headers.get('range') ?? '')![1]) + 1;
  assert.equal(offset, 100_000);
  assert.equal((await patch(second, location, data.subarray(offset), offset)).status, 202);
  const put = await v2(second, `${location}?digest=${digestOf(data)}`, { method: 'PUT' });
  assert.equal(put.status, 201, await put.text());
  await expectBlob(second, repo, data);
});
