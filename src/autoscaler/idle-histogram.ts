// autoscaler/idle-histogram: a service's idle times between bursts and the keep-alive policy they
// imply — the hybrid histogram policy of "Serverless in the Wild" (Shahrad et al., USENIX ATC'20).
// It records the idle times between bursts of requests
// in a histogram and derives two windows:
//   pre-warm  = head (5th percentile) of idle times, minus a margin: after a burst ends the service
//               may go to zero at once and be warmed again just before the next burst is due;
//   keep-alive = tail (99th percentile) plus a margin, minus pre-warm: how long it then stays warm.
// With too few samples, too many idle times beyond the histogram's range, or a histogram that is
// not representative (coefficient of variation of bin counts below a threshold — idle times spread
// evenly, so no window predicts them), it falls back to a fixed keep-alive. Pure: time is a parameter.

export interface KeepAliveSettings {
  binMs: number;
  rangeMs: number;
  /** below this many recorded idle times the policy is fixed */
  minSamples: number;
  /** fraction of idle times beyond the range above which the histogram is not trusted */
  maxOutOfRange: number;
  /** histograms whose bin-count coefficient of variation is below this are not representative */
  minCv: number;
  headPercentile: number;
  tailPercentile: number;
  /** margin taken off pre-warm and added to keep-alive (0.1 = 10 %) */
  margin: number;
  fixedKeepAliveMs: number;
}

export const DEFAULT_KEEP_ALIVE: KeepAliveSettings = {
  binMs: 10_000,
  rangeMs: 2 * 3600_000,
  minSamples: 10,
  maxOutOfRange: 0.5,
  minCv: 2,
  headPercentile: 5,
  tailPercentile: 99,
  margin: 0.1,
  fixedKeepAliveMs: 10 * 60_000,
};

export interface SavedHistogram {
  binMs: number;
  rangeMs: number;
  /** [bin index, count] of the non-empty bins */
  bins: Array<[number, number]>;
  outOfRange: number;
  total: number;
}

export type KeepAlivePolicy =
  | { kind: 'fixed'; keepAliveMs: number; reason: string }
  | { kind: 'histogram'; preWarmMs: number; keepAliveMs: number; reason: string };

export class IdleTimeHistogram {
  private readonly bins: number[];
  private outOfRange = 0;
  private total = 0;

  constructor(private readonly s: KeepAliveSettings = DEFAULT_KEEP_ALIVE) {
    this.bins = new Array<number>(Math.ceil(s.rangeMs / s.binMs)).fill(0);
  }

  /** One idle time: from the end of a burst to the first request of the next. */
  record(idleMs: number): void {
    this.total++;
    const bin = Math.floor(Math.max(0, idleMs) / this.s.binMs);
    if (bin >= this.bins.length) this.outOfRange++;
    else this.bins[bin]!++;
  }

  get samples(): number {
    return this.total;
  }

  /** What was recorded, to be kept across daemon restarts (non-empty bins only). */
  save(): SavedHistogram {
    const bins: Array<[number, number]> = [];
    this.bins.forEach((n, i) => n > 0 && bins.push([i, n]));
    return { binMs: this.s.binMs, rangeMs: this.s.rangeMs, bins, outOfRange: this.outOfRange, total: this.total };
  }

  /** Takes over a saved histogram of the same shape (bin width and range); anything else — another
   *  shape after a settings change, or a malformed record — is ignored and false returned. */
  restore(saved: unknown): boolean {
    const v = saved as Partial<SavedHistogram> | null;
    const count = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;
    if (!v || v.binMs !== this.s.binMs || v.rangeMs !== this.s.rangeMs || !count(v.outOfRange) || !count(v.total) || !Array.isArray(v.bins)) return false;
    const bins = new Array<number>(this.bins.length).fill(0);
    for (const b of v.bins) {
      if (!Array.isArray(b) || !count(b[0]) || b[0] >= bins.length || !count(b[1])) return false;
      bins[b[0]] = b[1];
    }
    if (bins.reduce((a, n) => a + n, 0) + v.outOfRange !== v.total) return false;
    bins.forEach((n, i) => (this.bins[i] = n));
    this.outOfRange = v.outOfRange;
    this.total = v.total;
    return true;
  }

  policy(): KeepAlivePolicy {
    const s = this.s;
    const fixed = (reason: string): KeepAlivePolicy => ({ kind: 'fixed', keepAliveMs: s.fixedKeepAliveMs, reason });
    if (this.total < s.minSamples) return fixed(`${this.total} idle times recorded; need ${s.minSamples}`);
    if (this.outOfRange / this.total > s.maxOutOfRange) return fixed(`${this.outOfRange} of ${this.total} idle times exceed ${s.rangeMs / 60_000} min`);
    const cv = coefficientOfVariation(this.bins);
    if (cv < s.minCv) return fixed(`idle times spread evenly (CV ${cv.toFixed(2)} < ${s.minCv})`);
    const inRange = this.total - this.outOfRange;
    const head = this.percentileMs(s.headPercentile, inRange, 'lower');
    const tail = this.percentileMs(s.tailPercentile, inRange, 'upper');
    const preWarmMs = Math.floor(head * (1 - s.margin));
    const keepAliveMs = Math.max(s.binMs, Math.ceil(tail * (1 + s.margin)) - preWarmMs);
    return { kind: 'histogram', preWarmMs, keepAliveMs, reason: `p${s.headPercentile} ${head / 1000}s, p${s.tailPercentile} ${tail / 1000}s of ${inRange} idle times` };
  }

  /** Edge of the bin holding the p-th percentile: its lower edge for the head, upper edge for the tail. */
  private percentileMs(p: number, count: number, edge: 'lower' | 'upper'): number {
    const rank = Math.max(1, Math.ceil((p / 100) * count));
    let seen = 0;
    for (let i = 0; i < this.bins.length; i++) {
      seen += this.bins[i]!;
      if (seen >= rank) return (edge === 'lower' ? i : i + 1) * this.s.binMs;
    }
    return this.s.rangeMs;
  }
}

function coefficientOfVariation(values: number[]): number {
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  if (mean === 0) return 0;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
  return Math.sqrt(variance) / mean;
}

/**
 * Turns request arrivals into idle times: a request after a quiet period closes one idle time.
 * `quietMs` is how long without requests counts as the end of a burst.
 */
export class IdleTracker {
  private lastRequestAt: number | undefined;

  constructor(
    readonly histogram: IdleTimeHistogram,
    private readonly quietMs = 1000,
  ) {}

  /** A request at `now`; true when it closed an idle time (the histogram changed). */
  request(now: number): boolean {
    const closes = this.lastRequestAt !== undefined && now - this.lastRequestAt >= this.quietMs;
    if (closes) this.histogram.record(now - this.lastRequestAt!);
    // a request seen late (an earlier tick's `now`) never moves the last request back
    this.lastRequestAt = Math.max(now, this.lastRequestAt ?? now);
    return closes;
  }

  /** When the last request was seen, or undefined before the first. */
  get lastRequest(): number | undefined {
    return this.lastRequestAt;
  }
}
