// core/views: what the control API answers about services and runs — shaped by serving/, sent by
// api/ (whose response schemas in api/services-schemas.ts list the same fields), read by the CLI.
import type { TrafficTarget, ServiceSpec } from './service.ts';

export interface InstanceView {
  id: string;
  /** pre-created | starting | ready | draining | frozen */
  phase: string;
  /** ip:port on the instance network, once started */
  address?: string;
  /** the cluster node it runs on (swarm driver); absent on a single machine */
  node?: string;
  /** ISO time it was started (or taken from the pool, or thawed); after a daemon restart, when it was re-adopted */
  startedAt?: string;
  /** recent CPU use in % of one core (the metering's last reading); absent when there is none */
  cpuPercent?: number;
  /** working set in bytes (the metering's last reading of its cgroup) */
  memoryBytes?: number;
}

/** What `skiff describe` shows about a service. */
export interface ServiceView {
  name: string;
  /** the project it belongs to */
  project: string;
  url: string;
  pathUrl: string;
  /** the image of the revision serving most traffic (servingRevision) */
  image: string;
  /** the latest revision's labels (deploy document `labels`); absent: none */
  labels?: Record<string, string>;
  latestRevision: string;
  /** the revision taking the largest share of traffic (the newest of equals): after a rollback, not the latest */
  servingRevision: string;
  /** the split as set; a tagged entry has its own `url` (TAG--NAME.<domain>) */
  traffic: Array<TrafficTarget & { url?: string }>;
  scaling: { min: number; max: number; concurrency: number; metric: string };
  /** the keep-alive policy in force: fixed, or learned from the service's idle times */
  keepAlive: { kind: 'fixed' | 'histogram'; keepAliveMs: number; preWarmMs?: number; reason: string };
  /** newest first; `digest` is the pinned reference `repo@sha256:…` */
  revisions: Array<{ name: string; image: string; digest: string; createdAt: string; config: RevisionConfig; status: RevisionStatus; instances: InstanceView[] }>;
  events: Array<{ at: string; revision: string | null; kind: string; message: string }>;
  createdAt: string;
  updatedAt: string;
}

/** Whether a revision's instances keep failing (a crash loop): how many times in a row, the last
 *  cause (exit code and last output, a start error, no readiness), and when the next start is due. */
export interface RevisionStatus {
  /** an instance of it has been ready since the daemon started (it may be scaled to zero again) */
  started: boolean;
  failures: number;
  lastFailure?: string;
  nextStartAt?: string;
}

/** A revision's effective configuration: what it runs with, every default filled in. */
export type RevisionConfig = Omit<ServiceSpec, 'name' | 'image'>;

/** What `skiff volume ls|describe` shows. */
export interface VolumeView {
  name: string;
  sizeBytes: number;
  shared: boolean;
  createdAt: string;
  /** services any revision of which mounts it (rm is refused while there are any) */
  usedBy: string[];
  /** what its filesystem holds now (absent when the node cannot tell) */
  usedBytes?: number;
  /** whether it is mounted on the node now */
  mounted?: boolean;
}

export interface DeployResult {
  service: ServiceView;
  revision: string;
  /** the pinned reference `repo@sha256:…` the revision runs */
  imageDigest: string;
  layers: { total: number; unpacked: number };
}

/** What `POST /services/NAME/prewarm` answers: per revision taking traffic, the instances kept warm
 *  (the request bounded by the service's max) and how many were ready when the call returned. */
export interface PrewarmResult {
  service: string;
  until: string;
  revisions: Array<{ revision: string; instances: number; ready: number }>;
}

export type RunExit = (
  | { reason: 'exited'; exitCode: number }
  | { reason: 'oom-killed'; exitCode: number; memoryLimitBytes: number }
  | { reason: 'signalled'; signal: number }
) & {
  /** set when forks were refused at the pids limit: how often, and the limit */
  pidsLimitHits?: number;
  pidsLimit?: number;
};

/** One line of the `POST /api/v1/runs` response (newline-delimited JSON): output, then one exit. */
export type RunEvent = { stream: 'stdout' | 'stderr'; data: string } | { exit: RunExit };

export interface GcResult {
  blobsDeleted: number;
  bytesFreed: number;
  orphanFilesDeleted: number;
  uploadsExpired: number;
  /** blobs used (uploaded, pulled, mounted) within this many seconds were kept whatever refers to them */
  graceSeconds: number;
}

/** A project's quota as the API takes it: a number or a quantity ("8Gi", "500m"); null removes a limit. */
export interface ProjectQuotaBody {
  instances?: number | null;
  memory?: string | number | null;
  cpu?: string | number | null;
}

/** A project: its quota (null: unlimited), what its instances hold now, and how much it owns. */
export interface ProjectView {
  name: string;
  quota: { instances: number | null; memoryBytes: number | null; cpu: number | null };
  usage: { instances: number; memoryBytes: number; cpu: number };
  /** rows it owns, by kind (services, triggers, jobs, secrets, volumes, domains, tokens, repositories) */
  holdings: Record<string, number>;
  createdAt: string;
}

/** GET /api/v1/services/{name}/stats: the service's recent traffic, instances and cold starts, as
 *  columns of equal length (one entry per step, oldest first) — the dashboard's charts read it as is. */
export interface ServiceStatsView {
  service: string;
  /** seconds per step; `t` holds each step's end */
  stepSeconds: number;
  /** unix seconds */
  t: number[];
  /** requests that ended in the step */
  requests: number[];
  /** of them, answered 5xx (the app's or the gateway's) */
  errors: number[];
  /** latency percentiles of the requests that ended in the step (ms); null for a step without one */
  p50Ms: Array<number | null>;
  p99Ms: Array<number | null>;
  /** instances at the step's end, by phase (ready, starting, frozen, draining, pre-created) */
  instances: Record<string, number[]>;
  /** cold starts that ended in the step */
  coldStarts: number[];
  /** the cold-start breakdown over the whole window: per stage, how many took up to each bound */
  coldStartStages: {
    /** bucket upper bounds in ms; the last bucket is everything above the last bound */
    boundsMs: number[];
    /** queued, created, started, ready, firstByte → counts per bucket (boundsMs.length + 1) */
    counts: Record<string, number[]>;
  };
}

/** GET /api/v1/stats/services: every service the token sees, for the Services list's sparklines — the
 *  ServiceStatsView history in coarse steps (at most 60 over the window), one request for the whole list. */
export interface ServicesStatsView {
  /** seconds per coarse step (60 for the default 1 h window); `t` holds each step's end */
  stepSeconds: number;
  /** unix seconds, oldest first; shared by every service */
  t: number[];
  services: ServiceStatsSummary[];
}

/** One service's line of ServicesStatsView: columns as long as its `t`. */
export interface ServiceStatsSummary {
  name: string;
  project: string;
  /** requests that ended in the step (not a rate: divide by stepSeconds) */
  requests: number[];
  /** latency percentiles of the step's requests (ms, from their merged latency buckets); null without requests */
  p50Ms: Array<number | null>;
  p99Ms: Array<number | null>;
  /** cold starts that ended in the window */
  coldStarts: number;
}

/** One line of GET /api/v1/stream (server-sent events, `event: change`): something the dashboard
 *  shows changed; it reads that resource again. */
export interface ChangeEvent {
  kind: 'service' | 'trigger' | 'job' | 'domain' | 'volume' | 'secret' | 'registry' | 'project' | 'budget' | 'token';
  /** the resource's name (a repository for registry); absent when the whole list may have changed */
  name?: string;
  project: string;
}
