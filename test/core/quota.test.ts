// core/quota: the ledger of what each project's instances hold. Reservations are checked and counted
// in one step, so any interleaving of concurrent starts (and releases) stays within the quota.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instanceUsage, QuotaLedger } from '../../src/core/quota.ts';

const GI = 1024 ** 3;
const small = instanceUsage({ memoryBytes: GI / 2, cpus: 0.5 });

test('a reservation is refused past any of the three quotas, naming the project and the quota', () => {
  const l = new QuotaLedger();
  l.setQuota('team-a', { instances: 3, memoryBytes: 1 * GI, cpuMillis: 4000 });
  assert.deepEqual(l.reserve('i1', 'team-a', small), { ok: true });
  assert.deepEqual(l.reserve('i2', 'team-a', small), { ok: true });
  const r = l.reserve('i3', 'team-a', small); // a third 512Mi instance passes the 1Gi memory quota
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.message, 'project team-a is at its quota: memory: 1536Mi would exceed the quota of 1Gi (1Gi in use)');
  assert.deepEqual(l.usage('team-a'), { instances: 2, memoryBytes: GI, cpuMillis: 1000 });
  // other projects are not limited by team-a's quota
  for (let i = 0; i < 10; i++) assert.ok(l.reserve(`b${i}`, 'team-b', small).ok);
  // instances
  l.setQuota('team-c', { instances: 1 });
  assert.ok(l.reserve('c1', 'team-c', small).ok);
  const c = l.reserve('c2', 'team-c', small);
  assert.ok(!c.ok && c.message === 'project team-c is at its quota: instances: 2 would exceed the quota of 1 (1 in use)', JSON.stringify(c));
  // cpu
  l.setQuota('team-d', { cpuMillis: 1500 });
  assert.ok(l.reserve('d1', 'team-d', instanceUsage({ memoryBytes: GI, cpus: 1 })).ok);
  const d = l.reserve('d2', 'team-d', instanceUsage({ memoryBytes: GI, cpus: 1 }));
  assert.ok(!d.ok && /cpu: 2 would exceed the quota of 1\.5 \(1 in use\)/.test(d.message), JSON.stringify(d));
});

test('release frees room; the same id is never counted twice; hold counts whatever the quota', () => {
  const l = new QuotaLedger();
  l.setQuota('p', { instances: 1 });
  assert.ok(l.reserve('x', 'p', small).ok);
  assert.ok(l.reserve('x', 'p', small).ok, 'reserving a held id again is a no-op');
  assert.equal(l.usage('p').instances, 1);
  assert.equal(l.reserve('y', 'p', small).ok, false);
  l.release('x');
  l.release('x'); // idempotent
  assert.deepEqual(l.usage('p'), { instances: 0, memoryBytes: 0, cpuMillis: 0 });
  assert.ok(l.reserve('y', 'p', small).ok);
  // re-adopted after a restart under a quota lowered since: counted, and new starts refused
  l.hold('z', 'p', small);
  assert.equal(l.usage('p').instances, 2);
  assert.equal(l.reserve('w', 'p', small).ok, false);
});

test('a quota change applies to the next reservation; removing it (or an empty quota) means unlimited', () => {
  const l = new QuotaLedger();
  l.load([{ name: 'p', quota: { instances: 0 } }]);
  assert.equal(l.reserve('a', 'p', small).ok, false, 'instances 0 admits nothing');
  l.setQuota('p', { instances: 2 });
  assert.ok(l.reserve('a', 'p', small).ok);
  l.setQuota('p', {});
  assert.equal(l.quota('p'), undefined);
  for (let i = 0; i < 5; i++) assert.ok(l.reserve(`n${i}`, 'p', small).ok);
  l.setQuota('p', { instances: 1 }); // lowered below usage: nothing is stopped, nothing new admitted
  assert.equal(l.usage('p').instances, 6);
  assert.equal(l.reserve('m', 'p', small).ok, false);
});

test('many concurrent reserve/release cycles never take a project past its quota', async () => {
  const l = new QuotaLedger();
  const quota = { instances: 7, memoryBytes: 6 * GI, cpuMillis: 5000 };
  l.setQuota('p', quota);
  let maxSeen = { instances: 0, memoryBytes: 0, cpuMillis: 0 };
  let admitted = 0;
  let refused = 0;
  const sizes = [instanceUsage({ memoryBytes: GI / 2, cpus: 0.25 }), instanceUsage({ memoryBytes: GI, cpus: 1 }), instanceUsage({ memoryBytes: 2 * GI, cpus: 0.5 })];
  const worker = async (w: number) => {
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      const id = `w${w}-${i}`;
      const r = l.reserve(id, 'p', sizes[(w + i) % sizes.length]!);
      const u = l.usage('p');
      maxSeen = { instances: Math.max(maxSeen.instances, u.instances), memoryBytes: Math.max(maxSeen.memoryBytes, u.memoryBytes), cpuMillis: Math.max(maxSeen.cpuMillis, u.cpuMillis) };
      if (!r.ok) {
        refused++;
        continue;
      }
      admitted++;
      // the "start" takes a while (the runtime's await), then the instance is gone again
      await new Promise((r) => setTimeout(r, Math.random() * 5));
      l.release(id);
    }
  };
  await Promise.all(Array.from({ length: 40 }, (_, w) => worker(w)));
  assert.ok(maxSeen.instances <= quota.instances, JSON.stringify(maxSeen));
  assert.ok(maxSeen.memoryBytes <= quota.memoryBytes, JSON.stringify(maxSeen));
  assert.ok(maxSeen.cpuMillis <= quota.cpuMillis, JSON.stringify(maxSeen));
  assert.ok(admitted > 0 && refused > 0, `admitted ${admitted}, refused ${refused}`);
  assert.deepEqual(l.usage('p'), { instances: 0, memoryBytes: 0, cpuMillis: 0 });
});
