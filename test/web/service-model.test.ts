// The service page's pure parts, no browser: traffic slider math and the body it sends
// (web/src/service-model.ts), the log tail's line handling and filters (web/src/service-logs-model.ts),
// and the charts' columns (web/src/charts-model.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RevisionConfig, ServiceStatsView, ServiceView } from '../../src/core/views.ts';
import { configRows, eventsNewestFirst, instanceRows, moveShown, moveSlider, rollbackTarget, shownSliders, serviceStatus, slidersOf, tabOf, total, trafficBody, trafficChanges, type Share } from '../../web/src/service-model.ts';
import { MAX_LINES, appendCapped, filterLines, newSince, parseLine, sinceFor, sourcesOf, splitChunk } from '../../web/src/service-logs-model.ts';
import { bucketLabels, coldStartBars, hasData, instancesByPhase, requestRates, summary } from '../../web/src/charts-model.ts';

const CONFIG = {
  port: 8080, env: { DATABASE_URL: 'postgres://u:hunter2@db/x', GREETING: 'hi' }, memoryBytes: 64 * 1024 * 1024, cpus: 0.5, pids: 256, readOnlyRoot: false,
  timeoutMs: 30_000, queueLimit: 100, drainGraceMs: 10_000,
  scaling: { concurrency: 5, target: 5, targetUtilization: 0.7, metric: 'concurrency', stableWindowMs: 60_000, panicWindowMs: 6_000, panicThreshold: 2, idleWindowMs: 30_000, scaleToZeroGraceMs: 30_000, freezeIdle: true },
  readiness: { path: '/healthz', periodMs: 1000, timeoutMs: 1000, failureThreshold: 3 },
} as unknown as RevisionConfig;

function service(revisions: Array<{ name: string; failures?: number; phases?: string[] }>, traffic: ServiceView['traffic']): ServiceView {
  return {
    name: 'web', project: 'default', url: 'http://web.localhost/', pathUrl: '/s/web/', image: 'repo:v1', latestRevision: revisions[0]!.name, servingRevision: revisions[0]!.name, traffic,
    scaling: { min: 0, max: 3, concurrency: 5, metric: 'concurrency' }, keepAlive: { kind: 'fixed', keepAliveMs: 60_000, reason: 'default' },
    revisions: revisions.map((r) => ({ name: r.name, image: 'repo:v1', digest: 'repo@sha256:0', createdAt: '2026-01-01T00:00:00.000Z', config: CONFIG, status: { started: true, failures: r.failures ?? 0 }, instances: (r.phases ?? []).map((phase, i) => ({ id: `${r.name}-00000${i}`, phase })) })),
    events: [], createdAt: '', updatedAt: '',
  };
}

const shares = (...xs: Array<[string, number]>): Share[] => xs.map(([revision, percent]) => ({ revision, percent }));

test('sliders: one per revision at its share; moving one moves the others in proportion and keeps 100', () => {
  const s = service([{ name: 'web-00003' }, { name: 'web-00002' }, { name: 'web-00001' }], [{ revision: 'web-00002', percent: 100 }, { revision: 'web-00001', percent: 0, tag: 'old' }]);
  assert.deepEqual(slidersOf(s), shares(['web-00003', 0], ['web-00002', 100], ['web-00001', 0]));

  // the others hold nothing: the remainder goes to the next slider (two revisions: the other one)
  assert.deepEqual(moveSlider(shares(['a', 100], ['b', 0]), 0, 50), shares(['a', 50], ['b', 50]));
  assert.deepEqual(moveSlider(shares(['a', 0], ['b', 100]), 1, 70), shares(['a', 30], ['b', 70]));
  // in proportion to what they hold, whole numbers that add up
  const moved = moveSlider(shares(['a', 50], ['b', 30], ['c', 20]), 0, 0);
  assert.deepEqual(moved, shares(['a', 0], ['b', 60], ['c', 40]));
  const odd = moveSlider(shares(['a', 34], ['b', 33], ['c', 33]), 0, 1);
  assert.equal(total(odd), 100);
  assert.deepEqual(odd, shares(['a', 1], ['b', 50], ['c', 49]));
  // clamped, rounded; a lone slider is always 100
  assert.deepEqual(moveSlider(shares(['a', 60], ['b', 40]), 1, 140.4), shares(['a', 0], ['b', 100]));
  assert.deepEqual(moveSlider(shares(['a', 60], ['b', 40]), 1, -3), shares(['a', 100], ['b', 0]));
  assert.deepEqual(moveSlider(shares(['a', 100]), 0, 20), shares(['a', 100]));
  // many random moves never leave the total off 100
  let xs = shares(['a', 25], ['b', 25], ['c', 25], ['d', 25]);
  for (let i = 0; i < 500; i++) {
    xs = moveSlider(xs, (i * 7) % 4, (i * 37) % 101);
    assert.equal(total(xs), 100, JSON.stringify(xs));
    assert.ok(xs.every((x) => Number.isInteger(x.percent) && x.percent >= 0));
  }
});

test('a long history shows a few sliders; a hidden revision is never given a share', () => {
  const names = Array.from({ length: 10 }, (_, i) => `r${10 - i}`);
  const current = names.map((revision) => ({ revision, percent: revision === 'r3' ? 100 : 0 }));
  // the four newest and the one serving
  assert.deepEqual(shownSliders(current, current, false), [0, 1, 2, 3, 7]);
  assert.deepEqual(shownSliders(current, current, true).length, 10);
  // r3 (shown 5th, index 7) down to 40: the rest goes to the next shown slider, not to hidden r2
  const moved = moveShown(current, [0, 1, 2, 3, 7], 4, 40);
  assert.equal(total(moved), 100);
  assert.equal(moved[7]!.percent, 40);
  assert.equal(moved[8]!.percent, 0, 'r2 is hidden');
  assert.equal(moved[3]!.percent, 60);
  // once it holds a share, a revision stays shown
  const edited = moveShown(current, shownSliders(current, current, true), 9, 10);
  assert.ok(shownSliders(edited, current, false).includes(9));
});

test('the confirm step lists what changes; the body is what skiff traffic sends, tags kept', () => {
  const s = service([{ name: 'web-00002' }, { name: 'web-00001' }], [{ revision: 'web-00002', percent: 100 }, { revision: 'web-00001', percent: 0, tag: 'old' }]);
  const before = slidersOf(s);
  const after = moveSlider(before, 0, 50);
  assert.deepEqual(trafficChanges(before, after), [{ revision: 'web-00002', from: 100, to: 50 }, { revision: 'web-00001', from: 0, to: 50 }]);
  assert.deepEqual(trafficChanges(before, before), []);
  assert.deepEqual(trafficBody(s, after), { traffic: [{ revision: 'web-00002', percent: 50 }, { revision: 'web-00001', percent: 50 }, { revision: 'web-00001', percent: 0, tag: 'old' }] });
});

test('rollback goes to the revision before the newest one taking traffic', () => {
  const s = service([{ name: 'web-00003' }, { name: 'web-00002' }, { name: 'web-00001' }], [{ revision: 'web-00002', percent: 100 }]);
  assert.equal(rollbackTarget(s), 'web-00001');
  assert.equal(rollbackTarget(service([{ name: 'web-00001' }], [{ revision: 'web-00001', percent: 100 }])), undefined);
});

test('status, tabs, instances, config and events', () => {
  assert.equal(serviceStatus(service([{ name: 'r2', failures: 3 }, { name: 'r1', phases: ['ready'] }], [{ revision: 'r2', percent: 100 }])).label, 'Crash loop');
  // a failing revision taking no traffic does not make the service look broken
  assert.equal(serviceStatus(service([{ name: 'r2', failures: 3 }, { name: 'r1', phases: ['ready'] }], [{ revision: 'r1', percent: 100 }])).label, 'Serving');
  assert.equal(serviceStatus(service([{ name: 'r1', phases: ['starting'] }], [{ revision: 'r1', percent: 100 }])).label, 'Starting');
  assert.equal(serviceStatus(service([{ name: 'r1' }], [{ revision: 'r1', percent: 100 }])).label, 'Scaled to zero');
  assert.equal(tabOf('logs'), 'logs');
  assert.equal(tabOf(undefined), 'overview');
  assert.equal(tabOf('nonsense'), 'overview');

  const s = service([{ name: 'r1', phases: ['ready', 'frozen'] }], [{ revision: 'r1', percent: 100 }]);
  Object.assign(s.revisions[0]!.instances[0]!, { address: '10.0.0.2:8080', node: 'n2', startedAt: new Date(Date.parse('2026-01-01T00:00:00Z') - 125_000).toISOString(), cpuPercent: 3.25, memoryBytes: 12 * 1024 * 1024 });
  const rows = instanceRows(s, Date.parse('2026-01-01T00:00:00Z'));
  assert.deepEqual(rows[0], { id: 'r1-000000', phase: 'ready', revision: 'r1', address: '10.0.0.2:8080', node: 'n2', age: '2 min', cpu: '3.3%', memory: '12 MiB' });
  assert.deepEqual(rows[1], { id: 'r1-000001', phase: 'frozen', revision: 'r1', address: '', node: '', age: '', cpu: '', memory: '' });

  const config = configRows(CONFIG);
  const env = config.find(([k]) => k === 'Environment');
  assert.deepEqual(env, ['Environment', 'DATABASE_URL, GREETING']);
  assert.doesNotMatch(JSON.stringify(config), /hunter2|hi"/, 'no env value is shown');
  assert.deepEqual(config.find(([k]) => k === 'Limits'), ['Limits', 'memory 64 MiB, CPU 0.5, pids 256']);

  const events = [
    { at: '2026-01-01T00:00:01.000Z', revision: 'r1', kind: 'deploy', message: 'a' },
    { at: '2026-01-01T00:00:03.000Z', revision: 'r1', kind: 'back-off', message: 'b' },
    { at: '2026-01-01T00:00:02.000Z', revision: null, kind: 'scale', message: 'c' },
  ];
  assert.deepEqual(eventsNewestFirst(events).map((e) => e.message), ['b', 'c', 'a']);
});

test('log lines: split across chunks, parsed, capped, filtered, continued after a break', () => {
  let r = splitChunk('', 'web-00001-abc123 2026-01-01T00:00:00.000Z stdout hel');
  assert.deepEqual(r.lines, []);
  r = splitChunk(r.rest, 'lo\r\nweb-00002-0f0f0f 2026-01-01T00:00:01.000Z stderr boom\nweb-');
  assert.deepEqual(r.lines, ['web-00001-abc123 2026-01-01T00:00:00.000Z stdout hello', 'web-00002-0f0f0f 2026-01-01T00:00:01.000Z stderr boom']);
  assert.equal(r.rest, 'web-');

  const lines = r.lines.map((l, i) => parseLine(l, i + 1));
  assert.deepEqual(lines[0], { seq: 1, instance: 'web-00001-abc123', revision: 'web-00001', time: '2026-01-01T00:00:00.000Z', stream: 'stdout', text: 'hello' });
  assert.deepEqual(parseLine('web-00001-abc123 2026-01-01T00:00:00.000Z stdout', 9).text, '', 'an empty line');
  assert.deepEqual(parseLine('something else', 3), { seq: 3, instance: '', revision: '', time: '', stream: '', text: 'something else' });

  assert.deepEqual(sourcesOf(lines), { revisions: ['web-00001', 'web-00002'], instances: ['web-00001-abc123', 'web-00002-0f0f0f'] });
  const none = { revision: '', instance: '', stream: '', text: '' } as const;
  assert.equal(filterLines(lines, none).length, 2);
  assert.deepEqual(filterLines(lines, { ...none, stream: 'stderr' }).map((l) => l.text), ['boom']);
  assert.deepEqual(filterLines(lines, { ...none, revision: 'web-00001' }).map((l) => l.text), ['hello']);
  assert.deepEqual(filterLines(lines, { ...none, instance: 'web-00002-0f0f0f' }).map((l) => l.text), ['boom']);
  assert.deepEqual(filterLines(lines, { ...none, text: 'HEL' }).map((l) => l.text), ['hello']);
  assert.deepEqual(filterLines(lines, { ...none, revision: 'web-00001', stream: 'stderr' }), []);

  // only the last MAX_LINES are kept, whichever side they come from
  const many = Array.from({ length: MAX_LINES + 10 }, (_, i) => i);
  assert.deepEqual(appendCapped([], many), many.slice(10));
  const capped = appendCapped(many.slice(0, MAX_LINES), [-1, -2]);
  assert.equal(capped.length, MAX_LINES);
  assert.deepEqual(capped.slice(-3), [MAX_LINES - 1, -1, -2]);
  assert.equal(capped[0], 2);
  assert.deepEqual(appendCapped([1, 2], [3], 5), [1, 2, 3]);

  // after a reconnect: lines older than the last held are dropped, as are same-time lines already held
  const again = [
    parseLine('web-00001-abc123 2026-01-01T00:00:00.000Z stdout hello', 10),
    parseLine('web-00002-0f0f0f 2026-01-01T00:00:01.000Z stderr boom', 11),
    parseLine('web-00002-0f0f0f 2026-01-01T00:00:01.000Z stderr boom two', 12),
    parseLine('web-00002-0f0f0f 2026-01-01T00:00:02.000Z stdout later', 13),
  ];
  assert.deepEqual(newSince(lines, again).map((l) => l.text), ['boom two', 'later']);
  assert.deepEqual(newSince([], again).length, 4);
  assert.equal(sinceFor(lines, Date.parse('2026-01-01T00:00:31.000Z')), '31s');
  assert.equal(sinceFor([], Date.now()), undefined);
});

function stats(): ServiceStatsView {
  return {
    service: 'web', stepSeconds: 10, t: [100, 110, 120],
    requests: [0, 20, 5], errors: [0, 1, 0], p50Ms: [null, 4, 6], p99Ms: [null, 40, 90],
    instances: { starting: [0, 1, 0], ready: [0, 1, 2], weird: [0, 0, 1] }, coldStarts: [0, 1, 0],
    coldStartStages: { boundsMs: [10, 100, 1000], counts: { ready: [0, 0, 1, 0], queued: [1, 0, 0, 0], created: [0, 1, 0, 0], started: [0, 1, 0, 0], firstByte: [0, 0, 0, 1] } },
  };
}

test('charts: columns for uPlot from the stats view, and no data is said as such', () => {
  const s = stats();
  assert.equal(hasData(s), true);
  assert.equal(hasData(undefined), false);
  assert.equal(hasData({ ...s, requests: [0, 0, 0], coldStarts: [0, 0, 0], instances: {}, coldStartStages: { boundsMs: [10], counts: { queued: [0, 0] } } }), false);
  assert.equal(hasData({ ...s, t: [], requests: [], errors: [], p50Ms: [], p99Ms: [], instances: {}, coldStarts: [] }), false);

  assert.deepEqual(requestRates(s), { labels: ['Requests/s', '5xx/s'], columns: [[100, 110, 120], [0, 2, 0.5], [0, 0.1, 0]] });
  assert.deepEqual(instancesByPhase(s).labels, ['ready', 'starting', 'weird']);
  assert.deepEqual(instancesByPhase(s).columns[1], [0, 1, 2]);
  assert.deepEqual(summary(s), { requests: 25, errors: 1, coldStarts: 1, worstP99Ms: 90 });

  assert.deepEqual(bucketLabels([10, 100, 1000]), ['≤ 10 ms', '≤ 100 ms', '≤ 1 s', '> 1 s']);
  assert.deepEqual(bucketLabels([1.6, 250, 204800], true), ['1.6ms', '250ms', '204.8s', '>204.8s']);
  const bars = coldStartBars(s, 0.2);
  // stages in the order they happen, whatever order the API sent them in
  assert.deepEqual(bars.labels, ['Queued', 'Created', 'Started', 'Ready', 'First byte']);
  assert.equal(bars.columns[0].length, 4 * 5);
  assert.deepEqual(bars.columns[0].slice(0, 5), [-0.4, -0.2, 0, 0.2, 0.4]);
  // each stage has its counts at its own positions and null elsewhere
  const queued = bars.columns[1]!;
  assert.deepEqual(queued.filter((v) => v !== null), [1, 0, 0, 0]);
  assert.equal(queued[1], null);
  const firstByte = bars.columns[5]!;
  assert.deepEqual(firstByte.filter((v) => v !== null), [0, 0, 0, 1]);
  assert.ok(bars.columns.slice(1).every((c) => c.length === bars.columns[0].length));
});
