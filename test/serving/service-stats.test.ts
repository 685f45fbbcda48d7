// The per-service history behind GET /services/NAME/stats (serving/service-stats.ts), pure: readings
// of cumulative counters handed in at step ends, columns read back at a time of the test's choosing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceStats, quantileMs, type RevisionReading } from '../../src/serving/service-stats.ts';

const STEP = 10_000;
const BOUNDS = [5, 10, 25, 50, 100];
const STAGE_BOUNDS = [1, 10, 100];
const make = () => new ServiceStats({ stepMs: STEP, keepMs: 6 * 3600_000, latencyBoundsMs: BOUNDS, stageBoundsMs: STAGE_BOUNDS, phases: ['ready', 'starting'], stages: ['queued', 'ready'] });

function reading(over: Partial<RevisionReading> = {}): RevisionReading {
  return { service: 'web', revision: 'web-00001', requests: 0, errors: 0, latency: [0, 0, 0, 0, 0, 0], coldStarts: 0, stages: undefined, instances: { ready: 0, starting: 0 }, ...over };
}

const T0 = 1_700_000_000_000; // a step boundary (divisible by 10 s)

test('an idle or unknown service still gets a full window of columns: zeros, null latency', () => {
  const s = make();
  const v = s.view('web', T0 + 3_000, 15 * 60_000);
  assert.equal(v.stepSeconds, 10);
  assert.equal(v.t.length, 90);
  assert.equal(v.t.at(-1), T0 / 1000, 'the last column is the latest step that ended');
  assert.equal(v.t[1]! - v.t[0]!, 10);
  assert.ok(v.requests.every((n) => n === 0));
  assert.ok(v.p50Ms.every((n) => n === null));
  assert.deepEqual(Object.keys(v.instances).sort(), ['ready', 'starting']);
  assert.deepEqual(v.coldStartStages.boundsMs, STAGE_BOUNDS);
  assert.deepEqual(v.coldStartStages.counts.queued, [0, 0, 0, 0]);
  assert.equal(s.view('web', T0, 3600_000).t.length, 360);
  assert.equal(s.view('web', T0, 6 * 3600_000).t.length, 2160);
});

test('cumulative counters become per-step deltas, summed over a service’s revisions', () => {
  const s = make();
  s.sample(T0 + STEP, [reading({ requests: 10, errors: 1, latency: [10, 0, 0, 0, 0, 0], instances: { ready: 1, starting: 0 } })]);
  s.sample(T0 + 2 * STEP, [
    reading({ requests: 30, errors: 1, latency: [10, 20, 0, 0, 0, 0], instances: { ready: 2, starting: 0 } }),
    reading({ revision: 'web-00002', requests: 5, errors: 5, latency: [0, 0, 0, 0, 0, 5], instances: { ready: 0, starting: 1 } }),
  ]);
  s.sample(T0 + 3 * STEP, [reading({ requests: 30, errors: 1, latency: [10, 20, 0, 0, 0, 0], instances: { ready: 2, starting: 0 } }), reading({ revision: 'web-00002', requests: 5, errors: 5, latency: [0, 0, 0, 0, 0, 5], instances: { ready: 1, starting: 0 } })]);
  const v = s.view('web', T0 + 3 * STEP + 500, 15 * 60_000);
  const last3 = (a: unknown[]) => a.slice(-3);
  assert.deepEqual(last3(v.requests), [10, 25, 0]);
  assert.deepEqual(last3(v.errors), [1, 5, 0]);
  assert.deepEqual(last3(v.instances.ready!), [1, 2, 3]);
  assert.deepEqual(last3(v.instances.starting!), [0, 1, 0]);
  assert.equal(v.p50Ms.at(-3), 2.5, 'ten requests in 0–5 ms: the median interpolated inside the bucket');
  assert.equal(v.p50Ms.at(-1), null, 'a step without requests has no latency');
  // step 2: 20 in 5–10 ms, 5 in the overflow: the p99 is the last bound
  assert.equal(v.p99Ms.at(-2), 100);
  assert.ok(v.p50Ms.at(-2)! > 5 && v.p50Ms.at(-2)! <= 10);
  // the instance counts carry forward to steps not sampled yet… and before the first sample, zeros
  assert.equal(v.instances.ready![v.t.length - 4], 0);
  const later = s.view('web', T0 + 10 * STEP, 15 * 60_000);
  assert.deepEqual(later.instances.ready!.slice(-3), [3, 3, 3]);
});

test('cold starts: counted in their step, the stage breakdown summed over the window', () => {
  const s = make();
  const stages = (q: number[], r: number[]) => ({ queued: q, ready: r });
  s.sample(T0 + STEP, [reading({ coldStarts: 1, stages: stages([1, 0, 0, 0], [0, 0, 1, 0]) })]);
  s.sample(T0 + 2 * STEP, [reading({ coldStarts: 3, stages: stages([2, 1, 0, 0], [0, 0, 2, 1]) })]);
  const v = s.view('web', T0 + 2 * STEP, 15 * 60_000);
  assert.deepEqual(v.coldStarts.slice(-2), [1, 2]);
  assert.deepEqual(v.coldStartStages.counts.queued, [2, 1, 0, 0]);
  assert.deepEqual(v.coldStartStages.counts.ready, [0, 0, 2, 1]);
  // a window that no longer holds the first step's cold start
  const narrow = s.view('web', T0 + 2 * STEP + 15 * 60_000 - STEP, 15 * 60_000);
  assert.deepEqual(narrow.coldStartStages.counts.queued, [1, 1, 0, 0]);
});

test('a revision whose counters started over (removed and made again) counts from zero, not negative', () => {
  const s = make();
  s.sample(T0 + STEP, [reading({ requests: 100, latency: [100, 0, 0, 0, 0, 0] })]);
  s.sample(T0 + 2 * STEP, [reading({ requests: 3, latency: [3, 0, 0, 0, 0, 0] })]);
  assert.deepEqual(s.view('web', T0 + 2 * STEP, 15 * 60_000).requests.slice(-2), [100, 3]);
});

test('two samples in one step add up; a removed service is forgotten; history older than 6 h is dropped', () => {
  const s = make();
  s.sample(T0 + STEP, [reading({ requests: 4, latency: [4, 0, 0, 0, 0, 0] })]);
  s.sample(T0 + STEP + 1_000, [reading({ requests: 6, latency: [6, 0, 0, 0, 0, 0] })]);
  assert.equal(s.view('web', T0 + STEP + 1_000, 15 * 60_000).requests.at(-1), 6);
  s.sample(T0 + 2 * STEP, [reading({ service: 'other', revision: 'other-00001' })]);
  assert.equal(s.size, 1, 'web has no revision any more: forgotten');
  assert.ok(s.view('web', T0 + 2 * STEP, 15 * 60_000).requests.every((n) => n === 0));

  const old = make();
  old.sample(T0 + STEP, [reading({ requests: 4, latency: [4, 0, 0, 0, 0, 0], instances: { ready: 1, starting: 0 } })]);
  const sixHours = 6 * 3600_000;
  old.sample(T0 + STEP + sixHours, [reading({ requests: 4, latency: [4, 0, 0, 0, 0, 0], instances: { ready: 1, starting: 0 } })]);
  const v = old.view('web', T0 + STEP + sixHours, sixHours);
  assert.equal(v.requests.reduce((a, b) => a + b, 0), 0, 'the step 6 h ago fell out');
  assert.ok(v.instances.ready!.every((n) => n === 1), 'the instance count in force then still holds');
});

test('quantiles from buckets: empty is null, the overflow bucket answers the last bound', () => {
  assert.equal(quantileMs([0, 0, 0], [1, 2], 0.5), null);
  assert.equal(quantileMs([0, 0, 4], [1, 2], 0.5), 2);
  assert.equal(quantileMs([2, 2, 0], [10, 20], 0.5), 10);
  assert.equal(quantileMs([2, 2, 0], [10, 20], 0.75), 15);
});

test('the Services list’s coarse steps: requests summed, percentiles from the merged buckets, cold starts totalled', () => {
  const s = make();
  // three recorded steps in one coarse step of 6 (cumulative counters): 10 fast requests, then 5 and 5
  // slow ones; a cold start in the first and the third
  s.sample(T0 + STEP, [reading({ requests: 10, latency: [10, 0, 0, 0, 0, 0], coldStarts: 1 })]);
  s.sample(T0 + 2 * STEP, [reading({ requests: 15, latency: [10, 0, 0, 5, 0, 0], coldStarts: 1 })]);
  s.sample(T0 + 3 * STEP, [reading({ requests: 20, latency: [10, 0, 0, 10, 0, 0], coldStarts: 2 })]);
  const now = T0 + 6 * STEP + 500;
  const axis = s.summaryAxis(now, 3600_000, 60);
  assert.equal(axis.t.length, 60);
  assert.equal(axis.stepSeconds, 60, 'six recorded 10 s steps per point');
  assert.equal(axis.t.at(-1), (T0 + 6 * STEP) / 1000, 'the last point ends at the latest recorded step that ended');
  assert.equal(axis.t[1]! - axis.t[0]!, 60);
  const v = s.summary('web', axis);
  assert.equal(v.requests.length, 60);
  assert.equal(v.requests.at(-1), 20, 'steps 1–6 in the last point');
  assert.equal(v.requests.reduce((a, b) => a + b, 0), 20);
  assert.equal(v.coldStarts, 2);
  // merged: 10 in 0–5 ms and 10 in 25–50 ms → the median is the 0–5 bucket's top (5), not the mean of
  // the steps' medians (2.5, 37.5, 37.5 → 25.8), and the p99 falls in 25–50 ms
  assert.equal(v.p50Ms.at(-1), 5);
  assert.ok(v.p99Ms.at(-1)! > 25 && v.p99Ms.at(-1)! <= 50, String(v.p99Ms.at(-1)));
  assert.equal(v.p50Ms.at(-2), null, 'a point without requests has no latency');

  // a point later the axis has moved one recorded step: step 1 now belongs to the point before
  const later = s.summary('web', s.summaryAxis(now + STEP, 3600_000, 60));
  assert.deepEqual(later.requests.slice(-2), [10, 10]);
  assert.equal(later.p50Ms.at(-1), 37.5);
  assert.equal(later.p50Ms.at(-2), 2.5);

  // an unknown (or idle) service: zeros and nulls on the same axis; 15 min → 45 points of 20 s
  assert.deepEqual(s.summary('nope', axis), { requests: new Array(60).fill(0), p50Ms: new Array(60).fill(null), p99Ms: new Array(60).fill(null), coldStarts: 0 });
  const quarter = s.summaryAxis(now, 15 * 60_000, 60);
  assert.equal(quarter.t.length, 45);
  assert.equal(quarter.stepSeconds, 20);
  // the window's edge: a step older than the window's points is not counted
  const edge = s.summary('web', s.summaryAxis(T0 + STEP + 3600_000, 3600_000, 60));
  assert.equal(edge.requests.reduce((a, b) => a + b, 0), 10, 'step 1 fell out of the hour');
  assert.equal(edge.coldStarts, 1);
});

test('a stage observed a step after its cold start was counted (the first byte) still reaches the breakdown', () => {
  const s = make();
  s.sample(T0 + STEP, [reading({ coldStarts: 1, stages: { queued: [1, 0, 0, 0], ready: [0, 0, 0, 0] } })]);
  // the waiting request's first byte: no new cold start, one more observation of a stage
  s.sample(T0 + 2 * STEP, [reading({ requests: 1, latency: [1, 0, 0, 0, 0, 0], coldStarts: 1, stages: { queued: [1, 0, 0, 0], ready: [0, 1, 0, 0] } })]);
  const v = s.view('web', T0 + 2 * STEP, 15 * 60_000);
  assert.deepEqual(v.coldStarts.slice(-2), [1, 0]);
  assert.deepEqual(v.coldStartStages.counts.ready, [0, 1, 0, 0]);
  assert.deepEqual(v.coldStartStages.counts.queued, [1, 0, 0, 0], 'counted once');
});
