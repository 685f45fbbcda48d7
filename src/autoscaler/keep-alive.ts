// autoscaler/keep-alive: one service's keep-alive — its idle-time tracker and histogram
// (idle-histogram.ts, saved as JSON for the store), its mode from the spec, and what the policy means
// for its idle revisions at `now`. Pure apart from that state; time is a parameter.
//
//   fixed policy, or a burst still going on (a request within quietMs): the autoscaler decides alone —
//     its own idle window + grace is the fixed keep-alive, so a service with little data behaves as it
//     always did.
//   histogram policy, last request at L (the paper's semantics):
//     pre-warm > 0: zero from the end of the burst until L + preWarm, then warm (an instance started
//                   or thawed ahead of the next request) until L + preWarm + keepAlive, then zero;
//     pre-warm = 0: warm until L + keepAlive, then zero.
import { IdleTimeHistogram, IdleTracker, type KeepAlivePolicy, type KeepAliveSettings } from './idle-histogram.ts';

export type KeepAliveMode = 'adaptive' | 'fixed';

export type KeepAliveDecision =
  | { kind: 'autoscaler' }
  | { kind: 'keep'; untilMs: number; reason: string }
  | { kind: 'zero'; prewarmAtMs?: number; reason: string };

export function decideKeepAlive(policy: KeepAlivePolicy, lastRequestAt: number | undefined, now: number, quietMs: number): KeepAliveDecision {
  if (policy.kind === 'fixed' || lastRequestAt === undefined || now - lastRequestAt < quietMs) return { kind: 'autoscaler' };
  const warmFrom = lastRequestAt + policy.preWarmMs;
  const warmUntil = warmFrom + policy.keepAliveMs;
  const s = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  if (now < warmFrom) return { kind: 'zero', prewarmAtMs: warmFrom, reason: `keep-alive: idle ${s(now - lastRequestAt)}, pre-warm in ${s(warmFrom - now)}` };
  if (now < warmUntil) return { kind: 'keep', untilMs: warmUntil, reason: `keep-alive: ${policy.preWarmMs > 0 ? 'pre-warmed, ' : ''}warm for ${s(warmUntil - now)} more` };
  return { kind: 'zero', reason: `keep-alive: idle ${s(now - lastRequestAt)}, past pre-warm ${s(policy.preWarmMs)} + keep-alive ${s(policy.keepAliveMs)}` };
}

/** Node-wide histogram settings; the fixed keep-alive comes from each service's spec. */
export type HistogramSettings = Omit<KeepAliveSettings, 'fixedKeepAliveMs'> & {
  /** no request for this long ends a burst; must exceed the scheduler's tick (1 s) */
  quietMs: number;
};

/** One service's keep-alive: its idle-time tracker, its mode from the spec, and the policy derived
 *  from both (recomputed only when a new idle time was recorded or the spec changed). */
export class ServiceKeepAlive {
  private readonly tracker: IdleTracker;
  private readonly histogramSettings: KeepAliveSettings;
  private mode: KeepAliveMode = 'adaptive';
  private cached: { samples: number; policy: KeepAlivePolicy } | undefined;

  constructor(private readonly s: HistogramSettings) {
    this.histogramSettings = { ...s, fixedKeepAliveMs: 0 };
    this.tracker = new IdleTracker(new IdleTimeHistogram(this.histogramSettings), s.quietMs);
  }

  /** Applies the service's spec: its mode, and its fixed keep-alive (idle window + scale-to-zero grace). */
  configure(spec: { keepAlive?: KeepAliveMode; idleWindowMs: number; scaleToZeroGraceMs: number }): void {
    const fixedMs = spec.idleWindowMs + spec.scaleToZeroGraceMs;
    const mode = spec.keepAlive ?? 'adaptive';
    if (mode === this.mode && fixedMs === this.histogramSettings.fixedKeepAliveMs) return;
    this.mode = mode;
    this.histogramSettings.fixedKeepAliveMs = fixedMs; // the histogram reads it when asked for a policy
    this.cached = undefined;
  }

  /** A request at `now`; true when the histogram changed (worth saving). */
  request(now: number): boolean {
    return this.tracker.request(now);
  }

  /** The histogram as JSON, for the store; the last request time is not kept (a restart's downtime
   *  is no idle time of the service). */
  save(): string {
    return JSON.stringify(this.tracker.histogram.save());
  }

  /** Takes over a saved histogram; a malformed one or one of another bin width/range is dropped. */
  load(saved: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(saved);
    } catch {
      return;
    }
    if (this.tracker.histogram.restore(parsed)) this.cached = undefined;
  }

  policy(): KeepAlivePolicy {
    const h = this.tracker.histogram;
    if (this.mode === 'fixed') return { kind: 'fixed', keepAliveMs: this.histogramSettings.fixedKeepAliveMs, reason: 'scaling.keepAlive is fixed' };
    if (this.cached?.samples !== h.samples) this.cached = { samples: h.samples, policy: h.policy() };
    return this.cached.policy;
  }

  decide(now: number): KeepAliveDecision {
    return decideKeepAlive(this.policy(), this.tracker.lastRequest, now, this.s.quietMs);
  }
}
