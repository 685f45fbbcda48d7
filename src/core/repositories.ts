// core/repositories: the store's ports — metadata as async repositories returning domain records.
// Declared in core because the store implements them and registry, serving and api consume them, and
// none of those may import the others (DESIGN.md); each consumer picks what it uses. The store
// implements each once over Kysely, on SQLite and PostgreSQL (test/store/contract.ts).
import type { DeadLetterRecord, InvocationRecord, TriggerRecord, TriggerStats } from './events.ts';
import type { DeployDocument } from './documents.ts';
import type { CertificateState, DomainRecord } from './domains.ts';
import type { ExecutionRecord, ExecutionStatus, JobRecord, TaskRecord } from './jobs.ts';
import type { Principal, TokenRecord, TokenRole } from './auth.ts';
import type { SecretRecord, SecretVersionRecord } from './secrets.ts';
import type { BlobRecord, ManifestRecord, NewManifest, PutManifestResult, UploadRecord } from './registry-records.ts';
import type { VolumeRecord } from './volumes.ts';
import type { ProjectQuota, ProjectRecord } from './projects.ts';
import type { InstanceRecord, PinnedImage, RecordedState, RevisionRecord, ScaleBounds, ServiceEvent, ServiceRecord, ServiceSpec, TrafficTarget } from './service.ts';

export interface RegistryRepository {
  ensureRepository(repository: string, now: number): Promise<void>;
  repositoryExists(repository: string): Promise<boolean>;
  getBlob(digest: string): Promise<BlobRecord | undefined>;
  /** Records a blob whose bytes are durably in the blob store, and links it into `repository`. */
  commitBlob(repository: string, digest: string, size: number, now: number): Promise<void>;
  /** Cross-repository mount: links an existing blob into `repository`; undefined when it is not readable in `from`. */
  mountBlob(repository: string, from: string, digest: string, now: number): Promise<BlobRecord | undefined>;
  /** The blob if it is readable in `repository`; with `now`, touching it protects it from GC for the grace window. */
  linkedBlob(repository: string, digest: string, now?: number): Promise<BlobRecord | undefined>;
  unlinkBlob(repository: string, digest: string): Promise<boolean>;
  getManifest(repository: string, digest: string): Promise<ManifestRecord | undefined>;
  resolveTag(repository: string, tag: string): Promise<string | undefined>;
  /** Stores a manifest whose bytes are already a blob; every reference is checked in the same
   *  transaction GC sweeps in, so a sweep can never delete what a manifest being written refers to. */
  putManifest(m: NewManifest, now: number): Promise<PutManifestResult>;
  /** Deletes a manifest and every tag pointing at it; false when it did not exist. */
  deleteManifest(repository: string, digest: string): Promise<boolean>;
  deleteTag(repository: string, tag: string): Promise<boolean>;
  /** Tags after `last` in order, at most `limit`. */
  listTags(repository: string, last: string, limit: number): Promise<string[]>;
  /** Repositories with content after `last` in order, at most `limit`. */
  catalog(last: string, limit: number): Promise<string[]>;
  /** Manifests of `repository` whose subject is `subject`, by digest. */
  referrers(repository: string, subject: string): Promise<ManifestRecord[]>;
  createUpload(id: string, repository: string, now: number): Promise<void>;
  getUpload(id: string): Promise<UploadRecord | undefined>;
  touchUpload(id: string, now: number): Promise<void>;
  deleteUpload(id: string): Promise<void>;
  staleUploads(touchedBefore: number): Promise<UploadRecord[]>;
  uploadIds(): Promise<Set<string>>;
  blobDigests(): Promise<Set<string>>;
  /** GC's sweep: in one transaction, forgets blobs no manifest is or refers to and untouched since
   *  `touchedBefore`, and returns their digests (the caller deletes their files). */
  collectUnreferenced(touchedBefore: number): Promise<string[]>;
}

export interface ProjectsRepository {
  /** CONFLICT when the name is taken */
  createProject(p: ProjectRecord): Promise<void>;
  getProject(name: string): Promise<ProjectRecord | undefined>;
  listProjects(): Promise<ProjectRecord[]>;
  /** replaces the quota; false when there is no such project */
  setQuota(name: string, quota: ProjectQuota): Promise<boolean>;
  /** how many rows of each kind the project owns (services, tokens, …): it is removed only when all are 0 */
  holdings(name: string): Promise<Record<string, number>>;
  /** false when it did not exist */
  deleteProject(name: string): Promise<boolean>;
}

export interface TokenRepository {
  /** Creates a token and returns its secret; the secret is never stored and cannot be shown again. */
  create(name: string, tenant: string, role: TokenRole, now: number): Promise<{ id: string; secret: string }>;
  /** The principal a secret stands for. Answered from memory after the first lookup (every registry
   *  and API request authenticates); create and revoke keep the cache current. */
  verify(secret: string): Promise<Principal | undefined>;
  list(): Promise<TokenRecord[]>;
  revoke(id: string): Promise<boolean>;
}

export interface ServingRepository {
  getService(name: string): Promise<ServiceRecord | undefined>;
  listServices(): Promise<ServiceRecord[]>;
  /** Records a deploy: a new immutable revision (the next generation) and the service pointing at it;
   *  the service's bounds become `scale`. `document`: what the user stated, kept with the revision for
   *  updates to carry over. `traffic` gives the new split from the one stored (undefined for a new
   *  service), in the same transaction; by default the new revision takes 100 %. */
  deploy(
    tenant: string,
    spec: ServiceSpec,
    scale: ScaleBounds,
    image: PinnedImage,
    now: number,
    document?: DeployDocument,
    traffic?: (old: TrafficTarget[] | undefined, revision: string) => TrafficTarget[],
  ): Promise<{ service: ServiceRecord; revision: RevisionRecord }>;
  setTraffic(service: string, traffic: TrafficTarget[], now: number): Promise<void>;
  setScale(service: string, scale: ScaleBounds, now: number): Promise<void>;
  /** Deletes the service with its revisions, events and keep-alive state; false when it did not exist. */
  deleteService(name: string): Promise<boolean>;
  getRevision(name: string): Promise<RevisionRecord | undefined>;
  /** newest first */
  revisionsOf(service: string): Promise<RevisionRecord[]>;
  /** every revision of every service, newest first per service (one query for a list view) */
  allRevisions(): Promise<RevisionRecord[]>;
  putInstance(instance: { id: string; revision: string; service: string; state: RecordedState; address: string | null }, now: number): Promise<void>;
  deleteInstance(id: string): Promise<void>;
  listInstances(): Promise<InstanceRecord[]>;
  /** Appends an event; a service keeps its newest 200. */
  addEvent(service: string, revision: string | null, kind: string, message: string, now: number): Promise<void>;
  /** the newest `limit` events of a service, oldest first */
  events(service: string, limit: number): Promise<ServiceEvent[]>;
  /** the newest `limit` events of every service, oldest first per service (one query for a list view) */
  recentEvents(limit: number): Promise<Map<string, ServiceEvent[]>>;
  /** A service's saved keep-alive state (opaque JSON of the autoscaler's idle-time histogram). */
  putKeepAlive(service: string, state: string, now: number): Promise<void>;
  listKeepAlive(): Promise<Array<{ service: string; state: string }>>;
}

/** Triggers, the durable invocation queue and dead letters (core/events.ts). */
export interface EventsRepository {
  /** CONFLICT when a trigger of that name exists */
  addTrigger(trigger: TriggerRecord, stats: TriggerStats): Promise<void>;
  getTrigger(name: string): Promise<{ trigger: TriggerRecord; stats: TriggerStats } | undefined>;
  listTriggers(): Promise<Array<{ trigger: TriggerRecord; stats: TriggerStats }>>;
  setPaused(name: string, paused: boolean, now: number): Promise<boolean>;
  saveStats(name: string, stats: TriggerStats): Promise<void>;
  /** the trigger, its dead letters and its invocations not yet finished; false when it did not exist */
  deleteTrigger(name: string): Promise<boolean>;

  /** Stores a new invocation, or when one of the service has the same idempotency key, returns that
   *  one (created false) and stores nothing. */
  enqueue(invocation: InvocationRecord): Promise<{ invocation: InvocationRecord; created: boolean }>;
  getInvocation(id: string): Promise<InvocationRecord | undefined>;
  /** queued invocations due at `now`, the earliest first */
  /** `skip`: services whose invocations are left out (the worker's busy ones), so they cannot fill the
   *  page and starve the others */
  dueInvocations(now: number, limit: number, skip?: readonly string[]): Promise<InvocationRecord[]>;
  /** when the next queued invocation is due; undefined when none is queued */
  nextDueAt(): Promise<number | undefined>;
  updateInvocation(id: string, changes: Partial<Pick<InvocationRecord, 'status' | 'attempts' | 'nextAttemptAt' | 'response' | 'lastError'>>, now: number): Promise<void>;
  /** invocations left `running` by a daemon that stopped mid-delivery go back to the queue (start) */
  requeueRunning(now: number): Promise<number>;
  /** a trigger's queued and running invocations */
  activeInvocations(trigger: string): Promise<InvocationRecord[]>;
  /** queued invocations due by `now`, counted per service: the backlog the autoscaler sees (a retry
   *  waiting out its back-off is not demand yet) */
  dueByService(now: number): Promise<Map<string, number>>;
  /** deletes invocations that ended (succeeded, failed, cancelled) before `before`; returns how many */
  purgeFinished(before: number): Promise<number>;

  addDeadLetter(letter: DeadLetterRecord): Promise<void>;
  /** oldest first */
  deadLetters(trigger: string): Promise<DeadLetterRecord[]>;
  countDeadLetters(trigger: string): Promise<number>;
  /** deletes the trigger's dead letters (those of `ids` only, when given); returns those deleted */
  takeDeadLetters(trigger: string, ids?: string[]): Promise<DeadLetterRecord[]>;
}

/** Jobs, their executions and the tasks' attempts (core/jobs.ts). */
export interface JobsRepository {
  /** CONFLICT when a job of that name exists */
  createJob(job: JobRecord): Promise<void>;
  getJob(name: string): Promise<JobRecord | undefined>;
  listJobs(): Promise<JobRecord[]>;
  /** the job with its executions and their tasks; false when it did not exist */
  deleteJob(name: string): Promise<boolean>;

  /** a new execution, running, none of its tasks started */
  createExecution(e: { id: string; job: string; taskCount: number; createdAt: number }): Promise<void>;
  getExecution(id: string): Promise<ExecutionRecord | undefined>;
  /** the newest `limit` executions of a job, newest first */
  executionsOf(job: string, limit: number): Promise<ExecutionRecord[]>;
  /** executions of every job still running, oldest first (resumed when the daemon starts) */
  runningExecutions(): Promise<ExecutionRecord[]>;
  /** a task's status and attempts, as a whole */
  putTask(execution: string, task: TaskRecord, now: number): Promise<void>;
  finishExecution(id: string, status: Exclude<ExecutionStatus, 'running'>, message: string | null, endedAt: number): Promise<void>;
  /** deletes the ended executions of `job` older than its newest `keep`, with their tasks; returns their ids */
  pruneExecutions(job: string, keep: number): Promise<string[]>;
}

/** Custom domains and their certificates' state (core/domains.ts); the certificates and keys
 *  themselves are files in the data dir, never rows. */
export interface DomainsRepository {
  /** CONFLICT when the host is taken */
  addDomain(domain: DomainRecord): Promise<void>;
  getDomain(host: string): Promise<DomainRecord | undefined>;
  /** by host */
  listDomains(): Promise<DomainRecord[]>;
  /** the certificate's state (and the source, when a user certificate replaced another) */
  updateCertificate(host: string, state: CertificateState, now: number): Promise<void>;
  /** false when it did not exist */
  deleteDomain(host: string): Promise<boolean>;
}

/** Volumes' records (the data itself is on the node: runtime/volumes). */
export interface VolumesRepository {
  /** CONFLICT when the name is taken (by any tenant) */
  createVolume(v: VolumeRecord): Promise<void>;
  getVolume(name: string): Promise<VolumeRecord | undefined>;
  /** by name; only `tenant`'s when given */
  listVolumes(tenant?: string): Promise<VolumeRecord[]>;
  /** false when it did not exist */
  deleteVolume(name: string): Promise<boolean>;
}

/** Secrets of each tenant and their versions (core/secrets.ts): key names in clear, values sealed. */
export interface SecretsRepository {
  /** Adds the next version of the secret (1 for a new one) in one transaction: `make` gets the version
   *  number and the latest version (undefined for a new secret) and returns what to store; it may run
   *  more than once (a retried transaction), so it must only compute. */
  addVersion(
    tenant: string,
    name: string,
    make: (version: number, latest: SecretVersionRecord | undefined) => Pick<SecretVersionRecord, 'keys' | 'sealed' | 'keyId'>,
    now: number,
  ): Promise<SecretVersionRecord>;
  /** the latest version when `version` is undefined */
  getVersion(tenant: string, name: string, version?: number): Promise<SecretVersionRecord | undefined>;
  getSecret(tenant: string, name: string): Promise<SecretRecord | undefined>;
  /** by name */
  listSecrets(tenant: string): Promise<SecretRecord[]>;
  /** metadata of every version, newest first (`sealed` left empty) */
  versionsOf(tenant: string, name: string): Promise<SecretVersionRecord[]>;
  /** the secret with every version; false when it did not exist */
  deleteSecret(tenant: string, name: string): Promise<boolean>;
}
