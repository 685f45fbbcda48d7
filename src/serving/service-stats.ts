// serving/service-stats: the recent history behind GET /api/v1/services/NAME/stats (core/views.ts
// ServiceStatsView) and the Services list's sparklines (GET /api/v1/stats/services, ServicesStatsView:
// the same history in coarser steps) — per service and per step, the requests that ended, the 5xx among them, their
// latency percentiles, the instances by phase at the step's end and the cold starts, kept in memory for
// at most `keepMs` (6 h) and lost on a restart (docs/dashboard.md).
//
// Pure: the caller reads the gateway's, the scheduler's and the cold-start counters at each step's end
// and hands them in with the time (daemon/service-stats-wiring.ts). The counters are cumulative and
// per revision; this turns them into per-step deltas per service. A counter that went backwards (its
// revision was removed and made again) starts over from zero. Nothing of the hot path is touched:
// the gateway keeps counting into its revision histograms as it does for the metrics scrape.
//
// Memory: an idle service costs nothing per step. Only steps with a request or a cold start (or a stage of one) are kept
// (a few numbers each), and the instance counts only when they change; a query fills the gaps with
// zeros and carries the counts forward, so its columns always span the whole window.
import type { ServiceStatsSummary, ServiceStatsView } from '../core/views.ts';

/** One revision's counters at the end of a step, as the daemon reads them. */
export interface RevisionReading {
  service: string;
  revision: string;
  /** requests finished since the revision's counters began, and the 5xx among them */
  requests: number;
  errors: number;
  /** their latency histogram, per bucket (not cumulative), on `latencyBoundsMs` (+ the overflow bucket) */
  latency: readonly number[];
  /** cold starts ended since the counters began, and their stage histograms on `stageBoundsMs` */
  coldStarts: number;
  stages: Readonly<Record<string, readonly number[]>> | undefined;
  /** its instances now, by phase */
  instances: Readonly<Record<string, number>>;
}

export interface ServiceStatsOptions {
  stepMs: number;
  /** how much history each service keeps */
  keepMs: number;
  /** the latency buckets' upper bounds (ms); a reading's `latency` has one more, the overflow */
  latencyBoundsMs: readonly number[];
  /** the cold-start stage buckets' upper bounds (ms), as the view shows them */
  stageBoundsMs: readonly number[];
  /** every phase a view lists, even at zero */
  phases: readonly string[];
  /** every cold-start stage a view lists, even empty */
  stages: readonly string[];
}

/** What a window of the history looks like: core/views.ts ServiceStatsView (without the name). */
export type StatsColumns = Omit<ServiceStatsView, 'service'>;

/** One service's line of the Services list (core/views.ts ServicesStatsView): coarse steps. */
export type SummaryColumns = Omit<ServiceStatsSummary, 'name' | 'project'>;

/** A step with a request or a cold start in it. */
interface Step {
  /** its end, in steps since the epoch */
  k: number;
  requests: number;
  errors: number;
  latency: number[];
  coldStarts: number;
  stages: Record<string, number[]> | undefined;
}

interface Series {
  /** ascending k, only steps with something in them */
  steps: Step[];
  /** ascending k: the instance counts from step k on (a change point); the first may predate the window */
  phases: Array<{ k: number; counts: Record<string, number> }>;
}

type Counters = Pick<RevisionReading, 'requests' | 'errors' | 'latency' | 'coldStarts' | 'stages'>;

export class ServiceStats {
  private readonly series = new Map<string, Series>();
  /** each revision's counters at the last sample, to take the next step's deltas from */
  private readonly last = new Map<string, Counters>();

  constructor(private readonly o: ServiceStatsOptions) {}

  /** The step ending at `nowMs` (rounded to the nearest step boundary): `readings` are every revision
   *  the daemon serves now. A service with no revision in them was removed: it is forgotten. */
  sample(nowMs: number, readings: Iterable<RevisionReading>): void {
    const k = Math.round(nowMs / this.o.stepMs);
    const seenRevisions = new Set<string>();
    const perService = new Map<string, { step: Step; instances: Record<string, number> }>();
    for (const r of readings) {
      seenRevisions.add(r.revision);
      const prev = this.last.get(r.revision);
      this.last.set(r.revision, { requests: r.requests, errors: r.errors, latency: [...r.latency], coldStarts: r.coldStarts, stages: r.stages && copyStages(r.stages) });
      let acc = perService.get(r.service);
      if (!acc) perService.set(r.service, (acc = { step: { k, requests: 0, errors: 0, latency: new Array<number>(this.o.latencyBoundsMs.length + 1).fill(0), coldStarts: 0, stages: undefined }, instances: {} }));
      // requests: since the last sample, unless the counters started over (a new pool)
      const fresh = !prev || r.requests < prev.requests;
      acc.step.requests += r.requests - (fresh ? 0 : prev.requests);
      acc.step.errors += Math.max(0, r.errors - (fresh ? 0 : prev.errors));
      r.latency.forEach((n, i) => (acc.step.latency[i]! += Math.max(0, n - (fresh ? 0 : (prev.latency[i] ?? 0)))));
      const coldFresh = !prev || r.coldStarts < prev.coldStarts;
      const cold = r.coldStarts - (coldFresh ? 0 : prev.coldStarts);
      if (cold > 0) acc.step.coldStarts += cold;
      // every stage's growth, not only in a step with a cold start: the first byte is observed when the
      // waiting request gets it, often a step after the instance became ready (and the start counted)
      if (r.stages) {
        for (const [stage, counts] of Object.entries(r.stages)) {
          const before = coldFresh ? undefined : prev.stages?.[stage];
          counts.forEach((n, i) => {
            const grew = n - (before?.[i] ?? 0);
            if (grew <= 0) return;
            acc.step.stages ??= {};
            (acc.step.stages[stage] ??= new Array<number>(this.o.stageBoundsMs.length + 1).fill(0))[i]! += grew;
          });
        }
      }
      for (const [phase, n] of Object.entries(r.instances)) acc.instances[phase] = (acc.instances[phase] ?? 0) + n;
    }
    for (const revision of this.last.keys()) if (!seenRevisions.has(revision)) this.last.delete(revision);
    for (const service of this.series.keys()) if (!perService.has(service)) this.series.delete(service);

    const oldest = k - Math.ceil(this.o.keepMs / this.o.stepMs);
    for (const [service, { step, instances }] of perService) {
      let s = this.series.get(service);
      if (!s) this.series.set(service, (s = { steps: [], phases: [] }));
      if (step.requests > 0 || step.coldStarts > 0 || step.stages) {
        const tail = s.steps[s.steps.length - 1];
        // two samples in one step (a late timer, a test's extra sample): one step holding both
        if (tail && tail.k === step.k) mergeInto(tail, step);
        else s.steps.push(step);
      }
      const lastCounts = s.phases[s.phases.length - 1];
      if (!lastCounts || !sameCounts(lastCounts.counts, instances)) {
        if (lastCounts && lastCounts.k === k) lastCounts.counts = instances;
        else s.phases.push({ k, counts: instances });
      }
      // forget what fell out of the kept history (the counts in force at its start stay)
      while (s.steps.length > 0 && s.steps[0]!.k <= oldest) s.steps.shift();
      while (s.phases.length > 1 && s.phases[1]!.k <= oldest) s.phases.shift();
    }
  }

  /** The `windowMs` up to `nowMs`: one column per step that has ended, oldest first. A service never
   *  sampled (new, or the daemon just started) gets zeros: the chart still has its time axis. */
  view(service: string, nowMs: number, windowMs: number): StatsColumns {
    const stepMs = this.o.stepMs;
    const n = Math.max(1, Math.round(windowMs / stepMs));
    const lastK = Math.floor(nowMs / stepMs);
    const firstK = lastK - n + 1;
    const s = this.series.get(service) ?? { steps: [], phases: [] };
    const out: StatsColumns = {
      stepSeconds: stepMs / 1000,
      t: [],
      requests: new Array<number>(n).fill(0),
      errors: new Array<number>(n).fill(0),
      p50Ms: new Array<number | null>(n).fill(null),
      p99Ms: new Array<number | null>(n).fill(null),
      instances: Object.fromEntries(this.o.phases.map((p) => [p, new Array<number>(n).fill(0)])),
      coldStarts: new Array<number>(n).fill(0),
      coldStartStages: { boundsMs: [...this.o.stageBoundsMs], counts: Object.fromEntries(this.o.stages.map((st) => [st, new Array<number>(this.o.stageBoundsMs.length + 1).fill(0)])) },
    };
    for (let j = 0; j < n; j++) out.t.push(((firstK + j) * stepMs) / 1000);
    for (const step of s.steps) {
      if (step.k < firstK || step.k > lastK) continue;
      const j = step.k - firstK;
      out.requests[j] = step.requests;
      out.errors[j] = step.errors;
      out.p50Ms[j] = quantileMs(step.latency, this.o.latencyBoundsMs, 0.5);
      out.p99Ms[j] = quantileMs(step.latency, this.o.latencyBoundsMs, 0.99);
      out.coldStarts[j] = step.coldStarts;
      for (const [stage, counts] of Object.entries(step.stages ?? {})) {
        const into = (out.coldStartStages.counts[stage] ??= new Array<number>(this.o.stageBoundsMs.length + 1).fill(0));
        counts.forEach((c, i) => (into[i]! += c));
      }
    }
    // instance counts: each change point holds until the next
    let p = 0;
    for (let j = 0; j < n; j++) {
      const k = firstK + j;
      while (p + 1 < s.phases.length && s.phases[p + 1]!.k <= k) p++;
      const point = s.phases[p];
      if (!point || point.k > k) continue;
      for (const [phase, c] of Object.entries(point.counts)) (out.instances[phase] ??= new Array<number>(n).fill(0))[j] = c;
    }
    return out;
  }

  /** The coarse time axis of `summary`: at most `points` steps, each a whole number of recorded steps,
   *  the last ending at the latest recorded step that has ended (so "now" is always a full step, and
   *  the axis moves one recorded step at a time). When the window is not a whole number of coarse
   *  steps, the first one reaches a little before it. */
  summaryAxis(nowMs: number, windowMs: number, points: number): { stepSeconds: number; t: number[]; factor: number; lastK: number } {
    const stepMs = this.o.stepMs;
    const fine = Math.max(1, Math.round(windowMs / stepMs));
    const factor = Math.ceil(fine / Math.max(1, points));
    const n = Math.ceil(fine / factor);
    const lastK = Math.floor(nowMs / stepMs);
    const t: number[] = [];
    for (let j = 0; j < n; j++) t.push(((lastK - (n - 1 - j) * factor) * stepMs) / 1000);
    return { stepSeconds: (factor * stepMs) / 1000, t, factor, lastK };
  }

  /**
   * The Services list's sparklines of one service over `summaryAxis`'s steps: requests summed, and the
   * p50/p99 of each coarse step taken from the recorded steps' latency histograms added together —
   * the same estimate as a recorded step's, not an average of percentiles (which has no meaning).
   * Costs the service's recorded steps in the window, found by binary search (an idle one: nothing).
   */
  summary(service: string, axis: { t: number[]; factor: number; lastK: number }): SummaryColumns {
    const n = axis.t.length;
    const out: SummaryColumns = { requests: new Array<number>(n).fill(0), p50Ms: new Array<number | null>(n).fill(null), p99Ms: new Array<number | null>(n).fill(null), coldStarts: 0 };
    const steps = this.series.get(service)?.steps;
    if (!steps || steps.length === 0) return out;
    const firstK = axis.lastK - n * axis.factor + 1;
    let i = firstIndexFrom(steps, firstK);
    const merged: Array<number[] | undefined> = new Array(n);
    for (; i < steps.length && steps[i]!.k <= axis.lastK; i++) {
      const step = steps[i]!;
      const j = Math.floor((step.k - firstK) / axis.factor);
      out.requests[j]! += step.requests;
      out.coldStarts += step.coldStarts;
      if (step.requests === 0) continue;
      const into = (merged[j] ??= new Array<number>(step.latency.length).fill(0));
      step.latency.forEach((c, b) => (into[b]! += c));
    }
    merged.forEach((latency, j) => {
      if (!latency) return;
      out.p50Ms[j] = quantileMs(latency, this.o.latencyBoundsMs, 0.5);
      out.p99Ms[j] = quantileMs(latency, this.o.latencyBoundsMs, 0.99);
    });
    return out;
  }

  /** services with history (tests, memory checks) */
  get size(): number {
    return this.series.size;
  }
}

/**
 * The q-quantile of a per-bucket histogram, interpolated linearly inside its bucket as Prometheus'
 * histogram_quantile does (the first bucket starts at 0); in the overflow bucket, the last bound.
 * null when the histogram is empty.
 */
export function quantileMs(buckets: readonly number[], boundsMs: readonly number[], q: number): number | null {
  const count = buckets.reduce((a, b) => a + b, 0);
  if (count === 0) return null;
  const rank = q * count;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    const inBucket = buckets[i]!;
    if (inBucket > 0 && seen + inBucket >= rank) {
      if (i >= boundsMs.length) return boundsMs[boundsMs.length - 1]!;
      const lower = i === 0 ? 0 : boundsMs[i - 1]!;
      const upper = boundsMs[i]!;
      return Math.round((lower + ((upper - lower) * (rank - seen)) / inBucket) * 100) / 100;
    }
    seen += inBucket;
  }
  return boundsMs[boundsMs.length - 1]!;
}

/** the index of the first step at or after k (steps ascending by k) */
function firstIndexFrom(steps: readonly Step[], k: number): number {
  let lo = 0;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (steps[mid]!.k < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function mergeInto(into: Step, from: Step): void {
  into.requests += from.requests;
  into.errors += from.errors;
  from.latency.forEach((n, i) => (into.latency[i]! += n));
  into.coldStarts += from.coldStarts;
  for (const [stage, counts] of Object.entries(from.stages ?? {})) {
    into.stages ??= {};
    const to = (into.stages[stage] ??= new Array<number>(counts.length).fill(0));
    counts.forEach((n, i) => (to[i]! += n));
  }
}

function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if ((a[key] ?? 0) !== (b[key] ?? 0)) return false;
  return true;
}

function copyStages(stages: Readonly<Record<string, readonly number[]>>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, [...v]]));
}
