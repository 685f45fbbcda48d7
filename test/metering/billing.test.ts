// The billing rules (metering/billing.ts) and reports (metering/report.ts), pure: the 100 ms rounding,
// the two billing modes, the idle discount, and invoice totals in decimal (3 × 0.1 is 0.3 exactly).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildInvoice, billedSeconds, roundUpBusy } from '../../src/metering/billing.ts';
import { monthRange, parseSince, usageReport } from '../../src/metering/report.ts';
import { ZERO_COUNTERS, type PriceSheet, type UsageMinute } from '../../src/core/usage.ts';

const PRICES: PriceSheet = { currency: 'USD', vcpuSecond: '0.1', gibSecond: '0.1', millionRequests: '0.1', idleDiscount: '0.9' };

function minute(over: Partial<UsageMinute>): UsageMinute {
  return {
    minute: Date.UTC(2026, 11, 1),
    instance: 'api-00001-aaaaaa',
    run: 'r1',
    tenant: 'default',
    service: 'api',
    revision: 'api-00001',
    billing: 'request',
    cpuMillis: 1000,
    memoryBytes: 1024 ** 3,
    ...ZERO_COUNTERS,
    lastAt: 0,
    cpuCounterNanos: 0,
    ...over,
  };
}

test('a busy spell is rounded up to the next 100 ms; an exact multiple stays', () => {
  assert.equal(roundUpBusy(0), 0);
  assert.equal(roundUpBusy(1), 100);
  assert.equal(roundUpBusy(100), 100);
  assert.equal(roundUpBusy(100.0001), 200);
  assert.equal(roundUpBusy(2001), 2100);
});

test('request-based bills busy time only; instance-based bills the whole lifetime, idle apart', () => {
  const m = { startingMs: 1000, servingMs: 2000, idleMs: 3000, frozenMs: 4000, busyMs: 2100 };
  const r = billedSeconds(minute({ ...m, billing: 'request' }));
  assert.equal(r.active.toString(), '2.1');
  assert.equal(r.idle.toString(), '0');
  const i = billedSeconds(minute({ ...m, billing: 'instance' }));
  assert.equal(i.active.toString(), '3');
  assert.equal(i.idle.toString(), '7');
});

test('invoice: three lines of 0.1 total 0.3 exactly, and the total is rounded to cents', () => {
  // 1 vCPU-second, 1 GiB-second and 1 million requests at 0.1 each
  const inv = buildInvoice('2026-12', 'default', [minute({ busyMs: 1000, requests: 1_000_000 })], PRICES);
  assert.deepEqual(inv.lines.map((l) => [l.item, l.quantity, l.unitPrice, l.amount]), [
    ['vcpu-seconds', '1', '0.1', '0.1'],
    ['gib-seconds', '1', '0.1', '0.1'],
    ['requests', '1000000', '0.0000001', '0.1'],
  ]);
  assert.equal(inv.subtotal, '0.3');
  assert.equal(inv.total, '0.30');
  assert.notEqual(0.1 + 0.1 + 0.1, 0.3, 'what floating point would have said');
});

test('invoice: idle time of an instance-based service at the idle discount; a request-based one has none', () => {
  const rows = [
    minute({ billing: 'instance', service: 'warm', servingMs: 10_000, idleMs: 50_000, busyMs: 10_000, cpuMillis: 500, memoryBytes: 512 * 1024 ** 2 }),
    minute({ billing: 'request', service: 'lazy', servingMs: 10_000, idleMs: 50_000, busyMs: 10_000 }),
  ];
  const inv = buildInvoice('2026-12', 'default', rows, { ...PRICES, vcpuSecond: '0.000024', gibSecond: '0.0000025' });
  const of = (service: string, item: string) => inv.lines.find((l) => l.service === service && l.item === item);
  assert.equal(of('warm', 'vcpu-seconds')!.quantity, '5'); // 10 s × 0.5 vCPU
  assert.equal(of('warm', 'gib-seconds')!.quantity, '5'); // 10 s × 0.5 GiB
  assert.equal(of('warm', 'idle-vcpu-seconds')!.quantity, '25');
  assert.equal(of('warm', 'idle-vcpu-seconds')!.unitPrice, '0.0000024'); // 90 % off
  assert.equal(of('warm', 'idle-vcpu-seconds')!.amount, '0.00006');
  assert.equal(of('lazy', 'idle-vcpu-seconds'), undefined);
  assert.equal(of('lazy', 'vcpu-seconds')!.amount, '0.00024');
  // the exact sum of the lines' amounts
  const expected = ['0.00012', '0.0000125', '0.00006', '0.00000625', '0.00024', '0.000025'];
  assert.deepEqual(inv.lines.map((l) => l.amount).sort(), [...expected].sort());
  assert.equal(inv.subtotal, '0.00046375');
  assert.equal(inv.total, '0.00');
});

test('many small amounts add up without drift', () => {
  const rows = Array.from({ length: 10_000 }, (_, i) => minute({ minute: Date.UTC(2026, 11, 1) + i * 60_000, busyMs: 100 }));
  const inv = buildInvoice('2026-12', 'default', rows, { ...PRICES, gibSecond: '0', millionRequests: '0' });
  assert.equal(inv.lines[0]!.quantity, '1000'); // 10 000 × 0.1 s × 1 vCPU
  assert.equal(inv.subtotal, '100');
});

test('usage report: by day, by hour and by service, with a total; used CPU and memory from the cgroup figures', () => {
  const day1 = Date.UTC(2026, 11, 1, 10);
  const rows = [
    minute({ minute: day1, servingMs: 30_000, idleMs: 30_000, busyMs: 30_000, cpuNanos: 15e9, memUsedKibMs: 1024 * 1024 * 60_000, requests: 3, egressBytes: 100 }),
    minute({ minute: day1 + 3_600_000, service: 'web', startingMs: 500, frozenMs: 59_500 }),
    minute({ minute: Date.UTC(2026, 11, 2), service: 'web', idleMs: 60_000, billing: 'instance' }),
  ];
  const byDay = usageReport(rows, { project: 'default', from: Date.UTC(2026, 11, 1), to: Date.UTC(2026, 11, 3), by: 'day' });
  assert.deepEqual(byDay.lines.map((l) => l.period), ['2026-12-01', '2026-12-02']);
  assert.equal(byDay.lines[0]!.servingSeconds, '30');
  assert.equal(byDay.lines[0]!.vcpuSecondsUsed, '15');
  assert.equal(byDay.lines[0]!.gibSecondsUsed, '60');
  assert.equal(byDay.lines[0]!.billableSeconds, '30');
  assert.equal(byDay.lines[1]!.billableSeconds, '60');
  assert.equal(byDay.total.requests, 3);
  assert.equal(byDay.total.frozenSeconds, '59.5');
  // allocated: CPU while it can run (not frozen), memory all along
  assert.equal(byDay.total.vcpuSecondsAllocated, '120.5');
  assert.equal(byDay.total.gibSecondsAllocated, '180');
  const byHour = usageReport(rows, { project: 'default', from: 0, to: Date.UTC(2027, 0, 1), by: 'hour' });
  assert.deepEqual(byHour.lines.map((l) => l.period), ['2026-12-01T10:00Z', '2026-12-01T11:00Z', '2026-12-02T00:00Z']);
  const bySvc = usageReport(rows, { project: 'default', from: 0, to: Date.UTC(2027, 0, 1), by: 'service' });
  assert.deepEqual(bySvc.lines.map((l) => `${l.project}/${l.service}`), ['default/api', 'default/web']);
});

test('months and dates are read strictly', () => {
  assert.deepEqual(monthRange('2026-12'), { from: Date.UTC(2026, 11, 1), to: Date.UTC(2027, 0, 1) });
  assert.equal(monthRange('2026-13'), undefined);
  assert.equal(monthRange('12-2026'), undefined);
  assert.equal(parseSince('2026-12-01'), Date.UTC(2026, 11, 1));
  assert.equal(parseSince('2026-12-01T10:00:00Z'), Date.UTC(2026, 11, 1, 10));
  assert.equal(parseSince('yesterday'), undefined);
});
