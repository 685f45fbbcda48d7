// metering/accumulator: the open per-minute rows of one daemon run, in memory. Each once-a-second sample
// of an instance is added to the row of (its minute, the instance); flush() hands out the rows changed
// since the last flush with their absolute totals so far, and the store upserts them as they are — so a
// flush repeated (after an error, or after a crash mid-write) writes the same numbers again instead of
// adding them twice. Rows of closed minutes are forgotten once written. Pure: no clock, no I/O.
import { ZERO_COUNTERS, type BillingMode, type UsageCounters, type UsageMinute } from '../core/usage.ts';

export const MINUTE_MS = 60_000;

/** What one instance did during one sample (elapsed ms ending at `at`). */
export interface Sample extends UsageCounters {
  at: number;
  instance: string;
  tenant: string;
  service: string;
  revision: string;
  billing: BillingMode;
  cpus: number;
  memoryBytes: number;
  /** the instance's cumulative cgroup CPU counter at `at` */
  cpuCounterNanos: number;
}

/** The minute a sample ending at `at` belongs to (a sample ending exactly on a boundary: the earlier one). */
export function minuteOf(at: number): number {
  return Math.floor((at - 1) / MINUTE_MS) * MINUTE_MS;
}

export class MinuteAccumulator {
  private readonly rows = new Map<string, UsageMinute>();
  private readonly dirty = new Set<string>();

  constructor(private readonly run: string) {}

  add(s: Sample): void {
    const minute = minuteOf(s.at);
    const key = `${minute} ${s.instance}`;
    let row = this.rows.get(key);
    if (!row) {
      row = {
        minute,
        instance: s.instance,
        run: this.run,
        tenant: s.tenant,
        service: s.service,
        revision: s.revision,
        billing: s.billing,
        cpuMillis: Math.round(s.cpus * 1000),
        memoryBytes: s.memoryBytes,
        ...ZERO_COUNTERS,
        lastAt: s.at,
        cpuCounterNanos: s.cpuCounterNanos,
      };
      this.rows.set(key, row);
    }
    row.startingMs += s.startingMs;
    row.servingMs += s.servingMs;
    row.idleMs += s.idleMs;
    row.frozenMs += s.frozenMs;
    row.busyMs += s.busyMs;
    row.cpuNanos += s.cpuNanos;
    row.memUsedKibMs += s.memUsedKibMs;
    row.requests += s.requests;
    row.egressBytes += s.egressBytes;
    row.lastAt = s.at;
    row.cpuCounterNanos = s.cpuCounterNanos;
    this.dirty.add(key);
  }

  /** The rows changed since the last flush, as copies of their totals so far; `written` must be called
   *  once they are stored (or `failed` to keep them for the next flush). */
  flush(): { rows: UsageMinute[]; written(now: number): void; failed(): void } {
    const keys = [...this.dirty];
    this.dirty.clear();
    const rows = keys.map((k) => ({ ...this.rows.get(k)! }));
    return {
      rows,
      written: (now) => {
        // closed minutes written and not changed since: nothing will add to them again
        const open = minuteOf(now);
        for (const k of keys) if (!this.dirty.has(k) && this.rows.get(k)!.minute < open) this.rows.delete(k);
      },
      failed: () => {
        for (const k of keys) this.dirty.add(k);
      },
    };
  }

  /** rows held (open minutes and unwritten ones) */
  get size(): number {
    return this.rows.size;
  }
}
