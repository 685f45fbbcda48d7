// metering/billing: the billing rules, pure, in decimal arithmetic (decimal.js: no binary floating
// point between a minute's milliseconds and an invoice's cents; docs/dependencies.md says why).
//   request-based: instance time counts only while a request is in flight, each busy spell rounded up
//                  to 100 ms (roundUpBusy, applied by the gateway when a spell ends)
//   instance-based: the whole instance lifetime counts; idle-warm and frozen seconds at the price
//                  sheet's idle discount
// vCPU- and GiB-seconds billed are the instance's limits (what is allocated) times its billed seconds;
// requests are billed per million.
import { Decimal } from 'decimal.js';
import type { Invoice, InvoiceLine, PriceSheet, UsageMinute } from '../core/usage.ts';

/** Decimal with room for 1/2^30 (GiB) and a month of milliseconds exactly. */
export const Dec = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_UP, toExpNeg: -40, toExpPos: 40 });
export type Dec = InstanceType<typeof Dec>;

export const BUSY_GRANULARITY_MS = 100;

/** A busy spell's billed length: rounded up to the next 100 ms (Cloud Run's request-based rule). */
export function roundUpBusy(ms: number): number {
  if (ms <= 0) return 0;
  return Math.ceil(ms / BUSY_GRANULARITY_MS) * BUSY_GRANULARITY_MS;
}

const GIB = new Dec(2).pow(30);
const MS = new Dec(1000);

/** What one minute row bills, split into active and idle seconds (idle only in instance mode). */
export function billedSeconds(m: UsageMinute): { active: Dec; idle: Dec } {
  if (m.billing === 'request') return { active: new Dec(m.busyMs).div(MS), idle: new Dec(0) };
  return { active: new Dec(m.startingMs + m.servingMs).div(MS), idle: new Dec(m.idleMs + m.frozenMs).div(MS) };
}

export function vcpuSeconds(seconds: Dec, cpuMillis: number): Dec {
  return seconds.times(cpuMillis).div(1000);
}

export function gibSeconds(seconds: Dec, memoryBytes: number): Dec {
  return seconds.times(memoryBytes).div(GIB);
}

/** A non-negative decimal price; throws on anything else (the settings check prices with it). */
export function parsePrice(text: string, what: string): Dec {
  if (!/^\d+(\.\d+)?$/.test(text.trim())) throw new RangeError(`${what}: expected a decimal number such as 0.000024, got ${JSON.stringify(text)}`);
  return new Dec(text.trim());
}

/** The invoice of `month` (YYYY-MM) from its minute rows: a line per service and item, exact amounts. */
export function buildInvoice(month: string, project: string, rows: readonly UsageMinute[], prices: PriceSheet): Invoice {
  const p = {
    vcpu: parsePrice(prices.vcpuSecond, 'vcpuSecond'),
    gib: parsePrice(prices.gibSecond, 'gibSecond'),
    mreq: parsePrice(prices.millionRequests, 'millionRequests'),
    discount: parsePrice(prices.idleDiscount, 'idleDiscount'),
  };
  const idleFactor = Dec.max(0, new Dec(1).minus(p.discount));
  type Acc = { vcpu: Dec; gib: Dec; idleVcpu: Dec; idleGib: Dec; requests: Dec };
  const per = new Map<string, { project: string; service: string; acc: Acc }>();
  for (const m of rows) {
    const key = `${m.tenant}\u0000${m.service}`;
    let e = per.get(key);
    if (!e) per.set(key, (e = { project: m.tenant, service: m.service, acc: { vcpu: new Dec(0), gib: new Dec(0), idleVcpu: new Dec(0), idleGib: new Dec(0), requests: new Dec(0) } }));
    const s = billedSeconds(m);
    const a = e.acc;
    a.vcpu = a.vcpu.plus(vcpuSeconds(s.active, m.cpuMillis));
    a.gib = a.gib.plus(gibSeconds(s.active, m.memoryBytes));
    a.idleVcpu = a.idleVcpu.plus(vcpuSeconds(s.idle, m.cpuMillis));
    a.idleGib = a.idleGib.plus(gibSeconds(s.idle, m.memoryBytes));
    a.requests = a.requests.plus(m.requests);
  }
  const lines: InvoiceLine[] = [];
  const line = (project: string, service: string, item: string, description: string, quantity: Dec, unit: string, unitPrice: Dec, per = new Dec(1)) => {
    if (quantity.isZero()) return;
    lines.push({ project, service, item, description, quantity: text(quantity), unit, unitPrice: text(unitPrice), amount: text(quantity.div(per).times(unitPrice)) });
  };
  for (const { project: proj, service, acc } of [...per.values()].sort((a, b) => (a.project === b.project ? cmp(a.service, b.service) : cmp(a.project, b.project)))) {
    line(proj, service, 'vcpu-seconds', 'vCPU-seconds', acc.vcpu, 'vCPU-second', p.vcpu);
    line(proj, service, 'gib-seconds', 'GiB-seconds', acc.gib, 'GiB-second', p.gib);
    line(proj, service, 'idle-vcpu-seconds', 'vCPU-seconds idle (instance-based, discounted)', acc.idleVcpu, 'vCPU-second', p.vcpu.times(idleFactor));
    line(proj, service, 'idle-gib-seconds', 'GiB-seconds idle (instance-based, discounted)', acc.idleGib, 'GiB-second', p.gib.times(idleFactor));
    line(proj, service, 'requests', 'requests', acc.requests, 'request', p.mreq.div(1_000_000));
  }
  const subtotal = lines.reduce((sum, l) => sum.plus(l.amount), new Dec(0));
  return { month, project, currency: prices.currency, lines, subtotal: text(subtotal), total: subtotal.toFixed(2, Decimal.ROUND_HALF_UP) };
}

/** A decimal in plain notation, without trailing zeros. */
export function text(d: Dec): string {
  return d.toFixed();
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
