// The pre-warm hook: instances of the revisions taking traffic started and ready with no request,
// bounded by maxScale, kept against the autoscaler until the deadline, then scaled away as usual.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredScale } from '../../src/scheduler/desired.ts';
import { FAST, get, setup, until } from './harness.ts';

test('prewarm: ready now without a request, bounded by maxScale, kept until the deadline, then gone', async (t) => {
  const s = await setup(t);
  const { revision } = await s.deploy({ name: 'early', scaling: { ...FAST, max: 3 } });
  const untilMs = Date.now() + 3000;
  const r = await s.scheduler().prewarm('early', { instances: 5, untilMs });
  assert.deepEqual(r, [{ revision: revision.name, instances: 3, ready: 3 }]);
  assert.equal(s.instances.countOf(revision.name), 3);

  // A service that never had a request goes to zero at the next 100 ms tick — unless pre-warmed.
  await new Promise((res) => setTimeout(res, 500));
  assert.equal(s.instances.countOf(revision.name), 3, 'kept while the pre-warm lasts');
  const warm = await get(s.url, 'early.test');
  assert.equal(warm.status, 200);
  assert.equal(warm.headers['x-skiff-cold-start'], undefined, 'served by a pre-warmed instance');
  assert.equal(s.instances.started, 3);
  assert.ok((await s.events('early')).some((e) => e.kind === 'ready' && e.message.endsWith('(pre-warm)')));

  await until('scaled away after the deadline and the idle window', () => s.instances.countOf(revision.name) === 0);
  assert.ok(Date.now() >= untilMs, 'not before the deadline');
});

test('desiredScale: the pre-warm floor outlasts the keep-alive and the autoscaler, never maxScale', () => {
  const kpa = { valid: true as const, desired: 0, reason: 'idle' };
  const base = { kpa, warmUp: false, keepAlive: undefined, wasAtZero: false, prewarm: undefined, maxScale: 4, now: 1000 };
  assert.equal(desiredScale(base)?.desired, 0);
  assert.equal(desiredScale({ ...base, prewarm: { instances: 9, untilMs: 2000 } })?.desired, 4);
  assert.equal(desiredScale({ ...base, prewarm: { instances: 2, untilMs: 1000 } })?.desired, 0, 'expired');
  assert.equal(desiredScale({ ...base, keepAlive: { kind: 'zero', reason: 'z' }, prewarm: { instances: 2, untilMs: 2000 } })?.desired, 2);
  assert.equal(desiredScale({ ...base, kpa: { valid: false, reason: 'no samples' } }), undefined);
  assert.equal(desiredScale({ ...base, kpa: { valid: false, reason: 'no samples' }, prewarm: { instances: 1, untilMs: 2000 } })?.desired, 1);
  const pre = desiredScale({ ...base, keepAlive: { kind: 'keep', untilMs: 5000, reason: 'k' } });
  assert.deepEqual(pre, { desired: 1, reason: 'k', why: 'keep-alive pre-warm' });
  assert.equal(desiredScale({ ...base, kpa: { ...kpa, desired: 3 }, keepAlive: { kind: 'zero', reason: 'z' } })?.desired, 0, 'zero after the burst even when the stable window still averages high');
  assert.equal(desiredScale({ ...base, warmUp: true })?.desired, 1);
});
