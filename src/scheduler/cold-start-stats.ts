// scheduler/cold-start-stats: the cold-start breakdown. The scheduler reports the stages it saw when an
// instance started for a waiting request becomes ready (queued → created / taken from the pool / thawed
// → started → ready); the gateway reports the first byte of the request that waited for it. The two are
// joined per revision, logged once per cold start (info), and folded into per-revision histograms that a
// metrics endpoint can expose. No I/O besides the log call; times are passed in.
import type { Logger } from '../core/logger.ts';

/** how the instance that served a cold start came to exist */
export type ColdStartSource = 'created' | 'pool' | 'thawed';

export interface ColdStartStages {
  instance: string;
  source: ColdStartSource;
  /** capacity asked → work on an instance began (waits for an instance still being pre-created count here) */
  queuedMs: number;
  /** runc create (source created); 0 for pool and thawed */
  createdMs: number;
  /** runc start, or resume for a thawed instance */
  startedMs: number;
  /** started → first successful readiness probe; 0 for thawed (it was ready when frozen) */
  readyMs: number;
  /** readiness probes tried */
  probes: number;
}

export const STAGES = ['queued', 'created', 'started', 'ready', 'firstByte'] as const;
export type Stage = (typeof STAGES)[number];

// Bucket upper bounds in ms, a factor √2 apart from 50 µs to ~30 min: quantiles within ±41%.
const BOUNDS = Array.from({ length: 62 }, (_, k) => 0.05 * Math.SQRT2 ** k);

/** A fixed-bucket histogram of durations in ms. */
export class Histogram {
  readonly buckets = new Array<number>(BOUNDS.length + 1).fill(0);
  count = 0;
  sumMs = 0;
  maxMs = 0;

  observe(ms: number): void {
    let i = 0;
    while (i < BOUNDS.length && ms > BOUNDS[i]!) i++;
    this.buckets[i]!++;
    this.count++;
    this.sumMs += ms;
    this.maxMs = Math.max(this.maxMs, ms);
  }

  /** Upper bound of the bucket holding the q-quantile (capped at the largest value seen); 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) return Math.min(BOUNDS[i] ?? Infinity, this.maxMs);
    }
    return this.maxMs;
  }
}

export interface RevisionColdStarts {
  bySource: Record<ColdStartSource, number>;
  stages: Record<Stage, Histogram>;
}

export class ColdStartStats {
  private readonly revisions = new Map<string, RevisionColdStarts>();
  /** stages waiting for the first byte of the request they served */
  private readonly pending = new Map<string, ColdStartStages>();

  constructor(private readonly log: Logger) {}

  /** An instance started for a waiting request is ready. */
  stages(revision: string, s: ColdStartStages): void {
    const r = this.of(revision);
    r.bySource[s.source]++;
    r.stages.queued.observe(s.queuedMs);
    r.stages.created.observe(s.createdMs);
    r.stages.started.observe(s.startedMs);
    r.stages.ready.observe(s.readyMs);
    this.pending.set(revision, s);
  }

  /** A request that waited `waitedMs` for an instance got its first response byte `firstByteMs` after it
   *  arrived. Only the first such request after a cold start completes its breakdown. */
  firstByte(revision: string, waitedMs: number, firstByteMs: number): ColdStartStages | undefined {
    const s = this.pending.get(revision);
    if (!s) return undefined;
    this.pending.delete(revision);
    this.of(revision).stages.firstByte.observe(firstByteMs);
    const r2 = (n: number) => Math.round(n * 100) / 100;
    this.log.info(
      { revision, instance: s.instance, source: s.source, queuedMs: r2(s.queuedMs), createdMs: r2(s.createdMs), startedMs: r2(s.startedMs), readyMs: r2(s.readyMs), probes: s.probes, waitedMs: r2(waitedMs), firstByteMs: r2(firstByteMs) },
      'cold start',
    );
    return s;
  }

  /** The largest `q`-quantile of `stage` over the revisions `of` picks; undefined when none has one. */
  quantile(of: (revision: string) => boolean, stage: Stage, q: number): number | undefined {
    let out: number | undefined;
    for (const [name, r] of this.revisions) if (of(name) && r.stages[stage].count > 0) out = Math.max(out ?? 0, r.stages[stage].quantile(q));
    return out;
  }

  get(revision: string): RevisionColdStarts | undefined {
    return this.revisions.get(revision);
  }

  forget(revision: string): void {
    this.revisions.delete(revision);
    this.pending.delete(revision);
  }

  private of(revision: string): RevisionColdStarts {
    let r = this.revisions.get(revision);
    if (!r) {
      const stages = Object.fromEntries(STAGES.map((s) => [s, new Histogram()])) as Record<Stage, Histogram>;
      r = { bySource: { created: 0, pool: 0, thawed: 0 }, stages };
      this.revisions.set(revision, r);
    }
    return r;
  }
}
