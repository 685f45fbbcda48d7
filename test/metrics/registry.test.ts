// The metrics registry (daemon/metrics.ts) on fake sources: every Skiff metric is in the catalogue
// with its type and labels, the labels are bounded (no instance ids, paths, hosts or user input),
// the histograms are well formed, and docs/metrics.md lists exactly the catalogue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BOUNDED_LABELS, COLD_START_BOUND_INDEXES, METRICS, SkiffMetrics, registryOperation, REGISTRY_OPERATIONS, type MetricsSources } from '../../src/daemon/metrics.ts';
import { RequestStats } from '../../src/gateway/request-stats.ts';
import { ColdStartStats } from '../../src/scheduler/cold-start-stats.ts';
import { EMPTY_STATS } from '../../src/triggers/service.ts';
import { loadSettings } from '../../src/config/settings.ts';
import type { SkiffError } from '../../src/core/errors.ts';

const silent = { info() {}, warn() {}, error() {}, debug() {}, child: () => silent } as never;

function fixture() {
  const requests = new RequestStats();
  requests.record(200, 3);
  requests.record(204, 40);
  requests.record(503, 2_000);
  requests.record(0, 70_000);
  const coldStarts = new ColdStartStats(silent);
  coldStarts.stages('shop-00001', { instance: 'shop-00001-abc123', source: 'created', queuedMs: 1, createdMs: 120, startedMs: 30, readyMs: 400, probes: 3 });
  coldStarts.firstByte('shop-00001', 560, 600);
  const sources: MetricsSources = {
    gateway: {
      revisionPools: () => [{ revision: 'shop-00001', requests, active: 2, queued: 1 }, { revision: 'gone-00003', requests: new RequestStats(), active: 0, queued: 0 }],
      openConnections: 5,
      refusedConnections: 1,
    },
    revisions: () => [{ service: 'shop', revision: 'shop-00001', desired: 3, ready: 2, panic: true, failures: 1, failuresTotal: 3, phases: { 'pre-created': 1, starting: 1, ready: 2, draining: 0, frozen: 0 } }],
    coldStarts,
  };
  const metrics = new SkiffMetrics(sources);
  metrics.setTriggers(() => [{ trigger: 'orders', stats: { ...EMPTY_STATS, deliveries: 7, successes: 6, failures: 2, retries: 1, deadLettered: 1 }, brokerBacklog: 12, disconnects: 2 }], () => new Map([['shop', 4]]));
  metrics.registryOperation('manifest_put', 201, 1024, 300);
  metrics.storeError('ping');
  return metrics;
}

/** `name{labels} value` lines of the exposition, parsed. */
function samples(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(l);
      assert.ok(m, `a sample line: ${l}`);
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}

test('every Skiff metric is in the catalogue, with its type and only bounded labels', async () => {
  const metrics = fixture();
  const text = await metrics.render();
  const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  const skiff = [...types.keys()].filter((n) => n.startsWith('skiff_'));
  assert.deepEqual(skiff.sort(), Object.keys(METRICS).sort(), 'exactly the catalogue is exported');
  for (const [name, def] of Object.entries(METRICS)) {
    assert.equal(types.get(name), def.type, `${name} is a ${def.type}`);
    for (const l of def.labels) assert.ok((BOUNDED_LABELS as readonly string[]).includes(l), `${name}: label ${l} is a bounded one`);
  }
  // process and Node.js metrics (collectDefaultMetrics)
  for (const n of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) assert.ok(types.has(n), n);

  for (const s of samples(text).filter((x) => x.name.startsWith('skiff_'))) {
    const base = s.name.replace(/_(bucket|sum|count)$/, '');
    const def = METRICS[(s.name in METRICS ? s.name : base) as keyof typeof METRICS];
    assert.ok(def, `${s.name} belongs to a catalogued metric`);
    const expected = [...def.labels, ...(s.name.endsWith('_bucket') ? ['le'] : [])].sort();
    assert.deepEqual(Object.keys(s.labels).sort(), expected, `${s.name} has its declared labels`);
    for (const v of Object.values(s.labels)) assert.doesNotMatch(v, /[0-9a-f]{6}$|\//, `${s.name}: no instance id or path in ${v}`);
    assert.ok(Number.isFinite(s.value) || s.labels.le === '+Inf', `${s.name} ${s.value}`);
  }
});

test('the values read from the planes at scrape time', async () => {
  const all = samples(await fixture().render());
  const value = (name: string, labels: Record<string, string>) => all.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  assert.equal(value('skiff_gateway_requests_total', { service: 'shop', revision: 'shop-00001', code_class: '2xx' }), 2);
  assert.equal(value('skiff_gateway_requests_total', { revision: 'shop-00001', code_class: '5xx' }), 1);
  assert.equal(value('skiff_gateway_requests_total', { revision: 'shop-00001', code_class: 'none' }), 1);
  // a pool the scheduler no longer lists: its service is read from the revision's name
  assert.equal(value('skiff_gateway_requests_total', { service: 'gone', revision: 'gone-00003', code_class: '2xx' }), 0);
  assert.equal(value('skiff_gateway_request_duration_seconds_bucket', { revision: 'shop-00001', le: '0.005' }), 1);
  assert.equal(value('skiff_gateway_request_duration_seconds_bucket', { revision: 'shop-00001', le: '0.05' }), 2);
  assert.equal(value('skiff_gateway_request_duration_seconds_bucket', { revision: 'shop-00001', le: '60' }), 3);
  assert.equal(value('skiff_gateway_request_duration_seconds_bucket', { revision: 'shop-00001', le: '+Inf' }), 4);
  assert.equal(value('skiff_gateway_request_duration_seconds_count', { revision: 'shop-00001' }), 4);
  assert.equal(value('skiff_gateway_requests_in_flight', { revision: 'shop-00001' }), 2);
  assert.equal(value('skiff_gateway_requests_queued', { revision: 'shop-00001' }), 1);
  assert.equal(value('skiff_instances', { service: 'shop', state: 'ready' }), 2);
  assert.equal(value('skiff_instances', { service: 'shop', state: 'pre-created' }), 1);
  assert.equal(value('skiff_autoscaler_desired_instances', { revision: 'shop-00001' }), 3);
  assert.equal(value('skiff_autoscaler_actual_instances', { revision: 'shop-00001' }), 2);
  assert.equal(value('skiff_autoscaler_panic', { revision: 'shop-00001' }), 1);
  assert.equal(value('skiff_revision_failures_total', { revision: 'shop-00001' }), 3);
  assert.equal(value('skiff_revision_consecutive_failures', { revision: 'shop-00001' }), 1);
  assert.equal(value('skiff_cold_starts_total', { revision: 'shop-00001', source: 'created' }), 1);
  assert.equal(value('skiff_cold_start_stage_seconds_count', { revision: 'shop-00001', stage: 'firstByte' }), 1);
  assert.equal(value('skiff_cold_start_stage_seconds_sum', { revision: 'shop-00001', stage: 'ready' }), 0.4);
  assert.equal(value('skiff_trigger_deliveries_total', { trigger: 'orders' }), 7);
  assert.equal(value('skiff_trigger_dead_lettered_total', { trigger: 'orders' }), 1);
  assert.equal(value('skiff_trigger_backlog_messages', { trigger: 'orders' }), 12);
  assert.equal(value('skiff_trigger_disconnects_total', { trigger: 'orders' }), 2);
  assert.equal(value('skiff_service_event_backlog', { service: 'shop' }), 4);
  assert.equal(value('skiff_registry_operations_total', { operation: 'manifest_put', code_class: '2xx' }), 1);
  assert.equal(value('skiff_registry_received_bytes_total', { operation: 'manifest_put' }), 1024);
  assert.equal(value('skiff_store_errors_total', { operation: 'ping' }), 1);
});

test('the cold-start histogram buckets are the breakdown histogram’s own bounds (cumulative, monotonic)', async () => {
  const all = samples(await fixture().render());
  for (const stage of ['queued', 'created', 'started', 'ready', 'firstByte']) {
    const buckets = all.filter((s) => s.name === 'skiff_cold_start_stage_seconds_bucket' && s.labels.stage === stage);
    assert.equal(buckets.length, COLD_START_BOUND_INDEXES.length + 1);
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, `${stage}: cumulative`);
    assert.equal(buckets.at(-1)!.value, 1, `${stage}: +Inf holds the one cold start`);
  }
  // ready took 400 ms: not in the 0.2048 s bucket, in the 0.4096 s one
  const ready = (le: string) => all.find((s) => s.name === 'skiff_cold_start_stage_seconds_bucket' && s.labels.stage === 'ready' && s.labels.le === le)?.value;
  assert.equal(ready('0.2048'), 0);
  assert.equal(ready('0.4096'), 1);
});

test('registry operations are a fixed list of words, whatever the path', () => {
  const cases: Array<[string, string, string]> = [
    ['GET', '/v2/', 'base'],
    ['GET', '/v2/_catalog?n=10', 'catalog'],
    ['GET', '/v2/team/app/tags/list', 'tags'],
    ['GET', `/v2/team/app/referrers/sha256:${'a'.repeat(64)}`, 'referrers'],
    ['HEAD', '/v2/team/app/manifests/v1', 'manifest_head'],
    ['PUT', '/v2/a/b/c/manifests/v1', 'manifest_put'],
    ['GET', `/v2/team/app/blobs/sha256:${'a'.repeat(64)}`, 'blob_get'],
    ['POST', '/v2/team/app/blobs/uploads/', 'upload_start'],
    ['POST', '/v2/team/app/blobs/uploads/?digest=sha256:x', 'upload_monolithic'],
    ['POST', '/v2/team/app/blobs/uploads/?mount=sha256:x&from=other/app', 'blob_mount'],
    ['PATCH', '/v2/team/app/blobs/uploads/0f3c', 'upload_chunk'],
    ['PUT', '/v2/team/app/blobs/uploads/0f3c?digest=sha256:x', 'upload_finish'],
    ['GET', '/v2/../../etc/passwd', 'other'],
  ];
  for (const [method, url, op] of cases) assert.equal(registryOperation(method, url), op, `${method} ${url}`);
  for (const [method, url] of cases) assert.ok((REGISTRY_OPERATIONS as readonly string[]).includes(registryOperation(method, url)));
});

test('docs/metrics.md lists every metric with its labels', () => {
  const doc = readFileSync('docs/metrics.md', 'utf8');
  for (const [name, def] of Object.entries(METRICS)) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${name}\``));
    assert.ok(row, `${name} has a row in docs/metrics.md`);
    const cells = row.split('|').map((c) => c.trim());
    assert.equal(cells[2], def.type, `${name}: type`);
    const labels = [...cells[3]!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
    assert.deepEqual(labels, [...def.labels], `${name}: labels`);
  }
});

test('metrics.listen: HOST:PORT, empty or off; anything else is CONFIG_INVALID naming it', () => {
  assert.equal(loadSettings({}).metrics.listen, '', 'off by default');
  assert.equal(loadSettings({ env: { SKIFF_METRICS_LISTEN: '127.0.0.1:9464' } }).metrics.listen, '127.0.0.1:9464');
  assert.equal(loadSettings({ env: { SKIFF_METRICS_LISTEN: 'off' } }).metrics.listen, '');
  assert.throws(() => loadSettings({ env: { SKIFF_METRICS_LISTEN: 'localhost' } }), (err: SkiffError) => err.code === 'CONFIG_INVALID' && /metrics\.listen/.test(err.message));
});
