// test/store/contract/usage: UsageRepository on one dialect — per-minute rows upserted as absolute
// values keyed (minute, instance, run): writing a row again replaces it (never adds), another run's
// row of the same minute and instance is kept apart; read back by range, tenant and service.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UsageMinute } from '../../../src/core/usage.ts';
import { open, type StoreTarget } from '../fixtures.ts';

const M = Date.UTC(2026, 11, 1, 10, 0);

const row = (o: Partial<UsageMinute> = {}): UsageMinute => ({
  minute: M,
  instance: 'api-00001-aaaaaa',
  run: 'r1',
  tenant: 'team-a',
  service: 'api',
  revision: 'api-00001',
  billing: 'request',
  cpuMillis: 250,
  memoryBytes: 8 * 1024 ** 3,
  startingMs: 1000,
  servingMs: 20_000,
  idleMs: 39_000,
  frozenMs: 0,
  busyMs: 20_100,
  cpuNanos: 59_000_000_000,
  memUsedKibMs: 6e12,
  requests: 7,
  egressBytes: 5 * 1024 ** 3,
  lastAt: M + 59_000,
  cpuCounterNanos: 3_600_000_000_000,
  ...o,
});

export function usageContract(target: StoreTarget): void {
  test('usage: minutes upserted with absolute values (idempotent), runs kept apart, read by range, tenant and service', async (t) => {
    const { usage } = await open(t, await target.fresh(t));
    await usage.upsertMinutes([row({ requests: 3 })]);
    await usage.upsertMinutes([row()]); // the same minute later in it: replaced, not added
    await usage.upsertMinutes([row()]); // written twice (a retried flush): no change
    await usage.upsertMinutes([row({ run: 'r2', requests: 1 }), row({ minute: M + 60_000 }), row({ tenant: 'team-b', service: 'web', instance: 'web-00001-bbbbbb' })]);
    const all = await usage.minutes({ from: M, to: M + 120_000 });
    assert.equal(all.length, 4);
    assert.deepEqual(all[0], row(), 'every field survives, numbers past 2^32 included');
    assert.equal(all.filter((r) => r.minute === M && r.instance === 'api-00001-aaaaaa').reduce((a, r) => a + r.requests, 0), 8, 'r1 7 + r2 1');
    assert.deepEqual((await usage.minutes({ from: M, to: M + 60_000, tenant: 'team-a' })).map((r) => r.run), ['r1', 'r2']);
    assert.deepEqual((await usage.minutes({ from: M, to: M + 120_000, tenant: 'team-b' })).map((r) => r.service), ['web']);
    assert.equal((await usage.minutes({ from: M, to: M + 120_000, service: 'api' })).length, 3);
    assert.deepEqual(await usage.minutes({ from: M + 120_000, to: M + 180_000 }), []);
    // where each instance was last left: the latest last_at across runs and minutes
    await usage.upsertMinutes([row({ minute: M + 60_000, lastAt: M + 119_000, cpuCounterNanos: 3_700_000_000_000 })]);
    const marks = await usage.marks(M);
    assert.deepEqual(marks.get('api-00001-aaaaaa'), { at: M + 119_000, cpuNanos: 3_700_000_000_000 });
    assert.deepEqual(marks.get('web-00001-bbbbbb'), { at: M + 59_000, cpuNanos: 3_600_000_000_000 });
    assert.equal((await usage.marks(M + 100_000)).has('web-00001-bbbbbb'), false, 'older than asked');
    // a batch larger than one INSERT
    const many = Array.from({ length: 1200 }, (_, i) => row({ minute: M + 3_600_000, instance: `api-00001-${String(i).padStart(6, '0')}` }));
    await usage.upsertMinutes(many);
    assert.equal((await usage.minutes({ from: M + 3_600_000, to: M + 3_660_000 })).length, 1200);
  });
}
