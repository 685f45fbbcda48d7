// serving/quota: a deploy's (or scale's) min instances against its project's quota, checked and
// stored under the project's lock; and job tasks counted like instances.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProjectQuotaGuard, withTaskQuota } from '../../src/serving/quota.ts';
import { QuotaLedger } from '../../src/core/quota.ts';
import { SkiffError } from '../../src/core/errors.ts';
import type { ProjectQuota } from '../../src/core/projects.ts';
import type { RevisionRecord, ServiceRecord } from '../../src/core/service.ts';
import type { JobDriverPort } from '../../src/serving/ports.ts';

const GI = 1024 ** 3;

/** services as the store keeps them: name → tenant, min and the latest revision's limits; `store`
 *  records a deploy after a pause (the store's await), as the real one does */
function fakeRecords() {
  const services = new Map<string, { tenant: string; min: number; memoryBytes: number; cpus: number }>();
  const records = {
    listServices: async () => [...services].map(([name, s]) => ({ name, tenant: s.tenant, scale: { min: s.min, max: 10 }, latestRevision: `${name}-1` }) as unknown as ServiceRecord),
    getRevision: async (rev: string) => {
      const s = services.get(rev.replace(/-1$/, ''));
      return s ? ({ name: rev, spec: { memoryBytes: s.memoryBytes, cpus: s.cpus } } as unknown as RevisionRecord) : undefined;
    },
  };
  const store = (name: string, s: { tenant: string; min: number; memoryBytes: number; cpus: number }) => async () => {
    await new Promise((r) => setTimeout(r, Math.random() * 10));
    services.set(name, s);
  };
  return { services, records, store };
}

test('concurrent deploys whose --min together pass the quota: some refused with QUOTA_EXCEEDED, the stored sum fits', async () => {
  const quotas: Record<string, ProjectQuota> = { 'team-a': { instances: 5, memoryBytes: 4 * GI, cpuMillis: 4000 } };
  const f = fakeRecords();
  const guard = new ProjectQuotaGuard({ quota: async (p) => quotas[p] }, f.records);
  const results = await Promise.allSettled(
    Array.from({ length: 12 }, (_, i) => {
      const s = { tenant: 'team-a', min: 1 + (i % 2), memoryBytes: GI / 2, cpus: 0.5 };
      return guard.admit('team-a', { service: `svc${i}`, min: s.min, memoryBytes: s.memoryBytes, cpus: s.cpus, flag: '--min' }, f.store(`svc${i}`, s));
    }),
  );
  const refused = results.filter((r) => r.status === 'rejected');
  assert.ok(refused.length > 0);
  for (const r of refused) {
    const err = (r as PromiseRejectedResult).reason as SkiffError;
    assert.equal(err.code, 'QUOTA_EXCEEDED');
    assert.match(err.message, /^--min [12]: project team-a's quota would be exceeded: instances: \d+ would exceed the quota of 5 \(\d+ held by the min instances of its other services\)$/);
  }
  const total = [...f.services.values()].reduce((n, s) => n + s.min, 0);
  assert.ok(total <= 5, `stored min instances ${total}`);
  assert.equal(f.services.size, results.length - refused.length, 'a refused deploy stored nothing');
});

test('a service redeployed is checked against the other services only; other projects do not count', async () => {
  const f = fakeRecords();
  f.services.set('api', { tenant: 'team-a', min: 3, memoryBytes: GI, cpus: 1 });
  f.services.set('other', { tenant: 'team-b', min: 9, memoryBytes: GI, cpus: 1 });
  const guard = new ProjectQuotaGuard({ quota: async () => ({ memoryBytes: 4 * GI }) }, f.records);
  let stored = 0;
  await guard.admit('team-a', { service: 'api', min: 4, memoryBytes: GI, cpus: 1, flag: '--min' }, async () => void stored++);
  assert.equal(stored, 1);
  await assert.rejects(
    guard.admit('team-a', { service: 'web', min: 2, memoryBytes: GI, cpus: 1, flag: '--min' }, async () => void stored++),
    { code: 'QUOTA_EXCEEDED', message: "--min 2: project team-a's quota would be exceeded: memory: 5Gi would exceed the quota of 4Gi (3Gi held by the min instances of its other services)" },
  );
  assert.equal(stored, 1);
});

test('one instance that cannot fit the quota at all is refused, min 0 or not; no quota: anything goes', async () => {
  const f = fakeRecords();
  const guard = new ProjectQuotaGuard({ quota: async (p) => (p === 'small' ? { memoryBytes: GI, cpuMillis: 1000 } : undefined) }, f.records);
  await assert.rejects(guard.admit('small', { service: 'big', min: 0, memoryBytes: 2 * GI, cpus: 0.5, flag: '--min' }, async () => undefined), (err: SkiffError) => err.code === 'QUOTA_EXCEEDED' && /cannot fit project small's quota at all: memory: 2Gi would exceed the quota of 1Gi/.test(err.message));
  await assert.rejects(guard.admit('small', { service: 'hot', min: 0, memoryBytes: GI, cpus: 2, flag: '--min' }, async () => undefined), (err: SkiffError) => /cpu: 2 would exceed the quota of 1/.test(err.message));
  assert.equal(await guard.admit('free', { service: 'x', min: 100, memoryBytes: 64 * GI, cpus: 64, flag: '--min' }, async () => 'stored'), 'stored');
});

test('job tasks: reserved at create under their namespace, released at delete; a refused create fails with QUOTA_EXCEEDED', async () => {
  const ledger = new QuotaLedger();
  ledger.setQuota('team-a', { instances: 1 });
  const calls: string[] = [];
  const driver = {
    create: async (id: string) => void calls.push(`create ${id}`),
    delete: async (id: string) => void calls.push(`delete ${id}`),
  } as unknown as JobDriverPort;
  const d = withTaskQuota(driver, ledger);
  const spec = (ns?: string) => ({ image: { repository: 'x', digest: 'sha256:0' }, service: 't', env: {}, readOnlyRoot: false, limits: { memoryBytes: GI, cpus: 1, pids: 100 }, ...(ns ? { namespace: ns } : {}) });
  await d.create('t1', spec('team-a'));
  assert.deepEqual(ledger.usage('team-a'), { instances: 1, memoryBytes: GI, cpuMillis: 1000 });
  await assert.rejects(d.create('t2', spec('team-a')), (err: SkiffError) => err.code === 'QUOTA_EXCEEDED' && err.message.startsWith('project team-a is at its quota: instances: 2'));
  await d.create('run', spec()); // no namespace (a one-off run): not counted
  await d.delete('t1');
  assert.equal(ledger.usage('team-a').instances, 0);
  await d.create('t2', spec('team-a'));
  assert.deepEqual(calls, ['create t1', 'create run', 'delete t1', 'create t2']);
});
