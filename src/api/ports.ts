// api/ports: what the control API needs from the rest of Skiff; daemon/ plugs the implementations in.
import type { Principal, TokenRole } from '../store/token-store.ts';
import type { TrafficTarget } from '../core/service.ts';
import type { DeployDocument } from './service-spec.ts';

export interface TokenPort {
  verify(secret: string): Principal | undefined;
  create(name: string, tenant: string, role: TokenRole, now: number): { id: string; secret: string };
  list(): Array<{ id: string; name: string; tenant: string; role: TokenRole; created_at: number }>;
  revoke(id: string): boolean;
}

export interface GcPort {
  collect(): Promise<{ blobsDeleted: number; bytesFreed: number; orphanFilesDeleted: number; uploadsExpired: number }>;
}

/** What `skiff describe` shows about a service. */
export interface ServiceView {
  name: string;
  url: string;
  pathUrl: string;
  image: string;
  latestRevision: string;
  traffic: TrafficTarget[];
  scaling: { min: number; max: number; concurrency: number; metric: string };
  /** the keep-alive policy in force: fixed, or learned from the service's idle times */
  keepAlive: { kind: 'fixed' | 'histogram'; keepAliveMs: number; preWarmMs?: number; reason: string };
  revisions: Array<{ name: string; image: string; digest: string; createdAt: string; instances: Array<{ id: string; phase: string; address?: string }> }>;
  events: Array<{ at: string; revision: string | null; kind: string; message: string }>;
  createdAt: string;
  updatedAt: string;
}

/** What `POST /services/NAME/prewarm` answers: per revision taking traffic, the instances kept warm
 *  (the request bounded by maxScale) and how many were ready when the call returned. */
export interface PrewarmResult {
  service: string;
  until: string;
  revisions: Array<{ revision: string; instances: number; ready: number }>;
}

export interface ServingPort {
  deploy(doc: DeployDocument, tenant: string): Promise<{ service: ServiceView; revision: string; imageDigest: string; layers: { total: number; unpacked: number } }>;
  list(): ServiceView[];
  get(name: string): ServiceView;
  remove(name: string): Promise<void>;
  setTraffic(name: string, traffic: TrafficTarget[]): ServiceView;
  rollback(name: string): ServiceView;
  scale(name: string, bounds: { min?: number; max?: number }): ServiceView;
  /** makes instances of the service's revisions ready now and keeps them until now + forMs */
  prewarm(name: string, opts: { instances: number; forMs: number }): Promise<PrewarmResult>;
  /** log lines of the service's instances, oldest first; `follow` keeps streaming new lines */
  logs(name: string, opts: { revision?: string; tail?: number; follow: boolean; signal: AbortSignal }): AsyncIterable<string>;
}

export interface ApiDeps {
  tokens: TokenPort;
  gc: GcPort;
  serving: ServingPort;
  runs: RunPort;
  version: string;
  now(): number;
}

/** A one-off container (`skiff run`), as the API accepts it after validation. */
export interface RunSpec {
  /** `repo[:tag]` or `repo@sha256:…` in Skiff's registry */
  image: string;
  /** replaces the image's CMD (its ENTRYPOINT stays), as `docker run IMAGE CMD...` */
  command?: string[];
  env: Record<string, string>;
  memoryBytes: number;
  cpus: number;
  pids: number;
  readOnlyRoot: boolean;
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

export interface RunPort {
  /** Resolves the image and starts the container (image errors are thrown here, before any output).
   *  `events` follows its output live and ends with its exit, after the container was removed; when
   *  `signal` aborts (the client went away) the container is killed and removed. */
  start(spec: RunSpec, signal: AbortSignal): Promise<{ id: string; events: AsyncIterable<RunEvent> }>;
}
