// scheduler/ports: what the scheduler needs, declared by the scheduler; daemon/ plugs in the
// implementations (images + runc runtime for instances, the gateway for routing, the store).
import type { RevisionRecord, ServiceRecord } from '../core/service.ts';

export interface InstanceAddress {
  host: string;
  port: number;
}

export interface RunningInstance {
  id: string;
  revision: string;
  address: InstanceAddress;
  running: boolean;
}

/** Starts and stops instances of revisions (images + runtime + network behind it). */
export interface InstancePort {
  /** Creates and starts an instance; resolves when the process runs (not yet when it is ready). */
  start(revision: RevisionRecord, instanceId: string): Promise<InstanceAddress>;
  /** Stop signal, grace, SIGKILL, then remove everything the instance owns. Idempotent. */
  stop(instanceId: string, graceMs: number): Promise<void>;
  /** Instances that exist on this machine, for re-adoption after a daemon restart. */
  list(): Promise<RunningInstance[]>;
  /** Resolves when the instance's process has stopped for any reason (a crashed instance is replaced). */
  exited(instanceId: string): Promise<void>;
  /** Cumulative CPU time and current memory, for CPU- and memory-based scaling; undefined when gone. */
  stats(instanceId: string): Promise<{ cpuNanos: number; memoryBytes: number } | undefined>;
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

/** Desired state and the record of what runs. */
export interface DesiredStatePort {
  services(): ServiceRecord[];
  revision(name: string): RevisionRecord | undefined;
  recordInstance(id: string, revision: string, service: string, state: 'starting' | 'ready' | 'draining', address: InstanceAddress | undefined): void;
  forgetInstance(id: string): void;
  knownInstances(): Array<{ id: string; revision: string; service: string }>;
  event(service: string, revision: string | null, kind: string, message: string): void;
}

/** A revision's autoscaler, as the scheduler uses it (the daemon plugs in autoscaler/KpaScaler). */
export interface Scaler {
  record(now: number, metricTotal: number, requests: number): void;
  poke(now: number): void;
  decide(now: number, readyInstances: number): { valid: false; reason: string } | { valid: true; desired: number; reason: string };
}

export type ScalerFactory = (revision: RevisionRecord) => Scaler;
