// scheduler/ports: what the scheduler needs, declared by the scheduler; daemon/ plugs in the
// implementations (the instance driver, the gateway for routing, the store, the autoscaler).
import type { InstanceAddress, InstanceDriver } from '../core/instance.ts';
import type { InstanceRecord, RecordedState, RevisionRecord, ScaleBounds, ScalingSpec, ServiceRecord } from '../core/service.ts';
import type { QuotaLedger } from '../core/quota.ts';

export type { InstanceAddress } from '../core/instance.ts';

/** The instance driver, as the scheduler drives it (core/instance.ts has the whole port). */
export type InstancePort = Pick<InstanceDriver, 'create' | 'start' | 'pause' | 'resume' | 'stop' | 'delete' | 'list' | 'watch' | 'stats' | 'logs' | 'listening'>;

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
  /** the revision's limits (concurrency, queue, timeout) */
  setRevision(revision: RevisionRecord): void;
  removeRevision(revision: string): void;
  setEndpoints(revision: string, endpoints: Array<{ id: string; host: string; port: number }>): void;
  setRoutes(services: ServiceRecord[]): void;
  /** per-revision concurrency since the last call */
  sample(): Map<string, { concurrency: number; arrivals: number }>;
  /** requests in flight and open tunnels on an instance now (idle-freeze.ts); absent: the revision's
   *  sample decides for all its instances */
  activeOf?(revision: string, instanceId: string): number;
  /** resolves once an unpublished instance has no request in flight (drain and freeze wait for this) */
  whenIdle(revision: string, instanceId: string): Promise<void>;
  /** the activator's capacity request could not be met; let it ask again */
  capacityFailed(revision: string): void;
  /** the revision cannot start for `retryInMs` (crash-loop back-off; `quota`: its project is at its
   *  quota): answer its held and new requests with `cause` now instead of holding them */
  revisionFailed(revision: string, cause: string, retryInMs: number, kind?: 'quota' | 'budget'): void;
}

/** The projects' quotas (core/quota.ts QuotaLedger, shared with the job runner): an instance is
 *  reserved — checked against its project's quota and counted, in one step — before it starts, and
 *  released once it is gone. */
export type QuotaPort = Pick<QuotaLedger, 'reserve' | 'hold' | 'release'> & Partial<Pick<QuotaLedger, 'stopped'>>;

/** Desired state (read when the API changed it) and the record of what runs (written behind). */
export interface DesiredStatePort {
  services(): Promise<ServiceRecord[]>;
  revision(name: string): Promise<RevisionRecord | undefined>;
  recordInstance(id: string, revision: string, service: string, state: RecordedState, address: InstanceAddress | undefined): Promise<void>;
  forgetInstance(id: string): Promise<void>;
  knownInstances(): Promise<InstanceRecord[]>;
  event(service: string, revision: string | null, kind: string, message: string): Promise<void>;
  /** saved keep-alive states (KeepAlive.save()) by service; deleting a service deletes its state */
  keepAlives(): Promise<Array<{ service: string; state: string }>>;
  saveKeepAlive(service: string, state: string): Promise<void>;
}

/** Work waiting for each service outside the gateway — messages in its triggers' brokers, queued async
 *  invocations — as the event side last measured it: an external autoscaler metric (KEDA-style), so a
 *  service at min 0 scales out on a queue's backlog and back to zero once it is empty. Synchronous:
 *  the tick reads what the event side polled. */
export interface BacklogPort {
  /** events waiting per service (absent = none) */
  backlog(): ReadonlyMap<string, number>;
}

/** A revision's autoscaler, as the scheduler uses it (the daemon plugs in autoscaler/KpaScaler). */
export interface Scaler {
  record(now: number, metricTotal: number, requests: number): void;
  poke(now: number): void;
  decide(now: number, readyInstances: number): { valid: false; reason: string } | { valid: true; desired: number; reason: string; /** in panic mode (KPA) */ panic?: boolean };
  /** the service's bounds changed: decide within the new ones, keeping what was observed */
  update(scale: ScaleBounds): void;
}

export type ScalerFactory = (revision: RevisionRecord, scale: ScaleBounds) => Scaler;

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
