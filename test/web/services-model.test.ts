// The Services page's rows, search and sort (web/src/services-model.ts): pure functions, no browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceView } from '../../src/core/views.ts';
import { latencyLabel, msText, rateText, requestsLabel, searchRows, sortRows, statsRows, toRow, withStats } from '../../web/src/services-model.ts';
import { sparklinePath } from '../../web/src/sparkline-model.ts';

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

test('stats rows: rates per second, peak and now, the latest percentiles, joined by project and name', () => {
  const stats = statsRows({
    stepSeconds: 60,
    t: [60, 120, 180, 240],
    services: [
      { name: 'api', project: 'shop', requests: [0, 600, 120, 30], p50Ms: [null, 4.25, 12, 8], p99Ms: [null, 80, 40.4, 20], coldStarts: 3 },
      { name: 'api', project: 'blog', requests: [0, 0, 6, 0], p50Ms: [null, null, 5, null], p99Ms: [null, null, 9, null], coldStarts: 0 },
      { name: 'idle', project: 'shop', requests: [0, 0, 0, 0], p50Ms: [null, null, null, null], p99Ms: [null, null, null, null], coldStarts: 0 },
    ],
  });
  const shop = stats.get('shop/api')!;
  assert.deepEqual(shop.rps, [0, 10, 2, 0.5]);
  assert.equal(shop.requests, 750);
  assert.equal(shop.peakRps, 10);
  assert.equal(shop.nowRps, 0.5);
  assert.equal(requestsLabel(shop), 'peak 10/s, now 0.5/s');
  assert.equal(latencyLabel(shop), 'latest p50 8 ms, p99 20 ms; highest p99 80 ms');
  // the latest step with requests gives the latency, not the latest step
  const blog = stats.get('blog/api')!;
  assert.equal(blog.nowRps, 0);
  assert.deepEqual([blog.p50Now, blog.p99Now], [5, 9]);
  assert.equal(requestsLabel(blog), 'peak 0.1/s, now 0/s');
  const idle = stats.get('shop/idle')!;
  assert.equal(requestsLabel(idle), 'no requests in the last hour');
  assert.equal(latencyLabel(idle), 'no requests in the last hour');

  const rows = withStats([service('api', 'shop'), service('api', 'blog'), service('new', 'shop')].map(toRow), stats);
  assert.equal(rows[0]!.stats, shop);
  assert.equal(rows[1]!.stats, blog);
  assert.equal(rows[2]!.stats, undefined, 'a service deployed after the stats were read has none yet');
  assert.equal(withStats(rows, undefined).length, 3);
});

test('sort by requests in the window and by cold starts; a row without stats yet counts below zero', () => {
  const stats = statsRows({
    stepSeconds: 60,
    t: [60, 120],
    services: [
      { name: 'busy', project: 'p', requests: [600, 0], p50Ms: [1, null], p99Ms: [2, null], coldStarts: 0 },
      { name: 'spiky', project: 'p', requests: [0, 60], p50Ms: [null, 1], p99Ms: [null, 2], coldStarts: 4 },
      { name: 'quiet', project: 'p', requests: [0, 0], p50Ms: [null, null], p99Ms: [null, null], coldStarts: 1 },
    ],
  });
  const rows = withStats(['busy', 'spiky', 'quiet', 'unread'].map((n) => toRow(service(n, 'p'))), stats);
  assert.deepEqual(sortRows(rows, 'requests', 'descending').map((r) => r.name), ['busy', 'spiky', 'quiet', 'unread']);
  assert.deepEqual(sortRows(rows, 'requests', 'ascending').map((r) => r.name), ['unread', 'quiet', 'spiky', 'busy']);
  assert.deepEqual(sortRows(rows, 'coldStarts', 'descending').map((r) => r.name), ['spiky', 'quiet', 'busy', 'unread']);
});

test('rates and latencies as text: small rates not rounded to zero, no value is a dash', () => {
  assert.deepEqual([0, 1 / 60, 0.333333, 3.25, 99.94, 1234.5].map(rateText), ['0', '0.017', '0.33', '3.3', '99.9', '1235']);
  assert.deepEqual([null, 4.25, 12.6].map(msText), ['—', '4.3 ms', '13 ms']);
});

test('sparkline paths: scaled to the box, a gap at each null, a lone value still drawn', () => {
  assert.equal(sparklinePath([], 100, 10), '');
  // 0 at the bottom (height − 1), the max at the top (1)
  assert.equal(sparklinePath([0, 5, 10], 100, 10), 'M0 9L50 5L100 1');
  assert.equal(sparklinePath([0, 5, 10], 100, 10, 20), 'M0 9L50 7L100 5', 'a common max for series drawn together');
  assert.equal(sparklinePath([0, 0], 10, 10), 'M0 9L10 9', 'all zeros: a flat line at the bottom');
  assert.equal(sparklinePath([1, null, 2, 3], 30, 10), 'M0 6.3h3M20 3.7L30 1', 'a gap, and a lone value as a short stroke');
  assert.equal(sparklinePath([null, null], 10, 10), '');
  assert.equal(sparklinePath([4], 10, 10), 'M3.5 1h3', 'one value, in the middle');
  assert.equal(sparklinePath([null, 2], 10, 10), 'M7 1h3', 'at the right edge: inside the box');
});
