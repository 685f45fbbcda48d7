// scheduler/desired: how many serving instances a revision with traffic should have this tick, from
// the layers that may each change the autoscaler's answer, in this order:
//   autoscaler (KPA) → a rollout warm-up keeps ≥ 1 → the service's keep-alive policy may take an idle
//   revision to zero or pre-warm it (never with minScale > 0 or during a warm-up) → a pre-warm request
//   (`skiff prewarm`) keeps ≥ its instances until its deadline → a backlog of events waiting for the
//   service (broker messages, queued invocations) asks for ⌈waiting / per instance⌉ (KEDA's queue-length
//   rule) → maxScale bounds everything.
// Pure: the scheduler passes the decisions in and applies the result.
import type { KeepAliveDecision, Scaler } from './ports.ts';

export interface DesiredInput {
  kpa: ReturnType<Scaler['decide']>;
  warmUp: boolean;
  /** undefined when the policy does not apply (minScale > 0, warm-up) */
  keepAlive: KeepAliveDecision | undefined;
  /** the previous tick's answer was zero (a keep window starting now is a pre-warm) */
  wasAtZero: boolean;
  prewarm: { instances: number; untilMs: number } | undefined;
  /** events waiting for this revision's share of the service, and how many one instance takes */
  backlog?: { waiting: number; perInstance: number };
  maxScale: number;
  now: number;
}

/** The desired count, the reason (for the `scale` event) and why new instances start; undefined when
 *  nothing can be decided yet (the autoscaler has no samples and no pre-warm applies). */
export function desiredScale(i: DesiredInput): { desired: number; reason: string; why: string } | undefined {
  const floor = i.prewarm && i.now < i.prewarm.untilMs ? Math.min(i.prewarm.instances, i.maxScale) : 0;
  const queued = i.backlog && i.backlog.waiting > 0 ? Math.min(Math.ceil(i.backlog.waiting / Math.max(1, i.backlog.perInstance)), i.maxScale) : 0;
  const backlogReason = () => `backlog: ${i.backlog!.waiting} events waiting, ${i.backlog!.perInstance} per instance`;
  if (!i.kpa.valid) {
    if (queued > floor) return { desired: queued, reason: backlogReason(), why: 'backlog' };
    if (floor > 0) return { desired: floor, reason: `pre-warmed: ${floor} until ${new Date(i.prewarm!.untilMs).toISOString()}`, why: 'pre-warm' };
    // a warm-up needs no samples: one instance, whatever the autoscaler will say
    return i.warmUp ? { desired: Math.min(1, i.maxScale), reason: 'warm-up: one instance before traffic moves (or a deploy verifies it)', why: 'warm-up' } : undefined;
  }
  let desired = i.warmUp ? Math.max(1, i.kpa.desired) : i.kpa.desired;
  let reason = i.kpa.reason;
  let why = 'autoscaler';
  const keep = i.keepAlive;
  if (keep?.kind === 'zero') {
    desired = 0;
    reason = keep.reason;
  } else if (keep?.kind === 'keep' && (desired === 0 || i.wasAtZero)) {
    desired = Math.max(1, desired);
    reason = keep.reason;
    why = 'keep-alive pre-warm';
  }
  if (floor > desired) {
    desired = floor;
    reason = `pre-warmed: ${floor} until ${new Date(i.prewarm!.untilMs).toISOString()} (${reason})`;
    why = 'pre-warm';
  }
  if (queued > desired) {
    desired = queued;
    reason = `${backlogReason()} (${reason})`;
    why = 'backlog';
  }
  return { desired: Math.min(desired, i.maxScale), reason, why };
}
