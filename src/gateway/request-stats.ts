// gateway/request-stats: what a revision's requests came to — a count per status class and a latency
// histogram — kept as plain numbers in the revision's pool and read by a metrics scrape (daemon/metrics.ts)
// when it happens. One record() per request: an array increment and a short bucket scan, no allocation,
// so the fast path pays next to nothing for it (bench/gateway.ts).

/** latency bucket upper bounds, seconds (Prometheus' `le`); the last bucket (+Inf) is implicit */
export const LATENCY_BOUNDS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;
const BOUNDS_MS = LATENCY_BOUNDS_S.map((s) => s * 1000);

/** status classes, by index: 0 = a request cut off before any status (the client or the instance left) */
export const STATUS_CLASSES = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

export class RequestStats {
  /** requests finished, per STATUS_CLASSES index */
  readonly byClass = [0, 0, 0, 0, 0, 0];
  /** latency per bucket (not cumulative): index i counts ≤ LATENCY_BOUNDS_S[i], the last one the rest */
  readonly buckets = new Array<number>(BOUNDS_MS.length + 1).fill(0);
  count = 0;
  sumSeconds = 0;

  /** A request finished with `status` (0: none was sent) after `ms` since it arrived. */
  record(status: number, ms: number): void {
    const c = status >= 100 && status < 600 ? (status / 100) | 0 : 0;
    this.byClass[c]!++;
    let i = 0;
    while (i < BOUNDS_MS.length && ms > BOUNDS_MS[i]!) i++;
    this.buckets[i]!++;
    this.count++;
    this.sumSeconds += ms / 1000;
  }
}
