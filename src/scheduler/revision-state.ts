// scheduler/revision-state: what the scheduler knows about one revision's instances. Plain data plus
// small queries; every effect lives in scheduler.ts.
import type { RevisionRecord } from '../core/service.ts';
import type { InstanceAddress, Scaler } from './ports.ts';

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
  lastDesired: number | undefined;
  /** CPU time seen at the previous tick per instance, for CPU-rate metrics */
  readonly cpuSeen = new Map<string, { at: number; nanos: number }>();

  constructor(
    public record: RevisionRecord,
    public scaler: Scaler,
  ) {}

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
