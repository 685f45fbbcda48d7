// api/ports: what the control API needs from the rest of Skiff, declared here; daemon/ plugs the
// implementations in (the store's token repository, registry GC, serving/).
import type { NodeInventory } from '../core/nodes.ts';
import type { RegistryRepositoryDetail, RegistryRepositoryView } from '../core/registry-views.ts';
import type { TokenRepository } from '../core/repositories.ts';
import type { SecretSetBody, SecretView } from '../core/secrets.ts';
import type { DeadLetterView, InvocationView, InvokeAnswer, InvokeBody, TriggerDocument, TriggerView } from '../core/events.ts';
import type { DeployDocument, DeployPatch, RunRequest } from '../core/documents.ts';
import type { ExecutionView, JobDocument, JobView } from '../core/jobs.ts';
import type { VolumeCreateBody } from '../core/volumes.ts';
import type { Readable } from 'node:stream';
import type { DomainDocument, DomainView } from '../core/domains.ts';
import type { ScaleBounds, TrafficTarget } from '../core/service.ts';
import type { Invoice, UsageReport } from '../core/usage.ts';
import type { BudgetStatus } from '../core/budgets.ts';
import type { DeployResult, GcResult, PrewarmResult, ProjectQuotaBody, ProjectView, RunEvent, ServiceStatsView, ServicesStatsView, ServiceView, VolumeView } from '../core/views.ts';
import type { ChangeStreams } from './change-hub.ts';

export interface DeployOptions {
  verify?: boolean;
  noTraffic?: boolean;
  tag?: string;
}

export type TokenPort = TokenRepository;

/** Kinds of resource a route names by a path parameter, each owned by one project. */
export type OwnedKind = 'service' | 'trigger' | 'job' | 'invocation' | 'domain' | 'token' | 'project';

/** The project owning a resource, or undefined when there is none by that name (daemon/ wires these from the store). */
export type OwnerLookup = Record<OwnedKind, (key: string) => Promise<string | undefined>>;

/** Whether a project exists: asked only when a token spanning all projects names one. */
export interface ProjectLookup {
  exists(name: string): Promise<boolean>;
}


/** Browsing the registry from the API (registry/browse.ts): `tenant` is the caller's project, or '*'
 *  for a token spanning every project; another project's repository is one that does not exist. */
export interface RegistryBrowsePort {
  repositories(tenant: string): Promise<RegistryRepositoryView[]>;
  repository(tenant: string, name: string): Promise<RegistryRepositoryDetail>;
  /** a tag, or a digest (the manifest and its tags) */
  delete(tenant: string, name: string, reference: string): Promise<void>;
  /** the project a repository is part of: a change to it is that project's to see (api/stream-routes) */
  projectOf(name: string): string;
}

export interface GcPort {
  collect(): Promise<GcResult>;
}

export interface ServingPort {
  /** `verify`: start one instance of the new revision whatever its scale (its status says whether it
   *  starts); `noTraffic`: leave the split as it is; `tag`: give the new revision the address TAG--NAME */
  deploy(doc: DeployDocument, tenant: string, opts?: DeployOptions): Promise<DeployResult>;
  /** a new revision: the latest one's document with `patch` merged in (JSON merge patch) */
  update(name: string, patch: DeployPatch, tenant: string, opts?: DeployOptions): Promise<DeployResult>;
  list(): Promise<ServiceView[]>;
  get(name: string): Promise<ServiceView>;
  /** the latest revision's deploy document, its image pinned and the service's bounds in it (`skiff export`) */
  document(name: string): Promise<DeployDocument>;
  remove(name: string): Promise<void>;
  setTraffic(name: string, traffic: TrafficTarget[]): Promise<ServiceView>;
  rollback(name: string, to?: string): Promise<ServiceView>;
  scale(name: string, bounds: Partial<ScaleBounds>): Promise<ServiceView>;
  /** makes instances of the service's revisions ready now and keeps them until now + forMs */
  prewarm(name: string, opts: { instances: number; forMs: number }): Promise<PrewarmResult>;
  /** log lines of the service's instances, oldest first; `follow` keeps streaming new lines */
  logs(name: string, opts: { revision?: string; instance?: string; sinceMs?: number; tail?: number; follow: boolean; signal: AbortSignal }): AsyncIterable<string>;
}

/** A service's recent history for the dashboard's charts (serving/service-stats.ts, in memory). */
export interface ServiceStatsPort {
  /** `window`: 15m, 1h or 6h; NOT_FOUND for a service that does not exist */
  stats(name: string, window: string): Promise<ServiceStatsView>;
  /** the Services list's sparklines of `services` (already filtered to those the caller may see);
   *  BAD_REQUEST for a window other than 15m, 1h, 6h */
  summaries(services: ReadonlyArray<{ name: string; project: string }>, window: string): ServicesStatsView;
}

export interface RunPort {
  /** Resolves the image and starts the container (image errors are thrown here, before any output).
   *  `events` follows its output live and ends with its exit, after the container was removed; when
   *  `signal` aborts (the client went away) the container is killed and removed. `tenant`: the
   *  request's project (another project's image is NAME_UNKNOWN). */
  start(request: RunRequest, tenant: string, signal: AbortSignal): Promise<{ id: string; events: AsyncIterable<RunEvent> }>;
}

/** GET /ca: the CA certificate of the registry's TLS listener (registryTls), which nodes trust */
export interface CaPort {
  /** the CA certificate, PEM */
  certificate(): string;
}

/** Readiness: each check's name and 'ok' or what is wrong. */
export interface HealthPort {
  checks(): Promise<Record<string, string>>;
}

/** The daemon's own life: `skiff down`. */
export interface LifecyclePort {
  /** drain and stop every instance, then stop the daemon (returns at once; the work goes on) */
  down(): void;
}

/** Triggers, dead letters and invocations (triggers/service.ts). */
export interface EventsPort {
  add(doc: TriggerDocument, tenant: string): Promise<TriggerView>;
  list(): Promise<TriggerView[]>;
  get(name: string): Promise<TriggerView>;
  setPaused(name: string, paused: boolean): Promise<TriggerView>;
  remove(name: string): Promise<void>;
  deadLetters(name: string): Promise<DeadLetterView[]>;
  replay(name: string, ids?: string[]): Promise<{ replayed: string[]; invocations: string[] }>;
  purge(name: string, ids?: string[]): Promise<{ purged: number }>;
  /** sync: the service's answer; async: where to read the queued invocation back */
  invoke(service: string, body: InvokeBody): Promise<InvokeAnswer>;
  invocation(id: string): Promise<InvocationView>;
}

/** Run-to-completion jobs (serving/jobs.ts). */
export interface JobsPort {
  create(doc: JobDocument, tenant: string): Promise<JobView>;
  list(): Promise<JobView[]>;
  get(name: string): Promise<JobView>;
  /** CONFLICT while an execution runs, unless `force` (which cancels it) */
  remove(name: string, opts: { force: boolean }): Promise<void>;
  /** starts an execution; its tasks run in the background */
  execute(name: string): Promise<ExecutionView>;
  execution(name: string, id: string): Promise<ExecutionView>;
  /** the output of an execution's tasks (the latest one by default), line by line */
  logs(name: string, opts: { execution?: string; task?: number }): AsyncIterable<string>;
}

/** Custom domains (serving/domains.ts). */
export interface DomainsPort {
  add(doc: DomainDocument, tenant: string): Promise<DomainView>;
  list(): Promise<DomainView[]>;
  get(host: string): Promise<DomainView>;
  remove(host: string, tenant: string): Promise<void>;
}

/** Secrets of the caller's tenant (serving/secrets.ts): views carry no values. */
export interface SecretsPort {
  set(tenant: string, name: string, body: SecretSetBody): Promise<SecretView>;
  list(tenant: string): Promise<SecretView[]>;
  get(tenant: string, name: string): Promise<SecretView>;
  remove(tenant: string, name: string): Promise<void>;
}

/** Volumes of the caller's tenant (serving/volumes.ts). */
export interface VolumesPort {
  create(tenant: string, body: VolumeCreateBody): Promise<VolumeView>;
  list(tenant: string): Promise<VolumeView[]>;
  get(tenant: string, name: string): Promise<VolumeView>;
  remove(tenant: string, name: string): Promise<void>;
  export(tenant: string, name: string): Promise<Readable>;
  import(tenant: string, name: string, tar: Readable): Promise<{ volume: string; entries: number; dropped: string[] }>;
}

/** Projects and their quotas (serving/projects.ts). */
export interface ProjectsPort {
  create(name: string, quota?: ProjectQuotaBody): Promise<ProjectView>;
  list(): Promise<ProjectView[]>;
  get(name: string): Promise<ProjectView>;
  setQuota(name: string, quota: ProjectQuotaBody): Promise<ProjectView>;
  remove(name: string): Promise<void>;
  exists(name: string): Promise<boolean>;
}

/** GET /metrics: the Prometheus text exposition, rendered at each scrape */
export interface MetricsPort {
  readonly contentType: string;
  render(): Promise<string>;
}

/** Metering reports and invoices (metering/usage-service.ts); `tenant` undefined: every project. */
export interface UsagePort {
  report(q: { tenant?: string; service?: string; since?: string; until?: string; by?: string }): Promise<UsageReport>;
  invoice(month: string, tenant: string | undefined): Promise<Invoice>;
}

/** Projects' monthly budgets (metering/budget-service.ts). */
export interface BudgetsPort {
  set(project: string, body: { monthly: string; soft?: string[]; action?: string; webhook?: string }): Promise<BudgetStatus>;
  get(project: string): Promise<BudgetStatus>;
  list(visible: (project: string) => boolean): Promise<BudgetStatus[]>;
  remove(project: string): Promise<void>;
}

export interface ApiDeps {
  /** GET /usage and /bill; absent: no such routes (metering off) */
  usage?: UsagePort;
  /** /budgets; absent: no such routes */
  budgets?: BudgetsPort;
  /** GET /services/{name}/stats and GET /stats/services; absent: no such routes */
  stats?: ServiceStatsPort;
  /** GET /stream and the publishing of every state-changing request; absent: neither */
  changes?: ChangeStreams;
  tokens: TokenPort;
  projects: ProjectsPort;
  /** the project owning a resource a route names: another project's answers 404 */
  owners: OwnerLookup;
  /** GET /metrics (a metrics:read token); absent: no such route */
  metrics?: MetricsPort;
  lifecycle: LifecyclePort;
  /** GET /nodes: where instances run; absent: no such route */
  nodes?: NodeInventory;
  health: HealthPort;
  /** GET /ca; absent: the TLS listener is off, and GET /ca answers 404 saying how to turn it on */
  ca?: CaPort;
  gc: GcPort;
  /** GET/DELETE /registry/repositories…; absent: no such routes */
  registryBrowse?: RegistryBrowsePort;
  serving: ServingPort;
  runs: RunPort;
  events: EventsPort;
  jobs: JobsPort;
  volumes: VolumesPort;
  domains: DomainsPort;
  secrets: SecretsPort;
  version: string;
  now(): number;
}
