// autoscaler/window: a time-bucketed series of metric samples (one bucket per second by default) that
// answers "average over the last W ms". Time comes from the caller, never from Date.now().

export class MetricWindow {
  /** bucket start (ms) → [sum of samples, sample count] */
  private readonly buckets = new Map<number, [number, number]>();

  constructor(
    private retentionMs: number,
    private readonly granularityMs = 1000,
  ) {}

  record(now: number, value: number): void {
    const key = now - (now % this.granularityMs);
    const b = this.buckets.get(key);
    if (b) {
      b[0] += value;
      b[1] += 1;
    } else {
      this.buckets.set(key, [value, 1]);
    }
    this.prune(now);
  }

  /**
   * Average of per-bucket averages over buckets in (now - windowMs, now]. Buckets with no sample count
   * as zero once any sample exists in the window, since the gateway reports every second while a
   * revision has traffic. `undefined` when the window holds no sample at all.
   */
  average(now: number, windowMs: number): number | undefined {
    const from = now - windowMs;
    let total = 0;
    let seen = false;
    for (const [key, [sum, n]] of this.buckets) {
      if (key <= from || key > now) continue;
      total += sum / n;
      seen = true;
    }
    if (!seen) return undefined;
    return total / Math.max(1, Math.round(windowMs / this.granularityMs));
  }

  /** Time of the newest bucket with a non-zero value, or undefined. */
  lastNonZero(): number | undefined {
    let last: number | undefined;
    for (const [key, [sum]] of this.buckets) if (sum > 0 && (last === undefined || key > last)) last = key;
    return last;
  }

  /** Keeps samples for `retentionMs` from now on (a longer window keeps what is still held). */
  retain(retentionMs: number): void {
    this.retentionMs = retentionMs;
  }

  private prune(now: number): void {
    for (const key of this.buckets.keys()) if (key <= now - this.retentionMs) this.buckets.delete(key);
  }
}
