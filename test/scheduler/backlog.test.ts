// The backlog port (KEDA-style external metric): events waiting for a service outside the gateway —
// broker messages, queued invocations — scale it out from zero with no request at all, ⌈waiting / per
// instance⌉ bounded by maxScale, split by traffic share, and once the queue is empty the service goes
// back to zero after its idle window like after requests. Also the pure rule in desiredScale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredScale } from '../../src/scheduler/desired.ts';
import { FAST, setup, until } from './harness.ts';

test('backlog: a service at min 0 scales out on waiting events, bounded by max, and back to zero once they are gone', async (t) => {
  const waiting = new Map<string, number>();
  const s = await setup(t, undefined, { backlog: { backlog: () => waiting } });
  const { revision } = await s.deploy({ name: 'worker', scaling: { ...FAST, min: 0, max: 3, concurrency: 2 } });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(s.instances.countOf(revision.name), 0, 'nothing waits: nothing runs');

  waiting.set('worker', 3); // ⌈3 / 2⌉
  await until('two instances for three waiting events', () => s.instances.countOf(revision.name) === 2);
  waiting.set('worker', 50); // ⌈50 / 2⌉ = 25, bounded by max 3
  await until('max instances for fifty', () => s.instances.countOf(revision.name) === 3);
  assert.ok((await s.events('worker')).some((e) => e.kind === 'scale' && /backlog: 50 events waiting, 2 per instance/.test(e.message)), 'the scale event names the backlog');
  // while events wait, the idle window does not run (1 s idle + 0.5 s grace here)
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(s.instances.countOf(revision.name), 3);

  waiting.delete('worker');
  await until('back to zero once the queue is empty', () => s.instances.countOf(revision.name) === 0, 15_000);
  assert.equal(s.instances.started, 3, 'no more instances than the backlog asked for');
});

test('backlog: a revision gets its traffic share of the waiting events', async (t) => {
  const waiting = new Map<string, number>([['split', 0]]);
  const s = await setup(t, undefined, { backlog: { backlog: () => waiting } });
  const first = await s.deploy({ name: 'split', scaling: { ...FAST, min: 0, max: 10, concurrency: 1 } });
  const second = await s.deploy({ name: 'split', image: 'y', scaling: { ...FAST, min: 0, max: 10, concurrency: 1 } });
  await s.setTraffic('split', [{ revision: first.revision.name, percent: 75 }, { revision: second.revision.name, percent: 25 }]);
  waiting.set('split', 8);
  await until('6 and 2 instances', () => s.instances.countOf(first.revision.name) === 6 && s.instances.countOf(second.revision.name) === 2);
});

test('desiredScale: a backlog asks for ⌈waiting / per instance⌉, over the autoscaler and a keep-alive zero, never over maxScale', () => {
  const kpa = { valid: true as const, desired: 1, reason: 'stable' };
  const base = { kpa, warmUp: false, keepAlive: undefined, wasAtZero: false, prewarm: undefined, maxScale: 5, now: 1000 };
  assert.deepEqual(desiredScale({ ...base, backlog: { waiting: 7, perInstance: 2 } }), { desired: 4, reason: 'backlog: 7 events waiting, 2 per instance (stable)', why: 'backlog' });
  assert.equal(desiredScale({ ...base, backlog: { waiting: 100, perInstance: 2 } })?.desired, 5);
  assert.equal(desiredScale({ ...base, kpa: { ...kpa, desired: 4 }, backlog: { waiting: 1, perInstance: 2 } })?.desired, 4, 'the autoscaler may want more');
  assert.equal(desiredScale({ ...base, keepAlive: { kind: 'zero', reason: 'z' }, backlog: { waiting: 1, perInstance: 2 } })?.desired, 1, 'never zero while events wait');
  assert.equal(desiredScale({ ...base, kpa: { valid: false, reason: 'no samples' }, backlog: { waiting: 3, perInstance: 1 } })?.desired, 3, 'no samples needed');
  assert.equal(desiredScale({ ...base, backlog: { waiting: 0, perInstance: 2 } })?.desired, 1);
});
