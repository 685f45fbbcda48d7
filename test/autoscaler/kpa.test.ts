// The KPA decider under a fake clock: time is stepped, never slept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KpaScaler, DEFAULT_SCALING, scalingSettingsOf, type ScalingSettings, type Decision } from '../../src/autoscaler/kpa.ts';
import { MetricWindow } from '../../src/autoscaler/window.ts';

const settings = (o: Partial<ScalingSettings> = {}): ScalingSettings => ({ ...DEFAULT_SCALING, target: 10, maxScale: 100, ...o });

/** Feeds one sample per second for `seconds` and returns the last decision. */
function run(k: KpaScaler, from: number, seconds: number, metric: (t: number) => number, ready: (t: number) => number): { now: number; last: Decision } {
  let last: Decision = { valid: false, reason: 'not run' };
  let now = from;
  for (let i = 0; i < seconds; i++) {
    now = from + i * 1000;
    const m = metric(now);
    k.record(now, m, m);
    last = k.decide(now, ready(now));
  }
  return { now, last };
}

test('window averages count silent seconds as zero and say when they have no data', () => {
  const w = new MetricWindow(60_000);
  assert.equal(w.average(10_000, 6_000), undefined);
  w.record(9_000, 60);
  assert.equal(w.average(10_000, 6_000), 10);
  assert.equal(w.average(20_000, 6_000), undefined);
});

test('steady load settles on ceil(load / target)', () => {
  const k = new KpaScaler(settings());
  const { last } = run(k, 0, 120, () => 95, () => 10);
  assert.ok(last.valid);
  assert.equal(last.desired, 10);
  assert.equal(last.panic, false);
});

test('cannot decide without samples is a value, not an exception', () => {
  const k = new KpaScaler(settings({ minScale: 1 }));
  const d = k.decide(1_000, 1);
  assert.equal(d.valid, false);
});

test('a burst enters panic at 2x and does not scale down until a stable window passes', () => {
  const k = new KpaScaler(settings());
  let r = run(k, 0, 70, () => 10, () => 1);
  assert.ok(r.last.valid && r.last.desired === 1 && !r.last.panic);
  r = run(k, 70_000, 6, () => 100, () => 1);
  assert.ok(r.last.valid && r.last.panic, 'panic after a 10x burst');
  assert.ok(r.last.valid && r.last.desired >= 10, `desired ${r.last.valid && r.last.desired}`);
  const peak = r.last.valid ? r.last.desired : 0;
  // load drops: still in panic for a stable window, never below the panic peak
  r = run(k, 76_000, 30, () => 10, () => peak);
  assert.ok(r.last.valid && r.last.panic && r.last.desired === peak);
  r = run(k, 106_000, 100, () => 10, () => peak);
  assert.ok(r.last.valid && !r.last.panic);
  assert.ok(r.last.valid && r.last.desired < peak);
});

test('scale-down is rate-limited by maxScaleDownRate', () => {
  const k = new KpaScaler(settings({ maxScaleDownRate: 2 }));
  run(k, 0, 70, () => 200, () => 20);
  const { last } = run(k, 70_000, 70, () => 10, () => 20);
  assert.ok(last.valid);
  assert.equal(last.desired, 10, 'halves at most per decision');
});

test('scale-up is rate-limited by maxScaleUpRate', () => {
  const k = new KpaScaler(settings({ maxScaleUpRate: 2 }));
  const { last } = run(k, 0, 10, () => 1000, () => 1);
  assert.ok(last.valid);
  assert.equal(last.desired, 2);
});

test('scales to zero only after the idle window plus grace', () => {
  const s = settings({ idleWindowMs: 10_000, scaleToZeroGraceMs: 5_000, stableWindowMs: 10_000, panicWindowMs: 2_000 });
  const k = new KpaScaler(s);
  run(k, 0, 5, () => 5, () => 1);
  // traffic stopped at t=4s: one instance stays until 4 + 10 + 5 = 19 s
  let r = run(k, 5_000, 13, () => 0, () => 1);
  assert.ok(r.last.valid && r.last.desired === 1, `at ${r.now}: ${JSON.stringify(r.last)}`);
  r = run(k, 18_000, 3, () => 0, () => 1);
  assert.ok(r.last.valid && r.last.desired === 0, `at ${r.now}: ${JSON.stringify(r.last)}`);
});

test('a CPU-style metric that never reaches zero still scales to zero when requests stop', () => {
  const s = settings({ idleWindowMs: 5_000, scaleToZeroGraceMs: 0, stableWindowMs: 10_000, panicWindowMs: 2_000 });
  const k = new KpaScaler(s);
  for (let i = 0; i < 30; i++) {
    k.record(i * 1000, 0.5, i < 3 ? 1 : 0);
  }
  const d = k.decide(29_000, 1);
  assert.ok(d.valid && d.desired === 0, JSON.stringify(d));
});

test('a request held from zero keeps its starting instance while a CPU-style metric still reads zero', () => {
  const k = new KpaScaler(settings({ idleWindowMs: 1_000, scaleToZeroGraceMs: 1_000, stableWindowMs: 2_000, panicWindowMs: 1_000 }));
  k.poke(10_000); // the activator asked for capacity; the instance is starting, nothing is ready
  k.record(10_500, 0, 0);
  const d = k.decide(10_500, 0);
  assert.ok(d.valid && d.desired === 1, JSON.stringify(d));
  k.record(12_500, 0, 0);
  const later = k.decide(12_500, 1);
  assert.ok(later.valid && later.desired === 0, JSON.stringify(later));
});

test('utilisation scales request targets only: cpu and memory targets are utilisations, custom is the app unit', () => {
  const spec = { concurrency: 0, target: 10, targetUtilization: 0.7, stableWindowMs: 60_000, panicWindowMs: 6_000, panicThreshold: 2, idleWindowMs: 60_000, scaleToZeroGraceMs: 30_000, freezeIdle: false };
  const scale = { min: 1, max: 10 };
  assert.equal(scalingSettingsOf({ ...spec, metric: 'concurrency' }, scale).target, 7);
  assert.equal(scalingSettingsOf({ ...spec, metric: 'rps' }, scale).target, 7);
  assert.equal(scalingSettingsOf({ ...spec, metric: 'cpu' }, scale).target, 10);
  assert.equal(scalingSettingsOf({ ...spec, metric: 'memory' }, scale).target, 10);
  assert.equal(scalingSettingsOf({ ...spec, metric: 'custom' }, scale).target, 10);
  assert.deepEqual([scalingSettingsOf({ ...spec, metric: 'custom' }, scale).minScale, scalingSettingsOf({ ...spec, metric: 'custom' }, scale).maxScale], [1, 10]);
});

test('new bounds keep the windows: the next decision follows what was observed, clamped by the new bounds', () => {
  const k = new KpaScaler(settings({ maxScale: 10 }));
  const { now, last } = run(k, 0, 70, () => 80, () => 8);
  assert.ok(last.valid && last.desired === 8, JSON.stringify(last));
  k.update(settings({ maxScale: 3 }));
  const capped = k.decide(now, 8);
  assert.ok(capped.valid && capped.desired === 3, JSON.stringify(capped));
  k.update(settings({ maxScale: 10, minScale: 0 }));
  const again = k.decide(now, 3);
  // a rebuilt scaler would have no samples and answer "not valid"; the kept windows still say 8
  assert.ok(again.valid && again.desired === 8, JSON.stringify(again));
});

test('min and max scale bound every decision', () => {
  const k = new KpaScaler(settings({ minScale: 2, maxScale: 3 }));
  const hi = run(k, 0, 70, () => 1000, () => 3).last;
  assert.ok(hi.valid && hi.desired === 3);
  const k2 = new KpaScaler(settings({ minScale: 2 }));
  const lo = run(k2, 0, 200, () => 0, () => 2).last;
  assert.ok(lo.valid && lo.desired === 2);
});
