// autoscaler/kpa: a Knative-KPA-class scaling decider. Pure: inputs are samples, settings and `now`;
// output is a Decision value. One algorithm serves every metric (request concurrency, CPU, memory,
// a custom app metric): the metric is a per-revision total and the target is per instance.
//
//   stable average (60 s) / target → desired; panic average (6 s) / target → desired in panic.
//   Panic starts when the panic desire reaches panicThreshold × ready instances, and lasts at least
//   one stable window since the last time it was over; in panic the scale never goes down.
//   Scale-up per decision is bounded by maxScaleUpRate × ready, scale-down by ready / maxScaleDownRate.
//   Scale to zero needs zero requests for the whole idle window, then the grace period.
import { MetricWindow } from './window.ts';
import type { ScaleBounds, ScalingSpec } from '../core/service.ts';

export interface ScalingSettings {
  /** per-instance target of the metric (e.g. concurrency 10 × 0.7 utilisation = 7) */
  target: number;
  minScale: number;
  maxScale: number;
  stableWindowMs: number;
  panicWindowMs: number;
  /** panic when desired-by-panic-window ≥ this × ready instances */
  panicThreshold: number;
  maxScaleUpRate: number;
  maxScaleDownRate: number;
  /** no request for this long (and the metric at zero) makes the revision a scale-to-zero candidate */
  idleWindowMs: number;
  /** extra time after the idle window before the last instance goes away */
  scaleToZeroGraceMs: number;
}

export const DEFAULT_SCALING: ScalingSettings = {
  target: 70,
  minScale: 0,
  maxScale: 10,
  stableWindowMs: 60_000,
  panicWindowMs: 6_000,
  panicThreshold: 2,
  maxScaleUpRate: 1000,
  maxScaleDownRate: 2,
  idleWindowMs: 60_000,
  scaleToZeroGraceMs: 30_000,
};

export type Decision =
  | { valid: false; reason: string }
  | { valid: true; desired: number; panic: boolean; reason: string; stable: number; panicValue: number };

export class KpaScaler {
  private readonly metric: MetricWindow;
  private readonly requests: MetricWindow;
  private panicSince: number | undefined;
  private maxPanicDesired = 0;
  private lastRequestAt: number | undefined;

  constructor(private settings: ScalingSettings) {
    this.metric = new MetricWindow(retentionOf(settings));
    this.requests = new MetricWindow(retentionOf(settings));
  }

  /** Takes new settings — a service's bounds changed by `skiff scale` — keeping the windows, the panic
   *  state and the last request: what was observed stays true (Knative separates the decider's spec
   *  from its state the same way: Update(spec) keeps the windows). */
  update(settings: ScalingSettings): void {
    this.settings = settings;
    this.metric.retain(retentionOf(settings));
    this.requests.retain(retentionOf(settings));
  }

  /** Records one sample: the metric total over all instances, and the requests in flight, queued or
   *  finished since the previous sample (so a short request between samples still counts as traffic). */
  record(now: number, metricTotal: number, requestsInFlight: number): void {
    this.metric.record(now, metricTotal);
    this.requests.record(now, requestsInFlight);
    if (requestsInFlight > 0) this.lastRequestAt = now;
  }

  /** Marks a request arrival (e.g. a cold request held by the activator) so idle timing restarts. */
  poke(now: number): void {
    this.lastRequestAt = now;
  }

  decide(now: number, readyInstances: number): Decision {
    const s = this.settings;
    const stable = this.metric.average(now, s.stableWindowMs);
    const panicValue = this.metric.average(now, s.panicWindowMs) ?? 0;
    if (stable === undefined) {
      if (readyInstances === 0 && s.minScale === 0) return { valid: true, desired: 0, panic: false, reason: 'no traffic observed', stable: 0, panicValue: 0 };
      return { valid: false, reason: 'no metric samples in the stable window yet' };
    }
    const ready = Math.max(1, readyInstances);
    const maxUp = Math.ceil(s.maxScaleUpRate * ready);
    const maxDown = Math.floor(ready / s.maxScaleDownRate);
    const clampRate = (n: number) => Math.min(maxUp, Math.max(maxDown, n));
    const desiredStable = clampRate(Math.ceil(stable / s.target));
    const desiredPanic = clampRate(Math.ceil(panicValue / s.target));

    const overThreshold = panicValue / s.target >= s.panicThreshold * ready;
    if (overThreshold) {
      if (this.panicSince === undefined) this.maxPanicDesired = readyInstances;
      this.panicSince = now;
    } else if (this.panicSince !== undefined && now - this.panicSince >= s.stableWindowMs) {
      this.panicSince = undefined;
      this.maxPanicDesired = 0;
    }
    const panic = this.panicSince !== undefined;
    let reason: string;
    let desired: number;
    if (panic) {
      // In panic the revision never scales down: a burst must not be undone by its own dilution.
      this.maxPanicDesired = Math.max(this.maxPanicDesired, desiredPanic, desiredStable);
      desired = this.maxPanicDesired;
      reason = `panic: ${panicValue.toFixed(1)} over ${s.panicWindowMs / 1000}s against target ${s.target}/instance`;
    } else {
      desired = desiredStable;
      reason = `stable: ${stable.toFixed(1)} over ${s.stableWindowMs / 1000}s against target ${s.target}/instance`;
    }

    // Scale to zero follows requests, not the metric: an idle app still burns a little CPU.
    const idleFor = this.lastRequestAt === undefined ? Infinity : now - this.lastRequestAt;
    const toZeroAfter = s.idleWindowMs + s.scaleToZeroGraceMs;
    if (idleFor >= toZeroAfter) {
      desired = 0;
      reason = idleFor === Infinity ? 'no requests yet' : `idle for ${Math.round(idleFor / 1000)}s: scale to zero`;
    } else if (desired === 0) {
      // A recent request keeps one instance — also one still starting for a request held from zero,
      // when the metric (CPU, memory, custom) cannot see a request yet.
      desired = 1;
      reason = `idle for ${Math.round(idleFor / 1000)}s; scale to zero after ${toZeroAfter / 1000}s`;
    }
    desired = Math.min(s.maxScale, Math.max(s.minScale, desired));
    return { valid: true, desired, panic, reason, stable, panicValue };
  }
}

function retentionOf(s: ScalingSettings): number {
  return Math.max(s.stableWindowMs, s.idleWindowMs) + 1000;
}

/** KPA settings from a revision's scaling spec and its service's bounds. Request metrics (concurrency, rps) aim at target ×
 *  utilisation per instance, leaving headroom for bursts (Knative's target-utilization-percentage);
 *  a cpu or memory target already is a utilisation (% of the instance's limit) and a custom target is
 *  in the app's own unit, so neither is scaled again. */
export function scalingSettingsOf(s: ScalingSpec, scale: ScaleBounds): ScalingSettings {
  return {
    target: s.metric === 'concurrency' || s.metric === 'rps' ? s.target * s.targetUtilization : s.target,
    minScale: scale.min,
    maxScale: scale.max,
    stableWindowMs: s.stableWindowMs,
    panicWindowMs: s.panicWindowMs,
    panicThreshold: s.panicThreshold,
    maxScaleUpRate: DEFAULT_SCALING.maxScaleUpRate,
    maxScaleDownRate: DEFAULT_SCALING.maxScaleDownRate,
    idleWindowMs: s.idleWindowMs,
    scaleToZeroGraceMs: s.scaleToZeroGraceMs,
  };
}
