// Registry authentication: the Docker token flow (401 challenge, /v2/token, Bearer) and pull-only tokens.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, basicAuth } from '../helpers/daemon.ts';
import { v2, expectOciError, pushImage, uniqueRepo } from '../helpers/oci.ts';

test('registry auth', async (t) => {
  const d = await startTestDaemon(t);

  await t.test('GET /v2/ (and /v2) answers 200 to a valid Bearer or Basic token', async () => {
    for (const [auth, path] of [[`Bearer ${d.token}`, '/v2/'], [basicAuth(d.token), '/v2/'], [`Bearer ${d.token}`, '/v2']] as const) {
      const res = await v2(d, path, { auth });
      assert.equal(res.status, 200, `${auth.split(' ')[0]} ${path}`);
      assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
      await res.arrayBuffer();
    }
  });

  const refused = [
    { name: 'no credentials', auth: null },
    { name: 'unknown bearer token', auth: 'Bearer skiff_nope' },
    { name: 'unknown basic password', auth: basicAuth('not-a-token') },
    { name: 'malformed header', auth: 'Token abc' },
  ];
  for (const c of refused) {
    await t.test(`GET /v2/ with ${c.name} is 401 with a Bearer challenge`, async () => {
      const res = await v2(d, '/v2/', { auth: c.auth });
      assert.equal(res.headers.get('www-authenticate'), `Bearer realm="${d.url}/v2/token",service="skiff"`);
      await expectOciError(res, 401, 'UNAUTHORIZED');
    });
  }

  await t.test('the challenge applies to every endpoint, not only /v2/', async () => {
    const res = await v2(d, '/v2/some/repo/tags/list', { auth: null });
    assert.ok(res.headers.get('www-authenticate')?.startsWith('Bearer realm='));
    await expectOciError(res, 401, 'UNAUTHORIZED');
  });

  await t.test('repositories whose name starts with "token" are not exempt from authentication', async () => {
    const repo = `token${uniqueRepo('x').replace('/', '-')}`;
    const image = await pushImage(d, repo, 'v1');
    for (const [method, path] of [
      ['GET', `/v2/${repo}/manifests/v1`],
      ['GET', `/v2/${repo}/tags/list`],
      ['POST', `/v2/${repo}/blobs/uploads/`],
      ['DELETE', `/v2/${repo}/manifests/${image.digest}`],
      ['GET', '/v2/tokens/x/manifests/v1'],
    ] as const) {
      await expectOciError(await v2(d, path, { method, auth: null }), 401, 'UNAUTHORIZED');
    }
    assert.equal((await v2(d, `/v2/${repo}/manifests/v1`, { method: 'HEAD' })).status, 200);
  });

  await t.test('/v2/token trades Basic credentials for a token that works as Bearer', async () => {
    const res = await v2(d, '/v2/token?service=skiff&scope=repository:a/b:pull,push', { auth: basicAuth(d.token) });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { token: string; access_token: string };
    assert.equal(typeof body.token, 'string');
    assert.equal(body.access_token, body.token);
    const after = await v2(d, '/v2/', { auth: `Bearer ${body.token}` });
    assert.equal(after.status, 200);
    await after.arrayBuffer();
  });

  await t.test('/v2/token refuses bad credentials', async () => {
    await expectOciError(await v2(d, '/v2/token', { auth: basicAuth('wrong') }), 401, 'UNAUTHORIZED');
    await expectOciError(await v2(d, '/v2/token', { auth: null }), 401, 'UNAUTHORIZED');
  });

  await t.test('a pull token reads, every write is 403 DENIED, and revoking it is immediate', async () => {
    const created = await fetch(`${d.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${d.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'puller', role: 'pull' }),
    });
    assert.equal(created.status, 201);
    const { id, secret } = (await created.json()) as { id: string; secret: string };
    const repo = uniqueRepo('auth');
    const image = await pushImage(d, repo, 'v1');
    const puller = { url: d.url, token: secret };

    const get = await v2(puller, `/v2/${repo}/manifests/v1`, { auth: basicAuth(secret) });
    assert.equal(get.status, 200);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), image.bytes);
    const head = await v2(puller, `/v2/${repo}/blobs/${image.layers[0]!.digest}`, { method: 'HEAD' });
    assert.equal(head.status, 200);

    const writes: Array<[string, string]> = [
      ['POST', `/v2/${repo}/blobs/uploads/`],
      ['PUT', `/v2/${repo}/manifests/v2`],
      ['DELETE', `/v2/${repo}/manifests/${image.digest}`],
      ['DELETE', `/v2/${repo}/blobs/${image.layers[0]!.digest}`],
    ];
    for (const [method, path] of writes) {
      const res = await v2(puller, path, { method, body: method === 'PUT' ? image.bytes : undefined });
      await expectOciError(res, 403, 'DENIED');
    }
    assert.equal((await v2(d, `/v2/${repo}/manifests/v1`, { method: 'HEAD' })).status, 200, 'denied delete left the manifest');

    const revoke = await fetch(`${d.url}/api/v1/tokens/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${d.token}` } });
    assert.equal(revoke.status, 204);
    await expectOciError(await v2(puller, '/v2/'), 401, 'UNAUTHORIZED');
  });
});
