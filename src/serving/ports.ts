// serving/ports: what the serving control plane needs, declared here (the parts of core's ports it
// uses, and its own); daemon/ plugs in the store's ServingRepository, the registry (image
// resolution), the instance driver and the scheduler.
import type { InstanceDriver } from '../core/instance.ts';
import type { InstanceView, PrewarmResult, ServiceView } from '../core/views.ts';
import type { PinnedImage, ScaleBounds, ServiceSpec } from '../core/service.ts';
import type { DeployDocument } from '../core/documents.ts';
import type { JobsRepository, ServingRepository, VolumesRepository } from '../core/repositories.ts';
import type { Readable } from 'node:stream';

/** Services, revisions and their events, as stored. */
export type ServingRecords = Pick<
  ServingRepository,
  'getService' | 'listServices' | 'deploy' | 'setTraffic' | 'setScale' | 'deleteService' | 'getRevision' | 'revisionsOf' | 'allRevisions' | 'addEvent' | 'events' | 'recentEvents'
>;

/** Images in Skiff's registry. */
export interface ImagePort {
  /** `repo[:tag|@digest]` → the manifest it names now (NAME_UNKNOWN, MANIFEST_UNKNOWN, …). `tenant`:
   *  the project that will run it; another project's repository is NAME_UNKNOWN, as a missing one. */
  resolve(reference: string, tenant: string): Promise<PinnedImage>;
  /** makes the image ready to run ahead of its first instance (the instance driver's prepare) */
  prepare(image: PinnedImage): Promise<{ total: number; unpacked: number }>;
}

/** The triggers that feed a service or start a job: removing either is refused while one does (its
 *  events would only pile up as dead letters). The event side answers; serving does not know triggers. */
/** The custom domains routed to a service: it is not removed under them (they would answer 404, and
 *  their certificates would go on being renewed for nothing). */
export interface DomainRefsPort {
  domainsOf(service: string): Promise<string[]>;
}

export interface TriggerRefsPort {
  /** names of the triggers pointing at the service or job */
  triggersOf(target: { service: string } | { job: string }): Promise<string[]>;
}

/** Pins a deploy document's secret references to versions (serving/secrets.ts SecretsService.pin):
 *  SECRET_UNKNOWN naming the field and the flag for a secret, version or key the tenant does not have. */
export interface SecretPinPort {
  pin(tenant: string, doc: DeployDocument['secrets'], env: Record<string, string>): Promise<ServiceSpec['secrets']>;
}

/** The keep-alive policy in force for a service (ServiceView.keepAlive). */
export type KeepAliveView = ServiceView['keepAlive'];

/** An instance's recent CPU use (% of one core) and working set, as last measured; undefined: none yet. */
export interface InstanceUsagePort {
  of(id: string): { cpuPercent: number; memoryBytes: number } | undefined;
}

/** The scheduler, as deploys and describe need it. */
export interface SchedulerPort {
  /** re-reads desired state after a deploy, a traffic change, new scale bounds or a delete, and converges */
  refresh(): Promise<void>;
  prewarm(service: string, opts: { instances: number; untilMs: number }): Promise<PrewarmResult['revisions']>;
  /** the instances of a revision now */
  describe(revision: string): InstanceView[];
  /** the revision's instances whose output the driver may hold: tracked, and being removed */
  instanceIds(revision: string): string[];
  /** warm the revision up to one instance until it has been ready once (a deploy that verifies),
   *  whether or not it takes traffic */
  verify(service: string, revision: string): void;
  /** the revision's crash loop, if any: consecutive failures, the last cause, the next start (clock ms) */
  revisionStatus(revision: string): { started: boolean; failures: number; lastFailure?: string; nextStartAt?: number };
  /** undefined before the service's first request since the daemon started */
  keepAlive(service: string): KeepAliveView | undefined;
  /** applies the scheduler's queued store writes (instance records, events) */
  flush(): Promise<void>;
}

/** Captured output of an instance, oldest first. */
export type InstanceLogPort = Pick<InstanceDriver, 'logs' | 'followLogs' | 'pastInstances' | 'forgetLogs'>;

/** What a one-off run needs of the instance driver. */
export type RunDriverPort = Pick<InstanceDriver, 'create' | 'start' | 'followLogs' | 'watch' | 'delete'>;

/** Jobs, their executions and the tasks' attempts, as stored. */
export type JobRecords = JobsRepository;

/** What a job needs of the instance driver: each task attempt runs in a container of its own, as a
 *  one-off run does; stop kills one at its timeout; its output is read from the driver, which keeps it
 *  after the container is deleted (InstanceSpec.logGroup) until the job is removed (forgetLogs). */
export type JobDriverPort = Pick<InstanceDriver, 'create' | 'start' | 'watch' | 'stop' | 'delete' | 'logs' | 'forgetLogs'>;

/** Volumes' records, as stored. */
export type VolumeRecords = VolumesRepository;

/** Volumes' data on the node (runtime/volumes/loop-volumes.ts on this machine). */
export interface VolumeHostPort {
  create(name: string, sizeBytes: number): Promise<void>;
  /** unmounts and deletes its data */
  remove(name: string): Promise<void>;
  /** mounts the named volumes that are not (daemon start) */
  restore(names: string[]): Promise<void>;
  usage(name: string): Promise<{ sizeBytes: number; usedBytes: number; mounted: boolean } | undefined>;
  /** its files as a tar stream */
  export(name: string): Promise<Readable>;
  /** a tar unpacked over its files (VOLUME_FULL when it does not fit; BAD_REQUEST for a hostile entry) */
  import(name: string, tar: Readable): Promise<{ entries: number; dropped: string[] }>;
}

/** The volume rules a deploy keeps (serving/volumes.ts). */
/** The node's device rules (runtime/devices/): a deploy naming a device the node does not allow or
 *  have is refused with DEVICE_REFUSED before anything is stored. */
export interface DeviceRulesPort {
  assertDevices(spec: Pick<ServiceSpec, 'devices' | 'gpus'>): Promise<void>;
}

export interface VolumeRulesPort {
  assertVolumes(tenant: string, spec: Pick<ServiceSpec, 'name' | 'volumes'>, scale: ScaleBounds): Promise<void>;
}
