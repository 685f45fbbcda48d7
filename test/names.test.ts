import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRepositoryName, isTag, parseReference } from '../src/core/names.ts';
import { parseDigest } from '../src/core/digest.ts';
import { parseV2Path } from '../src/registry/paths.ts';

test('repository names follow the distribution spec', () => {
  for (const ok of ['a', 'team/app', 'a.b/c_d/e__f/g-h', 'x/blobs', 'a--b', 'a'.repeat(255)]) assert.ok(isRepositoryName(ok), ok);
  for (const bad of ['', 'A', 'team/', '/team', 'a//b', '-a', 'a-', 'a/../b', 'a/./b', 'a___b', 'a'.repeat(256), 'a b', 'a/b:c']) {
    assert.ok(!isRepositoryName(bad), bad);
  }
});

test('tags and references', () => {
  assert.ok(isTag('v1.0_rc-1'));
  assert.ok(!isTag('.v1'));
  assert.ok(!isTag('a'.repeat(129)));
  assert.deepEqual(parseReference('latest'), { kind: 'tag', tag: 'latest' });
  const d = 'sha256:' + 'a'.repeat(64);
  assert.deepEqual(parseReference(d), { kind: 'digest', digest: d });
  assert.throws(() => parseReference('sha256:abc'), /invalid digest/);
});

test('digests are validated by algorithm and length', () => {
  assert.equal(parseDigest('sha256:' + 'f'.repeat(64)).hex, 'f'.repeat(64));
  assert.throws(() => parseDigest('sha256:' + 'F'.repeat(64)));
  assert.throws(() => parseDigest('md5:' + 'a'.repeat(32)), /not supported/);
  assert.throws(() => parseDigest('sha256'));
});

test('/v2 paths are split into name and endpoint from the right', () => {
  const d = 'sha256:' + 'a'.repeat(64);
  assert.deepEqual(parseV2Path('/v2/team/app/manifests/v1'), { kind: 'manifest', name: 'team/app', reference: 'v1' });
  assert.deepEqual(parseV2Path('/v2/x/blobs/manifests/v1'), { kind: 'manifest', name: 'x/blobs', reference: 'v1' });
  assert.deepEqual(parseV2Path('/v2/a/blobs/uploads/'), { kind: 'upload-start', name: 'a' });
  assert.deepEqual(parseV2Path('/v2/a/blobs/uploads/123'), { kind: 'upload', name: 'a', id: '123' });
  assert.deepEqual(parseV2Path(`/v2/a/b/blobs/${d}`), { kind: 'blob', name: 'a/b', digest: d });
  assert.deepEqual(parseV2Path('/v2/a/tags/list'), { kind: 'tags', name: 'a' });
  assert.deepEqual(parseV2Path(`/v2/a/referrers/${d}`), { kind: 'referrers', name: 'a', digest: d });
  assert.deepEqual(parseV2Path('/v2/_catalog'), { kind: 'catalog' });
  assert.equal(parseV2Path('/v2/a/unknown'), undefined);
});

test('serving names: revisions, instance and run ids, hosts, cgroups and pinned references come from core/names', async () => {
  const { SERVICE_NAME_RE, instanceCgroup, instanceId, isInstanceId, pinnedReference, revisionName, revisionOfInstance, runId, serviceHost } = await import('../src/core/names.ts');
  assert.equal(revisionName('hello', 7), 'hello-00007');
  const longest = 'a'.repeat(63);
  assert.ok(SERVICE_NAME_RE.test(longest));
  const id = instanceId(revisionName(longest, 12345));
  assert.match(id, /^a{63}-12345-[0-9a-f]{6}$/);
  assert.ok(isInstanceId(id), 'the id of the longest service name is a valid instance id');
  assert.equal(revisionOfInstance(id), revisionName(longest, 12345));
  assert.notEqual(instanceId('r-00001'), instanceId('r-00001'));
  assert.match(runId(), /^run-[0-9a-f]{12}$/);
  assert.ok(isInstanceId(runId()));
  assert.equal(serviceHost('hello', 'apps.example'), 'hello.apps.example');
  assert.equal(instanceCgroup('/skiff', id), `/skiff/${id}`);
  assert.throws(() => instanceCgroup('/skiff', '../escape'), /invalid instance id/);
  assert.equal(pinnedReference({ repository: 'team/app', digest: 'sha256:' + 'b'.repeat(64) }), `team/app@sha256:${'b'.repeat(64)}`);
});
