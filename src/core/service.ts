// core/service: the shapes of services and revisions shared by api, store and scheduler.
// A ServiceSpec is what a user deploys; every deploy freezes it into an immutable Revision whose
// image is pinned to a digest. The field names follow Knative Serving where a concept matches, so a
// Knative Service maps onto this one to one.

export type ScalingMetric = 'concurrency' | 'rps' | 'cpu' | 'memory' | 'custom';

export interface ProbeSpec {
  /** HTTP GET path; absent → TCP connect to the port */
  path?: string;
  periodMs: number;
  timeoutMs: number;
  failureThreshold: number;
}

export interface ScalingSpec {
  minScale: number;
  maxScale: number;
  /** hard per-instance concurrency (Knative containerConcurrency); 0 = unlimited */
  containerConcurrency: number;
  /** soft target per instance for the chosen metric (Knative autoscaling.knative.dev/target) */
  target: number;
  /** fraction of target the autoscaler aims at (autoscaling.knative.dev/target-utilization-percentage / 100) */
  targetUtilization: number;
  metric: ScalingMetric;
  /** for metric=custom: the app's Prometheus text endpoint path and the metric name */
  customMetric?: { path: string; name: string };
  stableWindowMs: number;
  panicWindowMs: number;
  panicThreshold: number;
  idleWindowMs: number;
  scaleToZeroGraceMs: number;
  /** keep idle instances frozen instead of deleting them (cold-start feature) */
  freezeIdle: boolean;
  /** how long an idle service stays warm: 'adaptive' learns it from the service's idle times (falls
   *  back to idleWindowMs + scaleToZeroGraceMs with little data), 'fixed' always uses that; absent
   *  (revisions recorded before the field existed) = adaptive */
  keepAlive?: 'adaptive' | 'fixed';
}

export interface ServiceSpec {
  name: string;
  image: string;
  /** the port the app listens on inside the container */
  port: number;
  command?: string[];
  args?: string[];
  env: Record<string, string>;
  memoryBytes: number;
  cpus: number;
  pids: number;
  readOnlyRoot: boolean;
  timeoutMs: number;
  queueLimit: number;
  scaling: ScalingSpec;
  readiness: ProbeSpec;
  liveness?: ProbeSpec;
  /** grace between the stop signal and SIGKILL when draining an instance */
  drainGraceMs: number;
}

export interface TrafficTarget {
  revision: string;
  percent: number;
}

export interface RevisionRecord {
  name: string;
  service: string;
  generation: number;
  imageRef: string;
  /** repository@digest the image was pinned to at deploy time */
  imageDigest: string;
  spec: ServiceSpec;
  createdAt: number;
}

export interface ServiceRecord {
  name: string;
  tenant: string;
  spec: ServiceSpec;
  traffic: TrafficTarget[];
  latestRevision: string;
  /** the revision that took most traffic before the last deploy or traffic change: it keeps serving
   *  the share of any new revision until that one has a ready instance */
  previousServing: string | null;
  createdAt: number;
  updatedAt: number;
  deleted: boolean;
}
