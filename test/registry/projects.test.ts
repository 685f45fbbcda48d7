// Registry repositories belong to projects (core/projects.ts repositoryProject: team-a/app is team-a's,
// every other name default's). A token of project A touches only A's repositories; B's answer A
// exactly as a repository that does not exist (the same status, code and message, the name aside),
// pushes into them are refused with a message that reads the same whether B exists or not, and the
// catalog lists only the caller's. Deploys, runs and jobs of A naming B's image fail as a missing image.
// The projects and tokens are made in the store before the daemon starts (its project names are read
// at start); one project is made through the API, to see a new project take effect at once.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/open.ts';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { expectOciError, pushBlob, putManifest, pushImage, v2, type RegistryTarget, type TestImage } from '../helpers/oci.ts';
import { requireTool, run } from '../helpers/tools.ts';
import { OciLayout, readLayoutBlob } from '../clients/layout.ts';

type Tokens = Record<'aPush' | 'aPull' | 'aDeploy' | 'bPush' | 'defaultPush' | 'operator', string>;

/** A daemon whose store has projects team-a and team-b, and tokens of each (and one spanning all). */
async function projectDaemon(t: TestContext): Promise<{ d: TestDaemon; tokens: Tokens; as: (token: string) => RegistryTarget }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-test-projects-'));
  const store = await openStore({ dataDir });
  const now = Date.now();
  for (const name of ['team-a', 'team-b']) await store.projects.createProject({ name, quota: {}, createdAt: now });
  const token = async (name: string, project: string, role: 'admin' | 'deploy' | 'push' | 'pull') => (await store.tokens.create(name, project, role, now)).secret;
  const tokens: Tokens = {
    aPush: await token('a-push', 'team-a', 'push'),
    aPull: await token('a-pull', 'team-a', 'pull'),
    aDeploy: await token('a-deploy', 'team-a', 'deploy'),
    bPush: await token('b-push', 'team-b', 'push'),
    defaultPush: await token('default-push', 'default', 'push'),
    operator: await token('operator', '*', 'admin'),
  };
  await store.close();
  const d = await startTestDaemon(t, { dataDir });
  t.after(() => rmSync(dataDir, { recursive: true, force: true })); // after the daemon's own stop (registered first)
  return { d, tokens, as: (secret) => ({ url: d.url, token: secret }) };
}

/** status, code and message of a response, with `name` written as NAME: to compare two repositories' answers */
async function answer(res: Response, name: string): Promise<{ status: number; body: string }> {
  const text = await res.text();
  return { status: res.status, body: text.split(name).join('NAME') };
}

/** An image with real gzipped tar layers (one an instance driver can unpack), pushed over /v2. */
async function pushLayoutImage(reg: RegistryTarget, repo: string, tag: string): Promise<string> {
  const layout = new OciLayout(mkdtempSync(path.join(os.tmpdir(), 'skiff-test-layout-')));
  try {
    const image = await layout.addImage({ layerCount: 1, layerSize: 512 });
    for (const d of [image.config, ...image.layers]) await pushBlob(reg, repo, readLayoutBlob(layout.dir, d.digest), d.mediaType);
    return (await putManifest(reg, repo, tag, readLayoutBlob(layout.dir, image.descriptor.digest), image.descriptor.mediaType)).digest;
  } finally {
    rmSync(layout.dir, { recursive: true, force: true });
  }
}

test('registry repositories belong to projects', async (t) => {
  const { d, tokens, as } = await projectDaemon(t);
  const a = as(tokens.aPush);
  const b = as(tokens.bPush);
  const operator = as(tokens.operator);
  let bImage: TestImage;
  let aImage: TestImage;

  await t.test('each project pushes and pulls its own repositories', async () => {
    bImage = await pushImage(b, 'team-b/app', 'v1');
    aImage = await pushImage(a, 'team-a/app', 'v1');
    await pushImage(a, 'team-a/web', 'v1');
    await pushImage(as(tokens.defaultPush), 'tools/app', 'v1');
    for (const [reg, repo] of [[a, 'team-a/app'], [b, 'team-b/app'], [as(tokens.aPull), 'team-a/app']] as const) {
      const res = await v2(reg, `/v2/${repo}/manifests/v1`, { headers: { accept: '*/*' } });
      assert.equal(res.status, 200, `${repo}: ${await res.clone().text()}`);
      await res.arrayBuffer();
    }
  });

  await t.test('another project\'s repository answers as one that does not exist', async () => {
    const layer = bImage.layers[0]!.digest;
    const requests: Array<[string, string, (repo: string) => string, Record<string, string>?]> = [
      ['GET', 'manifest by tag', (r) => `/v2/${r}/manifests/v1`],
      ['HEAD', 'manifest by tag', (r) => `/v2/${r}/manifests/v1`],
      ['GET', 'manifest by digest', (r) => `/v2/${r}/manifests/${bImage.digest}`],
      ['GET', 'tags', (r) => `/v2/${r}/tags/list`],
      ['GET', 'blob', (r) => `/v2/${r}/blobs/${layer}`],
      ['HEAD', 'blob', (r) => `/v2/${r}/blobs/${layer}`],
      ['GET', 'blob range', (r) => `/v2/${r}/blobs/${layer}`, { range: 'bytes=0-9' }],
      ['GET', 'referrers', (r) => `/v2/${r}/referrers/${bImage.digest}`],
      ['GET', 'upload status', (r) => `/v2/${r}/blobs/uploads/${randomUUID()}`],
      ['DELETE', 'manifest by tag', (r) => `/v2/${r}/manifests/v1`],
      ['DELETE', 'manifest by digest', (r) => `/v2/${r}/manifests/${bImage.digest}`],
      ['DELETE', 'blob', (r) => `/v2/${r}/blobs/${layer}`],
    ];
    for (const [method, what, url, headers] of requests) {
      const theirs = await answer(await v2(a, url('team-b/app'), { method, headers }), 'team-b/app');
      const missing = await answer(await v2(a, url('team-b/never-pushed'), { method, headers }), 'team-b/never-pushed');
      // upload ids differ per request: compare without them
      const strip = (x: { status: number; body: string }) => ({ status: x.status, body: x.body.replace(/upload [0-9a-f-]{36}/, 'upload ID') });
      assert.deepEqual(strip(theirs), strip(missing), `${method} ${what}`);
      if (what !== 'referrers') assert.equal(theirs.status, 404, `${method} ${what}: ${theirs.body}`);
    }
    await expectOciError(await v2(a, '/v2/team-b/app/manifests/v1'), 404, 'NAME_UNKNOWN');
    await expectOciError(await v2(a, '/v2/team-b/app/tags/list'), 404, 'NAME_UNKNOWN');
    const referrers = (await (await v2(a, `/v2/team-b/app/referrers/${bImage.digest}`)).json()) as { manifests: unknown[] };
    assert.deepEqual(referrers.manifests, []);
    // default's repositories are not team-a's either, and team-a's are not default's
    await expectOciError(await v2(a, '/v2/tools/app/manifests/v1'), 404, 'NAME_UNKNOWN');
    await expectOciError(await v2(as(tokens.defaultPush), '/v2/team-a/app/manifests/v1'), 404, 'NAME_UNKNOWN');
    // the deletes above touched nothing: B still has its image
    const still = await v2(b, `/v2/team-b/app/manifests/v1`, { method: 'HEAD' });
    assert.equal(still.status, 200);
    assert.equal(still.headers.get('docker-content-digest'), bImage.digest);
  });

  await t.test('a push into another project\'s repository is refused alike whether that project exists or not', async () => {
    const denied = async (repo: string) => {
      const start = await expectOciError(await v2(a, `/v2/${repo}/blobs/uploads/`, { method: 'POST' }), 403, 'DENIED');
      const manifest = await expectOciError(await v2(a, `/v2/${repo}/manifests/v2`, { method: 'PUT', body: bImage.bytes, headers: { 'content-type': bImage.descriptor.mediaType } }), 403, 'DENIED');
      assert.equal(start.message, manifest.message);
      return start.message.split(repo).join('NAME');
    };
    const existing = await denied('team-b/app');
    assert.match(existing, /team-a\/NAME/);
    assert.equal(await denied('team-z/app'), existing, 'a project that does not exist reads the same');
    assert.equal(await denied('tools/app'), existing, 'nor does default\'s');
    const monolithic = await v2(a, `/v2/team-b/app/blobs/uploads/?digest=${bImage.config.digest}`, { method: 'POST', body: 'x' });
    await expectOciError(monolithic, 403, 'DENIED');
  });

  await t.test('a blob is not mounted from another project\'s repository', async () => {
    const layer = bImage.layers[0]!.digest;
    const res = await v2(a, `/v2/team-a/app/blobs/uploads/?mount=${layer}&from=team-b/app`, { method: 'POST' });
    // not possible: a plain upload session, as from a repository that does not exist
    assert.equal(res.status, 202, await res.clone().text());
    await expectOciError(await v2(a, `/v2/team-a/app/blobs/${layer}`, { method: 'GET' }), 404, 'BLOB_UNKNOWN');
    // from its own repository a mount works
    const own = await v2(a, `/v2/team-a/web/blobs/uploads/?mount=${aImage.layers[0]!.digest}&from=team-a/app`, { method: 'POST' });
    assert.equal(own.status, 201);
  });

  await t.test('the catalog lists only the caller\'s repositories, a page as long as asked', async () => {
    const catalog = async (reg: RegistryTarget, query = '') => {
      const res = await v2(reg, `/v2/_catalog${query}`);
      assert.equal(res.status, 200);
      return { repositories: ((await res.json()) as { repositories: string[] }).repositories, link: res.headers.get('link') };
    };
    assert.deepEqual((await catalog(a)).repositories, ['team-a/app', 'team-a/web']);
    assert.deepEqual((await catalog(b)).repositories, ['team-b/app']);
    assert.deepEqual((await catalog(as(tokens.defaultPush))).repositories, ['tools/app']);
    assert.deepEqual((await catalog(operator)).repositories, ['team-a/app', 'team-a/web', 'team-b/app', 'tools/app']);
    const first = await catalog(a, '?n=1');
    assert.deepEqual(first.repositories, ['team-a/app']);
    assert.match(first.link ?? '', /last=team-a%2Fapp/);
    const second = await catalog(a, '?n=1&last=team-a%2Fapp');
    assert.deepEqual(second.repositories, ['team-a/web']);
    assert.equal(second.link, null);
  });

  await t.test('a token spanning every project reads, pushes and deletes in all', async () => {
    for (const repo of ['team-a/app', 'team-b/app', 'tools/app']) {
      const res = await v2(operator, `/v2/${repo}/tags/list`);
      assert.equal(res.status, 200, repo);
      await res.arrayBuffer();
    }
    await pushImage(operator, 'team-b/ops', 'v1');
    assert.equal((await v2(operator, '/v2/team-b/ops/manifests/v1', { method: 'DELETE' })).status, 202);
    // what it pushed under team-b/ is team-b's
    assert.equal((await v2(b, '/v2/team-b/ops/tags/list')).status, 200);
  });

  await t.test('a pull token of a project reads its own repositories only, and pushes nothing', async () => {
    const puller = as(tokens.aPull);
    assert.equal((await v2(puller, '/v2/team-a/app/tags/list')).status, 200);
    await expectOciError(await v2(puller, '/v2/team-b/app/tags/list'), 404, 'NAME_UNKNOWN');
    await expectOciError(await v2(puller, '/v2/team-a/app/blobs/uploads/', { method: 'POST' }), 403, 'DENIED');
  });

  await t.test('a project made through the API owns its repositories at once', async (st) => {
    const created = await fetch(`${d.url}/api/v1/projects`, { method: 'POST', headers: { authorization: `Bearer ${tokens.operator}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'team-c' }) });
    if (created.status === 404) return st.skip('no POST /api/v1/projects in this build');
    assert.equal(created.status, 201, await created.clone().text());
    const token = await fetch(`${d.url}/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${tokens.operator}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'c-push', project: 'team-c', role: 'push' }) });
    assert.equal(token.status, 201, await token.clone().text());
    const c = as(((await token.json()) as { secret: string }).secret);
    await pushImage(c, 'team-c/app', 'v1');
    await expectOciError(await v2(a, '/v2/team-c/app/tags/list'), 404, 'NAME_UNKNOWN');
    await expectOciError(await v2(as(tokens.defaultPush), '/v2/team-c/app/tags/list'), 404, 'NAME_UNKNOWN');
    await expectOciError(await v2(c, '/v2/team-a/app/tags/list'), 404, 'NAME_UNKNOWN');
  });
});

test('deploys, runs and jobs use only their project\'s images', async (t) => {
  const { d, tokens, as } = await projectDaemon(t);
  await pushImage(as(tokens.bPush), 'team-b/app', 'v1');
  await pushLayoutImage(as(tokens.aPush), 'team-a/app', 'v1');
  const api = async (token: string, method: string, url: string, body: unknown, project?: string) => {
    const res = await fetch(`${d.url}/api/v1${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(project ? { 'skiff-project': project } : {}) },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, error: (JSON.parse(text) as { error?: { code: string; message: string } }).error };
  };
  const requests = (image: string) => [
    ['deploy', '/services', { name: 'web', image }],
    ['run', '/runs', { image }],
    ['job', '/jobs', { name: 'batch', image }],
  ] as const;

  await t.test('another project\'s image is NAME_UNKNOWN, as a missing one, however it is named', async () => {
    for (const image of ['team-b/app:v1', `${d.host}/team-b/app:v1`, `localhost:5000/team-b/app:v1`, 'team-b/app@' + 'sha256:' + '0'.repeat(64)]) {
      for (const [what, url, body] of requests(image)) {
        const theirs = await api(tokens.aDeploy, 'POST', url, body);
        assert.equal(theirs.status, 404, `${what} ${image}: ${theirs.text}`);
        assert.equal(theirs.error?.code, 'NAME_UNKNOWN', `${what} ${image}: ${theirs.text}`);
        const missing = await api(tokens.aDeploy, 'POST', url, { ...body, image: image.replace('team-b/app', 'team-b/never-pushed') });
        assert.equal(theirs.error?.message.replace('team-b/app', 'NAME'), missing.error?.message.replace('team-b/never-pushed', 'NAME'), `${what} ${image}`);
      }
    }
  });

  await t.test('its own repositories resolve (a missing tag is MANIFEST_UNKNOWN), and a deploy of its own image works', async () => {
    for (const [what, url, body] of requests('team-a/app:nope')) {
      const res = await api(tokens.aDeploy, 'POST', url, body);
      assert.equal(res.error?.code, 'MANIFEST_UNKNOWN', `${what}: ${res.text}`);
    }
    const deployed = await api(tokens.aDeploy, 'POST', '/services', { name: 'web', image: `${d.host}/team-a/app:v1` });
    assert.equal(deployed.status, 201, deployed.text);
  });

  await t.test('a token spanning every project uses the images of the project it acts in', async () => {
    const inA = await api(tokens.operator, 'POST', '/services', { name: 'ops', image: 'team-b/app:v1' }, 'team-a');
    assert.equal(inA.error?.code, 'NAME_UNKNOWN', inA.text);
    const inB = await api(tokens.operator, 'POST', '/services', { name: 'ops', image: 'team-b/app:nope' }, 'team-b');
    assert.equal(inB.error?.code, 'MANIFEST_UNKNOWN', inB.text);
  });
});

const skopeoMissing = requireTool('skopeo', 'skopeo');

test('skopeo pushes into its project\'s repositories and nowhere else', { skip: skopeoMissing }, async (t) => {
  const { d, tokens } = await projectDaemon(t);
  const work = mkdtempSync(path.join(os.tmpdir(), 'skiff-skopeo-projects-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const layout = new OciLayout(path.join(work, 'source'));
  layout.tag('image', (await layout.addImage()).descriptor);
  const skopeo = (...args: string[]) => run('skopeo', ['--insecure-policy', '--tmpdir', work, ...args]);
  const push = (token: string, repo: string) => skopeo('copy', '--dest-creds', `skiff:${token}`, '--dest-tls-verify=false', `oci:${layout.dir}:image`, `docker://${d.host}/${repo}:v1`);
  const inspect = (token: string, repo: string) => skopeo('inspect', '--raw', '--creds', `skiff:${token}`, '--tls-verify=false', `docker://${d.host}/${repo}:v1`);

  await push(tokens.aPush, 'team-a/app');
  await push(tokens.bPush, 'team-b/app');
  assert.match((await inspect(tokens.aPush, 'team-a/app')).stdout, /schemaVersion/);

  await assert.rejects(push(tokens.aPush, 'team-b/app'), /denied.*team-a\/NAME/is);
  await assert.rejects(push(tokens.aPush, 'team-b/other'), /denied/i);
  await assert.rejects(inspect(tokens.aPush, 'team-b/app'), /unknown/i);
  await assert.rejects(skopeo('list-tags', '--creds', `skiff:${tokens.aPush}`, '--tls-verify=false', `docker://${d.host}/team-b/app`), /404/);
  // B's image is as B pushed it
  assert.match((await inspect(tokens.bPush, 'team-b/app')).stdout, /schemaVersion/);
});
