// scheduler/revision-state: what the scheduler knows about one revision's instances. Plain data plus
// small queries; every effect lives in scheduler.ts (and its helpers pool.ts, freezer.ts).
import type { InstanceSpec } from '../core/instance.ts';
import type { RevisionRecord, ScaleBounds } from '../core/service.ts';
import type { InstanceAddress, Scaler } from './ports.ts';

/** pre-created: created ahead of demand, not started (the pool); frozen: paused after going idle.
 *  Neither counts for the autoscaler or takes requests. */
export type Phase = 'pre-created' | 'starting' | 'ready' | 'draining' | 'frozen';

export interface TrackedInstance {
  id: string;
  phase: Phase;
  address?: InstanceAddress;
  startedAt: number;
  /** when it last became ready (clock ms): one ready long enough ends a crash loop */
  readyAt?: number;
  livenessFailures: number;
  nextLivenessAt: number;
  /** pre-created: settles true once created, false if creating failed */
  created?: Promise<boolean>;
  /** frozen: settles once the pause has happened (or failed) */
  paused?: Promise<boolean>;
  /** frozen: memory in use when frozen, and when (oldest is evicted first) */
  frozenBytes?: number;
  frozenAt?: number;
  /** frozen between requests (idle-freeze.ts): still counted as serving, thawed by the next request,
   *  outside the frozen-memory budget */
  idleFrozen?: boolean;
  /** clock ms a request was last in flight on it (or it became ready): when it is idle long enough */
  lastBusyAt?: number;
}

/** consecutive failures after which a revision's requests are answered with the cause, not held */
export const FAILURES_BEFORE_REFUSING = 2;

export class RevisionState {
  readonly instances = new Map<string, TrackedInstance>();
  lastDesired: number | undefined;
  /** the autoscaler's last decision was in panic mode (metrics) */
  panic = false;
  /** failed starts and crashes since the daemon started (metrics; `failures` is the current run of them) */
  failuresTotal = 0;
  /** no pre-creating before this time (clock ms): the last pre-create failed */
  poolPausedUntil = 0;
  /** `skiff prewarm`: at least this many serving instances until untilMs (clock ms) */
  prewarm: { instances: number; untilMs: number } | undefined;
  /** when a request last arrived or was held (clock ms): who deserves a pre-created instance */
  lastRequestAt: number | undefined;
  /** an instance of it has been ready (since the daemon started): a deploy's new revision is warmed
   *  up to one instance until it is, so a broken app shows at deploy time, not at the first request */
  proven = false;
  /** consecutive failed starts and crashes; reset once an instance has stayed ready a while */
  failures = 0;
  /** no start before this time (clock ms): the crash-loop back-off */
  backoffUntil = 0;
  /** why the last start failed or the last instance crashed, and when (clock ms) */
  lastFailure: { cause: string; at: number } | undefined;
  /** In a crash loop past a fluke (FAILURES_BEFORE_REFUSING in a row): requests get the cause
   *  instead of being held, and its share of traffic goes back to the revision that served before. */
  refusing(): boolean {
    return this.failures >= FAILURES_BEFORE_REFUSING;
  }
  /** CPU time seen at the previous tick per instance, for CPU-rate metrics */
  readonly cpuSeen = new Map<string, { at: number; nanos: number }>();

  constructor(
    readonly record: RevisionRecord,
    /** the service's bounds, as last read (they apply to every revision of the service) */
    public scale: ScaleBounds,
    readonly scaler: Scaler,
    /** the service's tenant: whose services its instances reach by name */
    readonly tenant?: string,
  ) {}

  get name(): string {
    return this.record.name;
  }

  /** What each instance of the revision runs. */
  instanceSpec(): InstanceSpec {
    const s = this.record.spec;
    return {
      image: this.record.image,
      service: this.record.service,
      revision: this.record.name,
      port: s.port,
      ...(s.command ? { command: s.command } : {}),
      ...(s.args ? { args: s.args } : {}),
      env: s.env,
      readOnlyRoot: s.readOnlyRoot,
      limits: { memoryBytes: s.memoryBytes, cpus: s.cpus, pids: s.pids, ...(s.diskBytes !== undefined ? { diskBytes: s.diskBytes } : {}) },
      ...(s.capabilities?.length ? { capabilities: s.capabilities } : {}),
      ...(s.volumes?.length ? { mounts: s.volumes.map((v) => ({ volume: v.volume, target: v.path, readOnly: v.readOnly })) } : {}),
      ...(s.secrets ? { secretRefs: s.secrets } : {}),
      ...(s.devices?.length ? { devices: s.devices } : {}),
      ...(s.gpus ? { gpus: s.gpus } : {}),
      ...(s.placement ? { placement: s.placement } : {}),
      ...(this.tenant !== undefined ? { namespace: this.tenant } : {}),
    };
  }

  count(...phases: Phase[]): number {
    let n = 0;
    for (const i of this.instances.values()) if (phases.includes(i.phase)) n++;
    return n;
  }

  ready(): TrackedInstance[] {
    return this.inPhase('ready');
  }

  /** Instances frozen between requests (cpuAlways off): they count as serving. */
  idleFrozen(): TrackedInstance[] {
    return this.inPhase('frozen').filter((i) => i.idleFrozen);
  }

  inPhase(phase: Phase): TrackedInstance[] {
    return [...this.instances.values()].filter((i) => i.phase === phase);
  }

  /** Instances to remove when scaling down: still-starting ones first, then the newest ready ones. */
  victims(n: number): TrackedInstance[] {
    const live = [...this.instances.values()].filter((i) => i.phase === 'starting' || i.phase === 'ready');
    live.sort((a, b) => (a.phase === b.phase ? b.startedAt - a.startedAt : a.phase === 'starting' ? -1 : 1));
    return live.slice(0, n);
  }
}
