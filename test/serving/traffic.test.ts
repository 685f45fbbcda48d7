// The rules of a traffic list and what a deploy does to it (serving/traffic.ts), the rollout's
// effective split with tags (scheduler/rollout.ts), and the route table's choice between a service and
// a tag of the same name (gateway/routing.ts). Pure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertTraffic, keepingTags, trafficAfterDeploy } from '../../src/serving/traffic.ts';
import { effectiveTraffic } from '../../src/scheduler/rollout.ts';
import { RouteTable } from '../../src/gateway/routing.ts';
import type { ServiceRecord } from '../../src/core/service.ts';
import { SkiffError } from '../../src/core/errors.ts';

const badRequest = (pattern: RegExp) => (err: unknown) => err instanceof SkiffError && err.code === 'BAD_REQUEST' && pattern.test(err.message);

test('a deploy takes all traffic by default, keeps tags on their revisions, and moves the tag it names', () => {
  assert.deepEqual(trafficAfterDeploy('web', undefined, 'web-00001'), [{ revision: 'web-00001', percent: 100 }]);
  const old = [{ revision: 'web-00001', percent: 100 }, { revision: 'web-00002', percent: 0, tag: 'cand' }, { revision: 'web-00001', percent: 0, tag: 'stable' }];
  assert.deepEqual(trafficAfterDeploy('web', old, 'web-00003'), [{ revision: 'web-00003', percent: 100 }, { revision: 'web-00002', percent: 0, tag: 'cand' }, { revision: 'web-00001', percent: 0, tag: 'stable' }]);
  assert.deepEqual(trafficAfterDeploy('web', old, 'web-00003', { noTraffic: true, tag: 'cand' }), [{ revision: 'web-00001', percent: 100 }, { revision: 'web-00001', percent: 0, tag: 'stable' }, { revision: 'web-00003', percent: 0, tag: 'cand' }]);
  // a tag that carried a share: moved, the share stays on its revision (merged with its untagged entry)
  const shared = [{ revision: 'web-00001', percent: 60 }, { revision: 'web-00002', percent: 40, tag: 'cand' }];
  assert.deepEqual(trafficAfterDeploy('web', shared, 'web-00003', { noTraffic: true, tag: 'cand' }), [{ revision: 'web-00001', percent: 60 }, { revision: 'web-00002', percent: 40 }, { revision: 'web-00003', percent: 0, tag: 'cand' }]);
  assert.throws(() => trafficAfterDeploy('web', undefined, 'web-00001', { noTraffic: true }), badRequest(/^noTraffic: web is new/));
  assert.throws(() => trafficAfterDeploy('web', old, 'web-00003', { tag: 'Bad' }), badRequest(/^tag: must be a DNS label/));
  assert.throws(() => trafficAfterDeploy('web', old, 'web-00003', { tag: 'a--b' }), badRequest(/without '--'/));
  assert.throws(() => trafficAfterDeploy('w'.repeat(60), [], 'x', { tag: 'long' }), badRequest(/longer than a DNS label/));
});

test('a split adds up to 100, names a revision once untagged, uses each tag once', () => {
  assertTraffic('web', [{ revision: 'a', percent: 100 }, { revision: 'a', percent: 0, tag: 't' }, { revision: 'b', percent: 0, tag: 'u' }]);
  assert.throws(() => assertTraffic('web', [{ revision: 'a', percent: 90 }]), badRequest(/add up to 90, not 100/));
  assert.throws(() => assertTraffic('web', [{ revision: 'a', percent: 50 }, { revision: 'a', percent: 50 }]), badRequest(/appears twice without a tag/));
  assert.throws(() => assertTraffic('web', [{ revision: 'a', percent: 100, tag: 't' }, { revision: 'b', percent: 0, tag: 't' }]), badRequest(/tag t names two revisions/));
  assert.deepEqual(keepingTags([{ revision: 'a', percent: 30, tag: 't' }, { revision: 'b', percent: 70 }], [{ revision: 'c', percent: 100 }]), [{ revision: 'c', percent: 100 }, { revision: 'a', percent: 0, tag: 't' }]);
});

test('the rollout moves shares to the previous revision, never a tag', () => {
  const service = { previousServing: 'web-00001', traffic: [{ revision: 'web-00002', percent: 100 }, { revision: 'web-00002', percent: 0, tag: 'cand' }] } as ServiceRecord;
  const ready = (counts: Record<string, number>) => (rev: string) => counts[rev] ?? 0;
  assert.deepEqual(effectiveTraffic(service, ready({ 'web-00001': 1 })), [{ revision: 'web-00001', percent: 100 }, { revision: 'web-00002', percent: 0, tag: 'cand' }]);
  assert.deepEqual(effectiveTraffic(service, ready({ 'web-00001': 1, 'web-00002': 1 })), [{ revision: 'web-00002', percent: 100 }, { revision: 'web-00002', percent: 0, tag: 'cand' }]);
});

test("a service's own route wins over a tag route of the same name; a tag answers by host and by path", () => {
  const table = new RouteTable();
  const tagRoute = { service: 'b', name: 'a--b', hosts: ['a--b.test'], targets: [{ revision: 'b-00002', percent: 100 }] };
  const serviceRoute = { service: 'a--b', hosts: ['a--b.test'], targets: [{ revision: 'a--b-00001', percent: 100 }] };
  table.replace([serviceRoute, tagRoute]);
  assert.equal(table.match('a--b.test', '/')?.route, serviceRoute);
  assert.equal(table.match(undefined, '/s/a--b/x')?.route, serviceRoute);
  table.replace([tagRoute]);
  assert.equal(table.match('a--b.test:8080', '/')?.route, tagRoute);
  assert.deepEqual(table.match('other', '/s/a--b/x?y'), { route: tagRoute, path: '/x?y' });
});
