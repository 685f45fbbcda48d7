// GET/DELETE /api/v1/registry/repositories…: the dashboard's way into the registry. Scoped as /v2 is
// (a project's token sees its project's repositories only; another's answers as not there), a
// repository name is one encoded path segment and path tricks reach nothing, a referrer shows under
// its subject, and deleting a tag or a manifest is what DELETE /v2/… does (verified through /v2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon } from '../helpers/daemon.ts';
import { pushImage, pushBlob, putManifest, imageManifest, manifestBytes, MEDIA } from '../helpers/oci.ts';
import { digestOf } from '../../src/core/digest.ts';
import { SkiffClient } from '../../src/api/client.ts';

test('registry browsing over /api/v1: lists, details, referrers, project scope, path tricks, deletes', { timeout: 120_000 }, async (t) => {
  const d = await startTestDaemon(t);
  const operator = new SkiffClient({ baseUrl: d.url, token: d.token });
  await operator.createProject('team-a');
  await operator.createProject('team-b');
  const aPush = (await operator.createToken('a-push', 'push', 'team-a')).secret;
  const bPull = (await operator.createToken('b-pull', 'pull', 'team-b')).secret;
  const a = new SkiffClient({ baseUrl: d.url, token: aPush });
  const b = new SkiffClient({ baseUrl: d.url, token: bPull });

  const v1 = await pushImage(d, 'team-a/app', 'v1', { layers: 2, layerSize: 2048 });
  // a second tag of the same manifest, and an untagged signature whose subject is v1
  await putManifest(d, 'team-a/app', 'stable', v1.bytes, MEDIA.ociManifest);
  const cfg = await pushBlob(d, 'team-a/app', '{}', 'application/vnd.example.sig.config+json');
  const sigBytes = manifestBytes(imageManifest(cfg, [], { artifactType: 'application/vnd.example.signature', subject: v1.descriptor }));
  await putManifest(d, 'team-a/app', digestOf(sigBytes), sigBytes, MEDIA.ociManifest);
  await pushImage(d, 'team-b/tool', 'latest');

  // lists: each project its own; the operator every one
  assert.deepEqual((await a.listRepositories()).repositories, [{ name: 'team-a/app', project: 'team-a', tags: 2 }]);
  assert.deepEqual((await b.listRepositories()).repositories.map((r) => r.name), ['team-b/tool']);
  assert.deepEqual((await operator.listRepositories()).repositories.map((r) => r.name).sort(), ['team-a/app', 'team-b/tool']);

  // a repository: one entry per digest with its tags, sizes and referrers
  const detail = await a.repository('team-a/app');
  assert.equal(detail.manifests.length, 1);
  const m = detail.manifests[0]!;
  assert.equal(m.digest, v1.digest);
  assert.deepEqual(m.tags, ['stable', 'v1']);
  assert.equal(m.size, v1.bytes.length);
  assert.equal(m.contentSize, v1.config.size + v1.layers.reduce((n, l) => n + l.size, 0));
  assert.deepEqual(m.referrers.map((r) => [r.digest, r.artifactType]), [[digestOf(sigBytes), 'application/vnd.example.signature']]);

  const raw = async (token: string, method: string, p: string) => {
    const res = await fetch(`${d.url}/api/v1/registry/repositories/${p}`, { method, headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    return { status: res.status, code: /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? '', text };
  };
  // another project's repository is one that does not exist: the same answer as a name nobody has
  const theirs = await raw(bPull, 'GET', 'team-a%2Fapp');
  const nobodys = await raw(bPull, 'GET', 'team-b%2Fnobody');
  assert.deepEqual([theirs.status, theirs.code], [404, 'NAME_UNKNOWN']);
  assert.deepEqual([nobodys.status, nobodys.code], [404, 'NAME_UNKNOWN']);
  assert.ok(!theirs.text.includes('v1') && !theirs.text.includes(v1.digest), theirs.text);

  // path tricks: a raw slash is another route, dot segments and double encoding are not names
  for (const p of ['team-a/app', 'team-b%2F..%2Fteam-a%2Fapp', '..%2Fteam-a%2Fapp', 'team-a%252Fapp', '%2Fteam-a%2Fapp', 'team-a%2F%2Fapp', 'team-a%2Fapp%00', 'TEAM-A%2FAPP']) {
    const r = await raw(bPull, 'GET', p);
    assert.ok([400, 404].includes(r.status), `${p}: ${r.status} ${r.text.slice(0, 200)}`);
    assert.ok(!r.text.includes(v1.digest), `${p} leaked: ${r.text.slice(0, 300)}`);
  }
  // and with a's own token, the encoded name works while the tricks still do not reach it
  assert.equal((await raw(aPush, 'GET', 'team-a%2Fapp')).status, 200);
  assert.equal((await raw(aPush, 'GET', 'team-b%2F..%2Fteam-a%2Fapp')).status, 400);

  // a pull token may not delete; another project's push-less caller cannot touch A's tag
  assert.equal((await raw(bPull, 'DELETE', 'team-a%2Fapp/tags/v1')).status, 403);
  const bPush = (await operator.createToken('b-push', 'push', 'team-b')).secret;
  const stolen = await raw(bPush, 'DELETE', 'team-a%2Fapp/tags/v1');
  assert.deepEqual([stolen.status, stolen.code], [404, 'MANIFEST_UNKNOWN']);
  assert.deepEqual((await a.repository('team-a/app')).manifests[0]!.tags, ['stable', 'v1']);

  // deleting a tag leaves the manifest under its other tag; /v2 agrees
  await a.deleteImage('team-a/app', 'v1');
  const v2 = (ref: string) => fetch(`${d.url}/v2/team-a/app/manifests/${ref}`, { method: 'HEAD', headers: { authorization: `Bearer ${aPush}`, accept: MEDIA.ociManifest } });
  assert.equal((await v2('v1')).status, 404);
  assert.equal((await v2('stable')).status, 200);
  assert.deepEqual((await a.repository('team-a/app')).manifests[0]!.tags, ['stable']);
  // deleting the manifest by digest takes its last tag with it
  await a.deleteImage('team-a/app', v1.digest);
  assert.equal((await v2(v1.digest)).status, 404);
  assert.equal((await v2('stable')).status, 404);
  assert.deepEqual((await a.repository('team-a/app')).manifests, []);
  await assert.rejects(a.deleteImage('team-a/app', 'v1'), (err: { code?: string }) => err.code === 'MANIFEST_UNKNOWN');
});
