// The Services page's rows, search and sort (web/src/services-model.ts): pure functions, no browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceView } from '../../src/core/views.ts';
import { searchRows, sortRows, toRow } from '../../web/src/services-model.ts';

function service(name: string, project: string, extra: { phases?: string[]; traffic?: ServiceView['traffic']; serving?: string; image?: string } = {}): ServiceView {
  const serving = extra.serving ?? `${name}-00001`;
  return {
    name, project, url: `http://${name}.${project}.skiff.local`, pathUrl: `/s/${name}/`, image: extra.image ?? `127.0.0.1:5000/${project}/${name}:v1`,
    latestRevision: serving, servingRevision: serving, traffic: extra.traffic ?? [{ revision: serving, percent: 100 }],
    scaling: { min: 0, max: 10, concurrency: 100, metric: 'concurrency' }, keepAlive: { kind: 'fixed', keepAliveMs: 60_000, reason: 'default' },
    revisions: [{ name: serving, image: 'x', digest: 'x@sha256:0', createdAt: '', config: {} as never, status: { started: true, failures: 0 }, instances: (extra.phases ?? []).map((phase, i) => ({ id: `i${i}`, phase })) }],
    events: [], createdAt: '', updatedAt: '',
  };
}

test('a row counts instances by phase in a fixed order and writes the traffic split', () => {
  const row = toRow(service('api', 'shop', { phases: ['starting', 'ready', 'ready', 'weird', 'pre-created'], traffic: [{ revision: 'api-00002', percent: 90 }, { revision: 'api-00001', percent: 10, tag: 'old' }] }));
  assert.deepEqual(row.instances, [['ready', 2], ['starting', 1], ['pre-created', 1], ['weird', 1]]);
  assert.equal(row.totalInstances, 5);
  assert.equal(row.traffic, 'api-00002 90% · api-00001 10% (old)');
  assert.deepEqual(toRow(service('idle', 'shop')).instances, []);
});

test('search matches every word anywhere, case-insensitively', () => {
  const rows = [service('api', 'shop'), service('web', 'shop', { image: 'reg/frontend:v2' }), service('api', 'blog')].map(toRow);
  assert.deepEqual(searchRows(rows, '').length, 3);
  assert.deepEqual(searchRows(rows, 'API').map((r) => r.project), ['shop', 'blog']);
  assert.deepEqual(searchRows(rows, 'api blog').map((r) => `${r.project}/${r.name}`), ['blog/api']);
  assert.deepEqual(searchRows(rows, 'frontend').map((r) => r.name), ['web']);
  assert.deepEqual(searchRows(rows, 'nothing-like-it'), []);
});

test('sort by any column, both ways, ties by name; numbers in names sort as numbers', () => {
  const rows = [service('svc10', 'b', { phases: ['ready'] }), service('svc2', 'a', { phases: ['ready', 'ready'] }), service('svc1', 'b')].map(toRow);
  assert.deepEqual(sortRows(rows, 'name', 'ascending').map((r) => r.name), ['svc1', 'svc2', 'svc10']);
  assert.deepEqual(sortRows(rows, 'name', 'descending').map((r) => r.name), ['svc10', 'svc2', 'svc1']);
  assert.deepEqual(sortRows(rows, 'project', 'ascending').map((r) => r.name), ['svc2', 'svc1', 'svc10']);
  assert.deepEqual(sortRows(rows, 'instances', 'descending').map((r) => r.name), ['svc2', 'svc10', 'svc1']);
  assert.deepEqual(rows.map((r) => r.name), ['svc10', 'svc2', 'svc1'], 'the input is not reordered');
});
