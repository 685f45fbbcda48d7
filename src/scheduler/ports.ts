// scheduler/ports: what the scheduler needs, declared by the scheduler; daemon/ plugs in the
// implementations (images + runc runtime for instances, the gateway for routing, the store).
import type { RevisionRecord, ScalingSpec, ServiceRecord } from '../core/service.ts';

export interface InstanceAddress {
  host: string;
  port: number;
}

export interface RunningInstance {
  id: string;
  revision: string;
  address: InstanceAddress;
  /** created = pre-created, waiting for start; paused = frozen; missing = a leftover without a process */
  status: 'created' | 'running' | 'paused' | 'stopped' | 'missing';
}

/** Creates, starts, freezes and stops instances of revisions (images + runtime + network behind it). */
export interface InstancePort {
  /** Everything that does not depend on a request: image, rootfs, network, the process up to its
   *  first instruction. May run long before start(). */
  create(revision: RevisionRecord, instanceId: string): Promise<void>;
  /** Starts a created instance; resolves when the process runs (not yet when it is ready). */
  start(instanceId: string): Promise<InstanceAddress>;
  /** Freezes every process of a running instance (cgroup freezer); its memory stays allocated. */
  pause(instanceId: string): Promise<void>;
  resume(instanceId: string): Promise<void>;
  /** Stop signal, grace, SIGKILL, then remove everything the instance owns. Idempotent. */
  stop(instanceId: string, graceMs: number): Promise<void>;
  /** Instances that exist on this machine, for re-adoption after a daemon restart. */
  list(): Promise<RunningInstance[]>;
  /** Resolves when the instance's process has stopped for any reason (a crashed instance is replaced). */
  exited(instanceId: string): Promise<void>;
  /** Cumulative CPU time and current memory (usage, and the working set: usage minus inactive file
   *  cache), for CPU- and memory-based scaling and the frozen-memory budget; undefined when gone. */
  stats(instanceId: string): Promise<{ cpuNanos: number; memoryBytes: number; workingSetBytes: number } | undefined>;
}

export type ProbeOutcome = 'ready' | 'not-ready';

/** Reads one gauge from an app's Prometheus text endpoint (custom-metric scaling). */
export interface MetricScrapePort {
  scrape(address: InstanceAddress, path: string, metric: string): Promise<number | undefined>;
}

/** Readiness and liveness checks: TCP connect, or HTTP GET with a 2xx/3xx answer. */
export interface ProbePort {
  check(address: InstanceAddress, path: string | undefined, timeoutMs: number): Promise<ProbeOutcome>;
}

/** The data plane, as the scheduler drives it. */
export interface RoutingPort {
  setRevision(revision: RevisionRecord): void;
  removeRevision(revision: string): void;
  setEndpoints(revision: string, endpoints: Array<{ id: string; host: string; port: number }>): void;
  setRoutes(services: ServiceRecord[]): void;
  /** per-revision concurrency since the last call */
  sample(): Map<string, { concurrency: number; arrivals: number }>;
  /** whether an instance has no request in flight (drain waits for this) */
  idle(revision: string, instanceId: string): boolean;
  /** the activator's capacity request could not be met; let it ask again */
  capacityFailed(revision: string): void;
}

export type RecordedState = 'pre-created' | 'starting' | 'ready' | 'draining' | 'frozen';

/** Desired state and the record of what runs. */
export interface DesiredStatePort {
  services(): ServiceRecord[];
  revision(name: string): RevisionRecord | undefined;
  recordInstance(id: string, revision: string, service: string, state: RecordedState, address: InstanceAddress | undefined): void;
  forgetInstance(id: string): void;
  knownInstances(): Array<{ id: string; revision: string; service: string; state: string }>;
  event(service: string, revision: string | null, kind: string, message: string): void;
  /** saved keep-alive states (KeepAlive.save()) by service; deleting a service deletes its state */
  keepAlives(): Array<{ service: string; state: string }>;
  saveKeepAlive(service: string, state: string): void;
}

/** A revision's autoscaler, as the scheduler uses it (the daemon plugs in autoscaler/KpaScaler). */
export interface Scaler {
  record(now: number, metricTotal: number, requests: number): void;
  poke(now: number): void;
  decide(now: number, readyInstances: number): { valid: false; reason: string } | { valid: true; desired: number; reason: string };
}

export type ScalerFactory = (revision: RevisionRecord) => Scaler;

/** How long a service stays warm after its last request (fixed, or learned from its idle times). */
export type KeepAlivePolicy =
  | { kind: 'fixed'; keepAliveMs: number; reason: string }
  | { kind: 'histogram'; preWarmMs: number; keepAliveMs: number; reason: string };

/** What the policy says about a service's idle revisions now: leave it to the autoscaler (a burst is
 *  going on, or the policy is fixed), keep at least one instance warm, or go to zero (and be warmed
 *  again at `prewarmAtMs`). */
export type KeepAliveDecision =
  | { kind: 'autoscaler' }
  | { kind: 'keep'; untilMs: number; reason: string }
  | { kind: 'zero'; prewarmAtMs?: number; reason: string };

/** One service's keep-alive policy, fed with the ticks that saw requests (the daemon plugs in
 *  autoscaler/ServiceKeepAlive). */
export interface KeepAlive {
  configure(spec: ScalingSpec): void;
  /** true when the request changed what was learned (then it is saved) */
  request(now: number): boolean;
  policy(): KeepAlivePolicy;
  decide(now: number): KeepAliveDecision;
  /** what was learned, opaque, for the store; load() takes it back after a daemon restart */
  save(): string;
  load(saved: string): void;
}

export type KeepAliveFactory = () => KeepAlive;
