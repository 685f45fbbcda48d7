// Requests held in the activator queue are told at once when the instance they wait for is dropped
// while still starting: they ask for capacity again and a new instance serves them — not after the
// dropped instance's stop grace, and not only at the next tick (ticks are 60 s apart here, so only
// the activator path can start an instance).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeDriver } from '../helpers/fake-driver.ts';
import { FAST, get, setup } from './harness.ts';

test('a starting instance replaced at its readiness deadline: the held request is served by the next one', async (t) => {
  const instances = new FakeDriver();
  const s = await setup(t, instances, { readinessDeadlineMs: 300, tickMs: 60_000 });
  instances.unhealthyStarts = 1;
  instances.ignoreStopSignal = true; // stopping the first instance takes its whole 3 s drain grace, longer than the 2 s timeout
  const { revision } = await s.deploy({ name: 'stuck', scaling: { ...FAST }, readiness: { path: '/healthz', period: '0.05s' }, timeout: '2s', drainGrace: '3s' });
  await new Promise((r) => setTimeout(r, 200)); // the deploy's tick has pushed the routes

  const r = await get(s.url, 'stuck.test');
  assert.equal(r.status, 200, `held request answered ${r.status} ${r.body}`);
  assert.ok(r.headers['x-skiff-cold-start'] !== undefined);
  assert.equal(instances.started, 2);
  const kinds = (await s.events('stuck')).map((e) => e.kind);
  assert.ok(kinds.includes('not-ready'), kinds.join(','));
  assert.match(r.body, new RegExp(`^${revision.name} `));
});

test('a revision that lost its traffic starts nothing for requests still held for it', async (t) => {
  const instances = new FakeDriver();
  const s = await setup(t, instances);
  const v1 = (await s.deploy({ name: 'moved', scaling: { ...FAST } })).revision;
  const v2 = (await s.deploy({ name: 'moved', scaling: { ...FAST, min: 1 } })).revision;
  await s.setTraffic('moved', [{ revision: v1.name, percent: 100 }]);
  await new Promise((r) => setTimeout(r, 300));
  const started = instances.started;
  s.scheduler().requestCapacity(v2.name); // as the activator would for a request queued before the change
  assert.equal(instances.started, started, 'nothing started for the unrouted revision');
  assert.equal((await get(s.url, 'moved.test')).status, 200);
  assert.equal(instances.countOf(v2.name), 0);
});
