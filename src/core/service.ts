// core/service: the records of serving shared by serving, store, scheduler and api.
// A ServiceSpec is what a user deploys; every deploy freezes it into an immutable Revision whose
// image is pinned to a digest. Scale bounds are not part of a revision: they live once, in the
// service's ScaleBounds, and apply to every revision of the service (`skiff scale` changes them
// without a new revision). Field names follow Knative Serving where a concept matches, so a Knative
// Service maps onto this one to one (docs/serving.md has the table).

import type { OptionalCapability } from './capabilities.ts';
import type { DeviceRequest } from './devices.ts';
import type { Placement } from './placement.ts';
import type { DeployDocument, ScalingMetric } from './documents.ts';
import type { PinnedSecrets } from './secrets.ts';
import type { VolumeMountSpec } from './volumes.ts';

export type { ScalingMetric };

export interface ProbeSpec {
  /** HTTP GET path; absent → TCP connect to the port */
  path?: string;
  periodMs: number;
  timeoutMs: number;
  failureThreshold: number;
}

/** How many instances a service may have: Knative's min-scale / max-scale. */
export interface ScaleBounds {
  min: number;
  max: number;
}

/** How a revision scales between its service's bounds. */
export interface ScalingSpec {
  /** hard per-instance concurrency, enforced by the gateway (Knative containerConcurrency); 0 = unlimited */
  concurrency: number;
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
  /** the image reference as the user gave it (`team/app:v1`); a revision records what it resolved to */
  image: string;
  /** the port the app listens on inside the container */
  port: number;
  command?: string[];
  args?: string[];
  env: Record<string, string>;
  memoryBytes: number;
  cpus: number;
  pids: number;
  /** writable layer size; absent: the driver's default */
  diskBytes?: number;
  /** added to the default capability set */
  capabilities?: OptionalCapability[];
  readOnlyRoot: boolean;
  /** absent (revisions before the field): all */
  ingress?: 'all' | 'internal';
  /** absent (revisions before the field): http */
  protocol?: 'http' | 'tcp';
  /** the deploy document's labels (metadata: `skiff compose` finds its services by them); absent: none */
  labels?: Record<string, string>;
  /** persistent volumes mounted into every instance (core/volumes.ts); absent: none */
  volumes?: VolumeMountSpec[];
  /** host and CDI devices passed into every instance (core/devices.ts); absent: none */
  devices?: DeviceRequest[];
  /** GPUs per instance (the first N nvidia.com/gpu CDI devices); absent: none */
  gpus?: number;
  /** Swarm placement constraints and spread preferences, each list non-empty when present
   *  (core/placement.ts); absent: anywhere */
  placement?: Placement;
  /** CPU while no request is in flight: never frozen when idle; absent: false (frozen between requests) */
  cpuAlways?: boolean;
  /** how its instance time is billed (docs/metering.md); absent: request */
  billing?: 'request' | 'instance';
  timeoutMs: number;
  queueLimit: number;
  scaling: ScalingSpec;
  readiness: ProbeSpec;
  liveness?: ProbeSpec;
  /** grace between the stop signal and SIGKILL when draining an instance */
  drainGraceMs: number;
  /** the secrets its instances get, each pinned to the version the revision was made with (no values) */
  secrets?: PinnedSecrets;
}

export interface TrafficTarget {
  revision: string;
  percent: number;
  /** gives the revision its own address, TAG--NAME, whatever its percent (Knative's traffic tags) */
  tag?: string;
}

/** An image pinned to its content: a repository of Skiff's registry and a manifest digest in it. */
export interface PinnedImage {
  repository: string;
  /** `sha256:…` */
  digest: string;
}

export interface RevisionRecord {
  name: string;
  service: string;
  generation: number;
  /** what spec.image resolved to at deploy time */
  image: PinnedImage;
  spec: ServiceSpec;
  /** the deploy document as the user stated it (no defaults filled in), which updates carry over;
   *  absent for revisions deployed before Skiff kept it */
  document?: DeployDocument;
  createdAt: number;
}

export interface ServiceRecord {
  name: string;
  tenant: string;
  /** the spec of the latest deploy */
  spec: ServiceSpec;
  /** the one record of the service's bounds: set by a deploy, changed by `skiff scale` */
  scale: ScaleBounds;
  traffic: TrafficTarget[];
  latestRevision: string;
  /** the revision that took most traffic before the last deploy or traffic change: it keeps serving
   *  the share of any new revision until that one has a ready instance */
  previousServing: string | null;
  createdAt: number;
  updatedAt: number;
}

/** What the scheduler records of an instance it runs (re-adoption after a daemon restart). */
export type RecordedState = 'pre-created' | 'starting' | 'ready' | 'draining' | 'frozen';

export interface InstanceRecord {
  id: string;
  revision: string;
  service: string;
  state: RecordedState;
  /** `host:port` once started */
  address: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ServiceEvent {
  id: number;
  service: string;
  revision: string | null;
  at: number;
  kind: string;
  message: string;
}
