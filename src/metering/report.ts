// metering/report: `skiff usage` — minute rows summed by hour, day (UTC) or service, every quantity
// in decimal (metering/billing.ts), plus a total; and the month range `skiff bill` reads.
import type { UsageGrouping, UsageLine, UsageMinute, UsageReport } from '../core/usage.ts';
import { Dec, billedSeconds, gibSeconds, text, vcpuSeconds } from './billing.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const KIB_PER_GIB = 1024 * 1024;

interface Sums {
  starting: Dec;
  serving: Dec;
  idle: Dec;
  frozen: Dec;
  billable: Dec;
  vcpuAlloc: Dec;
  vcpuUsed: Dec;
  gibAlloc: Dec;
  gibUsed: Dec;
  requests: number;
  egress: number;
}

const zero = (): Sums => ({ starting: new Dec(0), serving: new Dec(0), idle: new Dec(0), frozen: new Dec(0), billable: new Dec(0), vcpuAlloc: new Dec(0), vcpuUsed: new Dec(0), gibAlloc: new Dec(0), gibUsed: new Dec(0), requests: 0, egress: 0 });

function add(s: Sums, m: UsageMinute): void {
  const sec = (ms: number) => new Dec(ms).div(1000);
  s.starting = s.starting.plus(sec(m.startingMs));
  s.serving = s.serving.plus(sec(m.servingMs));
  s.idle = s.idle.plus(sec(m.idleMs));
  s.frozen = s.frozen.plus(sec(m.frozenMs));
  const b = billedSeconds(m);
  s.billable = s.billable.plus(b.active).plus(b.idle);
  // allocated: CPU while it can run (frozen instances get none), memory for its whole life
  s.vcpuAlloc = s.vcpuAlloc.plus(vcpuSeconds(sec(m.startingMs + m.servingMs + m.idleMs), m.cpuMillis));
  s.gibAlloc = s.gibAlloc.plus(gibSeconds(sec(m.startingMs + m.servingMs + m.idleMs + m.frozenMs), m.memoryBytes));
  s.vcpuUsed = s.vcpuUsed.plus(new Dec(m.cpuNanos).div(1e9));
  s.gibUsed = s.gibUsed.plus(new Dec(m.memUsedKibMs).div(KIB_PER_GIB).div(1000));
  s.requests += m.requests;
  s.egress += m.egressBytes;
}

/** Seconds to the millisecond, quantities to 6 decimals: what a person reads (the invoice keeps exact sums). */
function line(s: Sums, key: Pick<UsageLine, 'period' | 'project' | 'service'>): UsageLine {
  const r = (d: Dec, places: number) => text(d.toDecimalPlaces(places));
  return {
    ...key,
    startingSeconds: r(s.starting, 3),
    servingSeconds: r(s.serving, 3),
    idleSeconds: r(s.idle, 3),
    frozenSeconds: r(s.frozen, 3),
    billableSeconds: r(s.billable, 3),
    vcpuSecondsAllocated: r(s.vcpuAlloc, 6),
    vcpuSecondsUsed: r(s.vcpuUsed, 6),
    gibSecondsAllocated: r(s.gibAlloc, 6),
    gibSecondsUsed: r(s.gibUsed, 6),
    requests: s.requests,
    egressBytes: s.egress,
  };
}

export function usageReport(rows: readonly UsageMinute[], q: { project: string; service?: string; from: number; to: number; by: UsageGrouping }): UsageReport {
  const groups = new Map<string, { key: Pick<UsageLine, 'period' | 'project' | 'service'>; sums: Sums }>();
  const total = zero();
  for (const m of rows) {
    let id: string;
    let key: Pick<UsageLine, 'period' | 'project' | 'service'>;
    if (q.by === 'service') {
      id = `${m.tenant}\u0000${m.service}`;
      key = { project: m.tenant, service: m.service };
    } else {
      const size = q.by === 'hour' ? HOUR_MS : DAY_MS;
      const start = Math.floor(m.minute / size) * size;
      id = String(start);
      key = { period: new Date(start).toISOString().slice(0, q.by === 'hour' ? 13 : 10) + (q.by === 'hour' ? ':00Z' : '') };
    }
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { key, sums: zero() }));
    add(g.sums, m);
    add(total, m);
  }
  const lines = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => line(g.sums, g.key));
  return { project: q.project, ...(q.service !== undefined ? { service: q.service } : {}), since: new Date(q.from).toISOString(), until: new Date(q.to).toISOString(), by: q.by, lines, total: line(total, {}) };
}

/** [start, end) epoch ms of a `YYYY-MM` month (UTC); undefined when it is not one. */
export function monthRange(month: string): { from: number; to: number } | undefined {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]) - 1;
  return { from: Date.UTC(y, mo, 1), to: Date.UTC(y, mo + 1, 1) };
}

/** A `YYYY-MM-DD` (or full ISO time) as epoch ms; undefined when it is not one. */
export function parseSince(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return undefined;
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  return Number.isFinite(t) ? t : undefined;
}
