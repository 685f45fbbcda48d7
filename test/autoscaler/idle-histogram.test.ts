// The hybrid histogram keep-alive policy: windows from the head and tail of the idle-time histogram,
// fixed keep-alive when the data cannot be trusted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_KEEP_ALIVE, IdleTimeHistogram, IdleTracker } from '../../src/autoscaler/idle-histogram.ts';

const MIN = 60_000;

test('too few idle times: fixed keep-alive', () => {
  const h = new IdleTimeHistogram();
  for (let i = 0; i < 5; i++) h.record(5 * MIN);
  const p = h.policy();
  assert.equal(p.kind, 'fixed');
  assert.equal(p.keepAliveMs, DEFAULT_KEEP_ALIVE.fixedKeepAliveMs);
});

test('a periodic service (every ~30 min) is pre-warmed just before it is due and kept briefly', () => {
  const h = new IdleTimeHistogram();
  for (let i = 0; i < 100; i++) h.record(30 * MIN + (i % 3) * 10_000);
  const p = h.policy();
  assert.equal(p.kind, 'histogram', p.reason);
  if (p.kind !== 'histogram') return;
  assert.equal(p.preWarmMs, Math.floor(30 * MIN * 0.9));
  // tail bin upper edge 30m30s, +10 %, minus pre-warm
  assert.equal(p.keepAliveMs, Math.ceil((30 * MIN + 30_000) * 1.1) - p.preWarmMs);
  assert.ok(p.keepAliveMs < 10 * MIN, 'keeps warm much shorter than the fixed 10 min');
});

test('idle times mostly beyond the range: fixed', () => {
  const h = new IdleTimeHistogram();
  for (let i = 0; i < 20; i++) h.record(i < 15 ? 5 * 3600_000 : MIN);
  assert.match(h.policy().reason, /exceed/);
});

test('evenly spread idle times are not representative: fixed', () => {
  const h = new IdleTimeHistogram({ ...DEFAULT_KEEP_ALIVE, rangeMs: 10 * 10_000 });
  for (let i = 0; i < 100; i++) h.record((i % 10) * 10_000 + 5_000);
  const p = h.policy();
  assert.equal(p.kind, 'fixed');
  assert.match(p.reason, /CV/);
});

test('the tracker turns request arrivals after quiet periods into idle times', () => {
  const h = new IdleTimeHistogram();
  const t = new IdleTracker(h, 1000);
  let now = 0;
  for (let burst = 0; burst < 12; burst++) {
    for (let i = 0; i < 5; i++) t.request((now += 100));
    now += 2 * MIN;
  }
  assert.equal(h.samples, 11);
  const p = h.policy();
  assert.equal(p.kind, 'histogram', p.reason);
  if (p.kind === 'histogram') assert.ok(p.preWarmMs > MIN && p.preWarmMs <= 2 * MIN, String(p.preWarmMs));
});
