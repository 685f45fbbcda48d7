// Update semantics as a user meets them (the compiled CLI against a daemon): `skiff deploy NAME` of an
// existing service changes only what its flags state — the regression was a redeploy that reset min,
// max, concurrency, env, memory and timeout — `skiff update` likewise, `--env K-` removes a variable,
// a redeploy without --image keeps the digest the service runs, and `deploy -f` is the whole
// configuration. describe shows the serving revision's effective configuration, before and after a
// rollback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pushHttpdImage } from '../helpers/images.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { isCI, isRoot } from '../helpers/tools.ts';
import { skiff, skiffOk as ok } from '../helpers/cli.ts';
import { SkiffClient } from '../../src/api/client.ts';
import { gatewayGet } from '../helpers/serving.ts';

const skip = !isRoot && !isCI ? 'needs root (image unpack: overlay whiteouts, xattrs)' : false;

test('deploy of an existing service and update change only what they state; deploy -f replaces; describe shows what serves', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const repo = uniqueRepo('upd');
  const v1 = await pushHttpdImage(d, repo, 'v1');
  const v2 = await pushHttpdImage(d, repo, 'v2');
  const config = async () => {
    const s = await client.service('web');
    return { s, c: s.revisions.find((r) => r.name === s.latestRevision)!.config, digest: s.revisions.find((r) => r.name === s.latestRevision)!.digest };
  };

  await ok(d, ['deploy', 'web', '--image', v1.reference, '--env', 'A=1', '--env', 'B=2', '--memory', '128Mi', '--max', '3', '--concurrency', '5', '--timeout', '30s']);
  await ok(d, ['deploy', 'web', '--image', v2.reference]);
  let { s, c, digest } = await config();
  assert.equal(s.latestRevision, 'web-00002');
  assert.deepEqual(c.env, { A: '1', B: '2' }, 'env carried over');
  assert.equal(c.memoryBytes, 128 * 1024 ** 2, 'memory carried over');
  assert.equal(c.timeoutMs, 30_000, 'timeout carried over');
  assert.equal(c.scaling.concurrency, 5);
  assert.deepEqual([s.scaling.min, s.scaling.max], [0, 3], 'bounds carried over');
  assert.equal(digest, `${repo}@${v2.digest}`);

  // no --image: the digest the service runs, even after the tag moves
  await pushHttpdImage(d, repo, 'v2', 'moved');
  await ok(d, ['deploy', 'web', '--env', 'A=2']);
  ({ c, digest } = await config());
  assert.deepEqual(c.env, { A: '2', B: '2' });
  assert.equal(digest, `${repo}@${v2.digest}`, 'pinned to the digest web-00002 ran, not the moved tag');

  await ok(d, ['update', 'web', '--env', 'B-', '--concurrency', '10']);
  ({ c } = await config());
  assert.deepEqual(c.env, { A: '2' }, '--env B- removed B');
  assert.equal(c.scaling.target, 10, 'the target followed the concurrency, as it did when it was unstated');
  assert.equal(c.memoryBytes, 128 * 1024 ** 2);

  const none = await skiff(d, ['update', 'web']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^skiff: error USAGE: update: give at least one setting/);
  const missing = await skiff(d, ['update', 'nope', '--env', 'A=1']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^skiff: error NOT_FOUND: no service named nope/);
  const noImage = await skiff(d, ['deploy', 'fresh', '--env', 'A=1']);
  assert.equal(noImage.code, 1);
  assert.match(noImage.stderr, /--image .*is required/);

  // -f is the whole configuration: what the file does not state is back to its default
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-upd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'web.yaml'), `name: web\nimage: ${v1.reference}\nenv: { C: '3' }\n`);
  await ok(d, ['deploy', '-f', path.join(dir, 'web.yaml')]);
  ({ s, c } = await config());
  assert.deepEqual(c.env, { C: '3' });
  assert.equal(c.memoryBytes, 256 * 1024 ** 2);
  assert.deepEqual([s.scaling.min, s.scaling.max], [0, 10]);

  // after a rollback, describe and ls show the revision serving, not the latest
  await ok(d, ['rollback', 'web']);
  s = await client.service('web');
  assert.equal(s.latestRevision, 'web-00005');
  assert.equal(s.servingRevision, 'web-00004');
  assert.equal(s.image, `${repo}@${v2.digest}`);
  const described = await ok(d, ['describe', 'web']);
  assert.match(described, /^serving {3}web-00004 {2}\(latest: web-00005\)$/m);
  assert.match(described, /^ {2}env A=2$/m, 'the serving revision’s config');
  assert.match(await ok(d, ['ls']), /^web\s+web-00004\s/m);

  // revisions, rollback --to, traffic @latest
  const revisions = await ok(d, ['revisions', 'web']);
  assert.match(revisions, /^REVISION\s+TRAFFIC\s+READY\s+CREATED\s+IMAGE/);
  assert.match(revisions, /^web-00005\s+0%\s+.*\(latest\)$/m);
  assert.match(revisions, /^web-00004\s+100%\s+.*\(serving\)$/m);
  await ok(d, ['rollback', 'web', '--to', 'web-00001']);
  assert.equal((await client.service('web')).servingRevision, 'web-00001');
  const nope = await skiff(d, ['rollback', 'web', '--to', 'web-00099']);
  assert.equal(nope.code, 1);
  assert.match(nope.stderr, /^skiff: error NOT_FOUND: to: web has no revision "web-00099"/);
  await ok(d, ['traffic', 'web', '@latest=100']);
  assert.deepEqual((await client.service('web')).traffic, [{ revision: 'web-00005', percent: 100 }]);
});

test('deploy --no-traffic --tag: the new revision answers only at TAG--NAME until the split moves; traffic --tag/--remove-tag', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const repo = uniqueRepo('tag');
  const v1 = await pushHttpdImage(d, repo, 'v1');
  const v2 = await pushHttpdImage(d, repo, 'v2');

  const fresh = await skiff(d, ['deploy', 'web', '--image', v1.reference, '--no-traffic']);
  assert.equal(fresh.code, 1);
  assert.match(fresh.stderr, /^skiff: error USAGE: --no-traffic: web does not exist yet/);
  await ok(d, ['deploy', 'web', '--image', v1.reference]);
  const out = await ok(d, ['deploy', 'web', '--image', v2.reference, '--no-traffic', '--tag', 'cand']);
  assert.match(out, /^ready {5}in /m, 'it waited for the new revision to start, though it takes no traffic');
  assert.match(out, /^traffic {3}unchanged \(--no-traffic\): web-00001=100% {2}web-00002=0% \(tag cand\)$/m);
  assert.match(out, /^tag url {3}http:\/\/cand--web\.localhost:\d+\/ {3}\(web-00002, tag cand\)$/m);
  assert.equal((await gatewayGet(d.gatewayUrl, 'web')).body, 'hello from v1\n');
  assert.equal((await gatewayGet(d.gatewayUrl, 'cand--web')).body, 'hello from v2\n');
  assert.equal((await gatewayGet(d.gatewayUrl, 'x', '/s/cand--web/')).body, 'hello from v2\n');
  const s = await client.service('web');
  assert.equal(s.servingRevision, 'web-00001');
  assert.match(s.traffic.find((x) => x.tag === 'cand')?.url ?? '', /^http:\/\/cand--web\.localhost:\d+\/$/);
  assert.match(await ok(d, ['revisions', 'web']), /^web-00002\s+0%\s+.*\(latest, tag cand\)$/m);
  assert.match(await ok(d, ['describe', 'web']), /^tag url {3}http:\/\/cand--web\.localhost:\d+\/ {3}\(web-00002, tag cand\)$/m);

  // the split moves; the tag stays; a second tag; then tags go
  await ok(d, ['traffic', 'web', 'web-00001=50', 'web-00002=50', '--tag', 'stable=web-00001']);
  assert.deepEqual((await client.service('web')).traffic.map(({ url: _u, ...x }) => x), [
    { revision: 'web-00001', percent: 50 },
    { revision: 'web-00002', percent: 50 },
    { revision: 'web-00002', percent: 0, tag: 'cand' },
    { revision: 'web-00001', percent: 0, tag: 'stable' },
  ]);
  assert.equal((await gatewayGet(d.gatewayUrl, 'stable--web')).body, 'hello from v1\n');
  await ok(d, ['rollback', 'web', '--to', 'web-00002']);
  assert.equal((await gatewayGet(d.gatewayUrl, 'stable--web')).body, 'hello from v1\n', 'a rollback keeps the tags');
  await ok(d, ['traffic', 'web', '--remove-tag', 'cand']);
  assert.equal((await gatewayGet(d.gatewayUrl, 'cand--web')).status, 404);
  assert.deepEqual((await client.service('web')).traffic.map(({ url: _u, ...x }) => x), [{ revision: 'web-00002', percent: 100 }, { revision: 'web-00001', percent: 0, tag: 'stable' }]);
  const unknown = await skiff(d, ['traffic', 'web', '--remove-tag', 'nope']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^skiff: error NOT_FOUND: --remove-tag: web has no tag "nope"/);
  const bad = await skiff(d, ['deploy', 'web', '--tag', 'Bad_Tag']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^skiff: error BAD_REQUEST: --tag: must be a DNS label without '--'/);
});

test('--placement / --spread: deployed, shown by describe, replaced by an update, removed by --clear-placement; runc runs the instance anyway', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const v1 = await pushHttpdImage(d, uniqueRepo('place'), 'v1');
  const placement = async () => {
    const s = await client.service('edge');
    return s.revisions.find((r) => r.name === s.latestRevision)!.config.placement;
  };
  // the runc driver ignores placement: the instance starts (deploy waits for it) on this machine
  await ok(d, ['deploy', 'edge', '--image', v1.reference, '--placement', 'node.labels.zone == edge', '--placement', 'node.role!=manager', '--spread', 'node.labels.rack']);
  assert.deepEqual(await placement(), { constraints: ['node.labels.zone==edge', 'node.role!=manager'], spread: ['node.labels.rack'] });
  assert.match(await ok(d, ['describe', 'edge']), /^ {2}placement node\.labels\.zone==edge, node\.role!=manager, spread over node\.labels\.rack$/m);
  assert.equal((await gatewayGet(d.gatewayUrl, 'edge')).status, 200);

  await ok(d, ['update', 'edge', '--placement', 'node.labels.zone==core', '--no-wait']);
  assert.deepEqual(await placement(), { constraints: ['node.labels.zone==core'], spread: ['node.labels.rack'] }, 'the list given replaced; spread carried over');
  await ok(d, ['update', 'edge', '--env', 'A=1', '--no-wait']);
  assert.deepEqual(await placement(), { constraints: ['node.labels.zone==core'], spread: ['node.labels.rack'] }, 'an update not naming it keeps it');
  await ok(d, ['update', 'edge', '--clear-placement', '--no-wait']);
  assert.equal(await placement(), undefined);
  assert.doesNotMatch(await ok(d, ['describe', 'edge']), /placement/);
  const bad = await skiff(d, ['update', 'edge', '--placement', 'zone=edge']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^skiff: error BAD_REQUEST: --placement: "zone=edge"/);
  assert.equal((await client.service('edge')).latestRevision, 'edge-00004', 'the refused update stored nothing');
});
