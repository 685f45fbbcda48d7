// The scheduler never starts an instance past its project's quota (scheduler/quota-gate.ts): scale-outs
// of several services of one project under load share it, requests queue for the ready instances, and
// a cold service with no room answers 429 QUOTA_EXCEEDED at once instead of waiting out its timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeDriver } from '../helpers/fake-driver.ts';
import { QuotaLedger } from '../../src/core/quota.ts';
import { FAST, get, setup, until } from './harness.ts';

const running = (d: FakeDriver) => [...d.live.values()].filter((i) => i.status === 'running' || i.status === 'paused').length;

test('load on two services of a project at quota 3: never more than 3 instances, every request served', async (t) => {
  const quotas = new QuotaLedger();
  quotas.setQuota('default', { instances: 3 });
  const instances = new FakeDriver();
  const s = await setup(t, instances, { quotas });
  instances.latencyMs = 100;
  for (const name of ['a', 'b']) await s.deploy({ name, scaling: { ...FAST, concurrency: 1, max: 10 } });
  // one instance each first: a cold service is refused only when it has nothing to queue for
  assert.equal((await get(s.url, 'a.test')).status, 200);
  assert.equal((await get(s.url, 'b.test')).status, 200);
  let most = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      most = Math.max(most, running(instances), quotas.usage('default').instances);
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  const results = await Promise.all(Array.from({ length: 60 }, (_, i) => get(s.url, i % 2 ? 'a.test' : 'b.test')));
  sampling = false;
  await sampler;
  assert.deepEqual([...new Set(results.map((r) => r.status))], [200]);
  assert.ok(most <= 3, `at most ${most} instances`);
  assert.equal(most, 3, 'the load scaled out to the quota');
  const kinds = [...(await s.events('a')), ...(await s.events('b'))].filter((e) => e.kind === 'quota');
  assert.ok(kinds.length > 0 && /project default is at its quota: instances: 4 would exceed the quota of 3/.test(kinds[0]!.message), JSON.stringify(kinds[0]));

  // a cold service of the same project: no room, nothing to queue for → 429 at once, naming project and quota
  await s.deploy({ name: 'cold', scaling: { ...FAST } });
  const began = Date.now();
  const r = await get(s.url, 'cold.test');
  assert.equal(r.status, 429, r.body);
  assert.ok(Date.now() - began < 1000, `answered after ${Date.now() - began} ms`);
  assert.equal(r.headers['x-skiff-error'], 'QUOTA_EXCEEDED');
  const body = JSON.parse(r.body) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'QUOTA_EXCEEDED');
  assert.match(body.error.message, /cannot start an instance: project default is at its quota: instances: \d would exceed the quota of 3/);

  // once the others scale down, the cold service starts
  await until('room', () => quotas.usage('default').instances < 3, 15_000);
  await until('cold served', async () => (await get(s.url, 'cold.test')).status === 200, 5000);
  assert.ok(quotas.usage('default').instances <= 3);
});

test('a raised quota takes effect at the next start; the ledger follows deletes', async (t) => {
  const quotas = new QuotaLedger();
  quotas.setQuota('default', { instances: 0 });
  const instances = new FakeDriver();
  const s = await setup(t, instances, { quotas });
  await s.deploy({ name: 'min2', scaling: { ...FAST, min: 2 } });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(running(instances), 0, 'min instances wait for room');
  quotas.setQuota('default', { instances: 1 });
  await until('one started', () => running(instances) === 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(running(instances), 1);
  quotas.setQuota('default', undefined);
  await until('both started', () => running(instances) === 2);
  assert.equal(quotas.usage('default').instances, 2);
  await s.store.deleteService('min2');
  await s.scheduler().refresh();
  await until('released', () => quotas.usage('default').instances === 0 && running(instances) === 0);
});
