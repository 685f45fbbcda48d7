// scheduler/lifecycle: what the scheduler's helper modules (pool, freezer, launcher) may ask of the
// scheduler — its ports, its write-behind queue and the few instance steps they share with it — plus
// the node-wide cold-start bounds they enforce. The scheduler builds one InstanceHost for them, so its
// own methods stay private and the helpers never see its tick or its autoscalers.
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { ColdStartStats } from './cold-start-stats.ts';
import type { InstancePort, ProbePort, RoutingPort } from './ports.ts';
import type { RevisionState, TrackedInstance } from './revision-state.ts';
import type { WriteBehind } from './write-behind.ts';

export interface ColdStartOptions {
  /** pre-created instances kept per revision with traffic and minScale 0 */
  poolPerRevision: number;
  /** pre-created instances on this node, all revisions together */
  poolMax: number;
  /** memory frozen instances may hold on this node; 0 turns freezing off */
  frozenMemoryBytes: number;
  /** a ready instance of a service without cpuAlways with no request in flight this long is frozen
   *  until its next request (idle-freeze.ts); 0 or absent: never */
  idleFreezeMs?: number;
}

export const NO_COLD_START_OPTIMISATIONS: ColdStartOptions = { poolPerRevision: 0, poolMax: 0, frozenMemoryBytes: 0 };

export interface InstanceHost {
  readonly clock: Clock;
  readonly log: Logger;
  readonly instances: InstancePort;
  readonly routing: RoutingPort;
  readonly coldStarts: ColdStartStats | undefined;
  readonly probes: ProbePort;
  /** how long a new instance may take to become ready before it is replaced */
  readonly readinessDeadlineMs: number;
  readonly writes: WriteBehind;
  readonly options: ColdStartOptions;
  /** the scheduler is stopping: start nothing new */
  stopped(): boolean;
  revisions(): Iterable<RevisionState>;
  /** a new tracked (and recorded) instance of the revision, not created yet */
  newInstance(state: RevisionState, phase: 'starting' | 'pre-created'): TrackedInstance;
  /** replaces the instance when its process exits unexpectedly */
  watchExit(state: RevisionState, inst: TrackedInstance): void;
  /** forgets the instance at once and stops it (SIGKILL after graceMs) */
  remove(state: RevisionState, inst: TrackedInstance, graceMs?: number): Promise<void>;
  /** unpublishes the instance, lets its requests finish, then stops it */
  drain(state: RevisionState, inst: TrackedInstance, why: string): Promise<void>;
  /** resolves once the gateway has no request in flight on the instance, or at `until` (clock ms) */
  waitIdle(state: RevisionState, inst: TrackedInstance, until: number): Promise<void>;
  /** pushes the revision's ready instances to the gateway */
  publish(state: RevisionState): void;
  /** one more serving instance, from wherever is fastest (see scheduler.startInstance) */
  startInstance(state: RevisionState, why: string, askedAt?: number): void;
  /** a start failed or an instance crashed: back off before the next start, and say why */
  failed(state: RevisionState, cause: string): void;
  /** keeps a background step alive until the scheduler stops */
  track(p: Promise<unknown>): void;
}
