// scheduler/revision-state: what the scheduler knows about one revision's instances. Plain data plus
// small queries; every effect lives in scheduler.ts.
import type { RevisionRecord } from '../core/service.ts';
import { KpaScaler } from '../autoscaler/kpa.ts';
import type { InstanceAddress } from './ports.ts';

export type Phase = 'starting' | 'ready' | 'draining';

export interface TrackedInstance {
  id: string;
  phase: Phase;
  address?: InstanceAddress;
  startedAt: number;
  livenessFailures: number;
  nextLivenessAt: number;
}

export class RevisionState {
  readonly instances = new Map<string, TrackedInstance>();
  readonly scaler: KpaScaler;
  lastDesired: number | undefined;
  /** CPU time seen at the previous tick per instance, for CPU-rate metrics */
  readonly cpuSeen = new Map<string, { at: number; nanos: number }>();

  constructor(readonly record: RevisionRecord) {
    const s = record.spec.scaling;
    this.scaler = new KpaScaler({
      target: s.target * s.targetUtilization,
      minScale: s.minScale,
      maxScale: s.maxScale,
      stableWindowMs: s.stableWindowMs,
      panicWindowMs: s.panicWindowMs,
      panicThreshold: s.panicThreshold,
      maxScaleUpRate: 1000,
      maxScaleDownRate: 2,
      idleWindowMs: s.idleWindowMs,
      scaleToZeroGraceMs: s.scaleToZeroGraceMs,
    });
  }

  get name(): string {
    return this.record.name;
  }

  count(...phases: Phase[]): number {
    let n = 0;
    for (const i of this.instances.values()) if (phases.includes(i.phase)) n++;
    return n;
  }

  ready(): TrackedInstance[] {
    return [...this.instances.values()].filter((i) => i.phase === 'ready');
  }

  /** Instances to remove when scaling down: still-starting ones first, then the newest ready ones. */
  victims(n: number): TrackedInstance[] {
    const live = [...this.instances.values()].filter((i) => i.phase !== 'draining');
    live.sort((a, b) => (a.phase === b.phase ? b.startedAt - a.startedAt : a.phase === 'starting' ? -1 : 1));
    return live.slice(0, n);
  }
}
