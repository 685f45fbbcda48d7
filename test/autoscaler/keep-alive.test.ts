// What a service's keep-alive policy means for its idle revisions at `now`: the autoscaler alone for a
// fixed policy or during a burst; with a learned histogram, zero → pre-warm → warm → zero.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideKeepAlive, ServiceKeepAlive } from '../../src/autoscaler/keep-alive.ts';
import { DEFAULT_KEEP_ALIVE } from '../../src/autoscaler/idle-histogram.ts';

const QUIET = 2000;
const SPEC = { idleWindowMs: 60_000, scaleToZeroGraceMs: 30_000 };

test('fixed policy, no request yet, or a burst going on: the autoscaler decides alone', () => {
  assert.deepEqual(decideKeepAlive({ kind: 'fixed', keepAliveMs: 90_000, reason: '' }, 1000, 500_000, QUIET), { kind: 'autoscaler' });
  const h = { kind: 'histogram', preWarmMs: 30_000, keepAliveMs: 10_000, reason: '' } as const;
  assert.deepEqual(decideKeepAlive(h, undefined, 500_000, QUIET), { kind: 'autoscaler' });
  assert.deepEqual(decideKeepAlive(h, 10_000, 10_000 + QUIET - 1, QUIET), { kind: 'autoscaler' });
  assert.deepEqual(decideKeepAlive(h, 10_000, 9_000, QUIET), { kind: 'autoscaler' }, 'a request seen after the tick began');
});

test('histogram with pre-warm: zero after the burst, warm from L + preWarm for keepAlive, then zero', () => {
  const p = { kind: 'histogram', preWarmMs: 30_000, keepAliveMs: 10_000, reason: '' } as const;
  const L = 100_000;
  const at = (now: number) => decideKeepAlive(p, L, now, QUIET);
  const zero = at(L + QUIET);
  assert.equal(zero.kind, 'zero');
  assert.equal(zero.kind === 'zero' && zero.prewarmAtMs, L + 30_000);
  assert.equal(at(L + 30_000 - 1).kind, 'zero');
  assert.deepEqual({ ...at(L + 30_000), reason: '' }, { kind: 'keep', untilMs: L + 40_000, reason: '' });
  assert.equal(at(L + 40_000 - 1).kind, 'keep');
  const after = at(L + 40_000);
  assert.equal(after.kind, 'zero');
  assert.equal(after.kind === 'zero' && after.prewarmAtMs, undefined, 'no second pre-warm without a new request');
});

test('histogram without pre-warm: warm for keepAlive after the last request, then zero', () => {
  const p = { kind: 'histogram', preWarmMs: 0, keepAliveMs: 66_000, reason: '' } as const;
  assert.equal(decideKeepAlive(p, 0, QUIET, QUIET).kind, 'keep');
  assert.equal(decideKeepAlive(p, 0, 65_999, QUIET).kind, 'keep');
  assert.equal(decideKeepAlive(p, 0, 66_000, QUIET).kind, 'zero');
});

/** Bursts every `gapMs` (one request per burst), starting at `from`; returns the last request time. */
function bursts(ka: ServiceKeepAlive, n: number, gapMs: number, from = 0): number {
  let t = from;
  for (let i = 0; i < n; i++, t += gapMs) ka.request(t);
  return t - gapMs;
}

test('a service learns its windows: fixed (= idle + grace) with little data, histogram after enough idle times', () => {
  const ka = new ServiceKeepAlive({ ...DEFAULT_KEEP_ALIVE, binMs: 60_000, rangeMs: 4 * 3600_000, minSamples: 10, quietMs: QUIET });
  ka.configure(SPEC);
  const L1 = bursts(ka, 5, 10 * 60_000);
  assert.deepEqual(ka.policy().kind, 'fixed');
  assert.equal(ka.policy().keepAliveMs, 90_000, 'the fixed keep-alive is the revision\'s idle window + grace');
  assert.deepEqual(ka.decide(L1 + 5 * 60_000), { kind: 'autoscaler' });

  const L = bursts(ka, 10, 10 * 60_000, L1 + 10 * 60_000);
  const p = ka.policy();
  assert.equal(p.kind, 'histogram', p.reason);
  if (p.kind !== 'histogram') return;
  assert.equal(p.preWarmMs, Math.floor(10 * 60_000 * 0.9));
  assert.equal(ka.decide(L + 60_000).kind, 'zero');
  assert.equal(ka.decide(L + p.preWarmMs).kind, 'keep');
  assert.equal(ka.decide(L + p.preWarmMs + p.keepAliveMs).kind, 'zero');
});

test('scaling.keepAlive fixed pins the policy; switching back uses what was learned', () => {
  const ka = new ServiceKeepAlive({ ...DEFAULT_KEEP_ALIVE, binMs: 1000, rangeMs: 60_000, minSamples: 3, quietMs: QUIET });
  ka.configure({ ...SPEC, keepAlive: 'fixed' });
  const L = bursts(ka, 6, 10_000);
  assert.deepEqual(ka.policy(), { kind: 'fixed', keepAliveMs: 90_000, reason: 'scaling.keepAlive is fixed' });
  assert.deepEqual(ka.decide(L + 5000), { kind: 'autoscaler' });
  ka.configure({ ...SPEC, keepAlive: 'adaptive' });
  assert.equal(ka.policy().kind, 'histogram');
  ka.configure({ idleWindowMs: 1000, scaleToZeroGraceMs: 500, keepAlive: 'fixed' });
  assert.equal(ka.policy().keepAliveMs, 1500, 'a new spec\'s window applies');
});

test('ticks inside one burst record no idle time', () => {
  const ka = new ServiceKeepAlive({ ...DEFAULT_KEEP_ALIVE, binMs: 1000, rangeMs: 60_000, minSamples: 1, quietMs: QUIET });
  ka.configure(SPEC);
  for (let t = 0; t <= 30_000; t += 1000) ka.request(t); // a request in every 1 s tick
  assert.equal(ka.policy().kind, 'fixed');
  assert.match(ka.policy().reason, /^0 idle times/);
});

test('what a service learned survives a restart: saved, loaded into a fresh one; another shape or garbage is ignored', () => {
  const settings = { ...DEFAULT_KEEP_ALIVE, binMs: 1000, rangeMs: 60_000, minSamples: 3, quietMs: QUIET };
  const ka = new ServiceKeepAlive(settings);
  ka.configure(SPEC);
  bursts(ka, 6, 10_000);
  ka.request(120_000 + 10 * 60_000); // one idle time out of range
  const learned = ka.policy();
  assert.equal(learned.kind, 'histogram');

  const again = new ServiceKeepAlive(settings);
  again.configure(SPEC);
  again.load(ka.save());
  assert.deepEqual(again.policy(), learned);
  assert.deepEqual(again.decide(1_000_000), { kind: 'autoscaler' }, 'no last request carried over');

  const otherShape = new ServiceKeepAlive({ ...settings, binMs: 2000 });
  otherShape.configure(SPEC);
  otherShape.load(ka.save());
  assert.equal(otherShape.policy().kind, 'fixed', 'bins of another width are dropped');
  const saved = JSON.parse(ka.save()) as { total: number };
  for (const garbage of ['not json', 'null', JSON.stringify({ ...saved, total: saved.total + 1 }), JSON.stringify({ ...saved, bins: [[9999, 1]] })]) {
    const fresh = new ServiceKeepAlive(settings);
    fresh.configure(SPEC);
    fresh.load(garbage);
    assert.equal(fresh.policy().kind, 'fixed', garbage);
  }
});
