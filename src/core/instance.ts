// core/instance: what an instance is, in terms every instance driver can honour (runc on this
// machine, a Swarm service in cluster mode): which image to run with which process, environment and
// limits — never a host path — and the instance-driver port itself. The port is declared here, not in
// runtime/, because its consumers (scheduler, serving) may import only core: each picks the methods
// it uses. runtime/ holds the drivers; every driver passes test/runtime/driver-contract.ts.
import type { InternalNetwork } from './internal-network.ts';
import type { PinnedImage } from './service.ts';
import type { OptionalCapability } from './capabilities.ts';
import type { DeviceRequest } from './devices.ts';
import type { PinnedSecrets, SecretMaterial } from './secrets.ts';

/** A persistent volume mounted into an instance: the driver knows where the volume `volume` lives
 *  (runc: a loop-mounted ext4 image) and bind-mounts it at `target`. */
export interface VolumeMount {
  volume: string;
  /** absolute path inside the instance (core/volumes assertMountTarget) */
  target: string;
  readOnly: boolean;
}

export interface InstanceLimits {
  /** hard memory limit; swap is capped at the same value so the instance never swaps */
  memoryBytes: number;
  /** CPU quota in cores (0.5 = half a core) */
  cpus: number;
  /** maximum number of tasks (processes + threads) */
  pids: number;
  /** size of the instance's writable layer (what it writes outside its volumes); absent: the driver's
   *  default (runtime.writableLayerBytes) */
  diskBytes?: number;
}

/** What one instance runs: a revision's (scheduler) or a one-off run's (serving/runs). */
export interface InstanceSpec {
  image: PinnedImage;
  /** network isolation group and hostname: instances of different services cannot reach each other */
  service: string;
  /** the revision it belongs to, recorded with the instance (re-adoption); absent for a one-off run */
  revision?: string;
  /** the port the app listens on, passed as $PORT; absent for a one-off run */
  port?: number;
  /** replaces the image's entrypoint (and drops its cmd), as Kubernetes' command */
  command?: string[];
  /** replaces the image's cmd, as Kubernetes' args */
  args?: string[];
  env: Record<string, string>;
  readOnlyRoot: boolean;
  limits: InstanceLimits;
  /** added to the default capability set; absent or empty: the default set only */
  capabilities?: OptionalCapability[];
  /** persistent volumes; create fails with NOT_FOUND for a volume the driver does not have and
   *  BAD_REQUEST for an invalid target */
  mounts?: VolumeMount[];
  /** host devices and CDI devices passed in (core/devices.ts); create fails with DEVICE_REFUSED for one
   *  the node does not allow or have. The one place a spec names host paths: a device is the host's. */
  devices?: DeviceRequest[];
  /** GPUs: the first N CDI devices of kind nvidia.com/gpu on the node, in name order */
  gpus?: number;
  /** where in a cluster the instance may run (core/placement.ts, checked at deploy): the swarm driver
   *  passes it to Swarm (constraints → Placement.Constraints, spread → Placement.Preferences[].Spread);
   *  the runc driver runs everything on its one machine and ignores it. */
  placement?: { constraints?: string[]; spread?: string[] };
  /** keep the instance's output once it is deleted, under this name (pastInstances(logGroup) lists it,
   *  forgetLogs(logGroup) drops it): a job's task attempts, whose output outlives their containers. A
   *  revision's instances are kept under their service without it; a one-off run's are not kept. */
  logGroup?: string;
  /** whose services the instance reaches by name (core/internal-network.ts): its tenant; absent: none */
  namespace?: string;
  /** the pinned secrets a revision uses (no values): whoever creates the instance resolves them into
   *  `secrets` before the driver sees the spec (serving/secret-injection.ts) */
  secretRefs?: PinnedSecrets;
  /** clear secret values: env vars (after `env`, before PORT) and files mounted read-only. Memory only —
   *  a driver must write none of it to persistent disk. */
  secrets?: SecretMaterial;
}

export interface InstanceAddress {
  host: string;
  port: number;
  /** the cluster node it runs on (the swarm driver's node hostname); absent where there is one node */
  node?: string;
}

export type ExitReason = (
  | { reason: 'exited'; exitCode: number }
  | { reason: 'oom-killed'; exitCode: number }
  | { reason: 'signalled'; signal: number }
) & {
  /** forks refused at the pids limit during the instance's life; absent when none were */
  pidsLimitHits?: number;
  /** the cluster node it ran on went down (that node's name): the app did not fail, and its
   *  replacement is not a crash loop's */
  nodeLost?: string;
};

/** How a process ended, in words (a crashed instance's cause, a failed job task's); `unknown` when
 *  no exit was recorded. */
export function exitText(exit: ExitReason | undefined, memoryBytes: number, unknown = 'exited'): string {
  if (!exit) return unknown;
  if (exit.nodeLost !== undefined) return `was lost with its node ${exit.nodeLost}, which went down`;
  switch (exit.reason) {
    case 'exited':
      return `exited with code ${exit.exitCode}`;
    case 'oom-killed':
      return `was killed at its memory limit (${Math.round(memoryBytes / 1024 ** 2)} MiB): out of memory`;
    case 'signalled':
      return `was killed by signal ${exit.signal}`;
  }
}

/** created = waiting for start; paused = frozen; missing = a leftover without a process (removed on sight) */
export type InstanceStatus = 'created' | 'running' | 'paused' | 'stopped' | 'missing';

/** An instance as its driver sees it now. */
export interface InstanceInfo {
  id: string;
  service: string;
  /** empty for a one-off run; for a leftover whose record is gone, derived from its id (revisionOfInstance) */
  revision: string;
  status: InstanceStatus;
  /** where the gateway reaches it; set while running or paused */
  address?: InstanceAddress;
  /** set once status is 'stopped' */
  exit?: ExitReason;
}

/** A deleted instance whose output is kept: its revision and when it ended (epoch ms). */
export interface PastInstance {
  id: string;
  revision: string;
  endedAt: number;
}

/** A listening TCP socket: the address it is bound to (0.0.0.0 / :: for all) and its port. */
export interface ListeningSocket {
  address: string;
  port: number;
}

export interface InstanceStats {
  /** cumulative CPU time */
  cpuNanos: number;
  /** memory usage, page cache included */
  memoryBytes: number;
  /** usage minus inactive file cache (reclaimable): what the kubelet calls the working set */
  workingSetBytes: number;
}

export interface LogLine {
  /** ISO time the line was captured */
  time: string;
  stream: 'stdout' | 'stderr';
  line: string;
}

/** The instance-driver port: the seam between the control plane (scheduler, one-off runs, deploys
 *  preparing images) and whatever runs instances. */
export interface InstanceDriver {
  /** service-to-service names and their paths (core/internal-network.ts); absent: the driver has none,
   *  and instances reach no other service by name */
  readonly internal?: InternalNetwork;
  /** Makes an image ready to run (resolved, layers fetched/unpacked) ahead of its first instance;
   *  `unpacked` = layers this call had to prepare. Image errors (MANIFEST_UNKNOWN, IMAGE_INVALID, …) surface here. */
  prepare(image: PinnedImage): Promise<{ total: number; unpacked: number }>;
  /** Everything that does not depend on a request, up to the process's first instruction, so start()
   *  is fast. On failure nothing of the instance is left. CONFLICT for an id in use, BAD_REQUEST for an invalid one. */
  create(id: string, spec: InstanceSpec): Promise<void>;
  /** Starts a created instance; resolves with its address once the process runs (not yet when it is
   *  ready). On failure the instance is deleted. */
  start(id: string): Promise<InstanceAddress>;
  /** Freezes every process of a running instance; its memory stays allocated. */
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** Stop signal, up to `graceMs`, then SIGKILL; resolves once the process has ended (a created
   *  instance, whose process never ran, is ended at once). The instance stays (status stopped, its exit
   *  and logs readable) until delete(). Idempotent; unknown ids are fine. */
  stop(id: string, graceMs: number): Promise<void>;
  /** Kills the process if it still runs and removes everything the instance owns. Idempotent. */
  delete(id: string): Promise<void>;
  /** The instance now, or undefined when it does not exist. */
  inspect(id: string): Promise<InstanceInfo | undefined>;
  /** Every instance of this driver, including leftovers without a process (status missing), for
   *  re-adoption after a daemon restart. */
  list(): Promise<InstanceInfo[]>;
  /** Resolves once the instance's process has ended (at once if it has), with how; undefined when the
   *  instance does not exist or was deleted first. */
  watch(id: string): Promise<ExitReason | undefined>;
  /** Captured output, oldest first (with `tail`, the last `tail` lines); readable after the process
   *  ended, until delete (none for an unknown instance). Streamed: memory must not grow with the output. */
  logs(id: string, opts?: { tail?: number }): AsyncIterable<LogLine>;
  /** Output from the start (with `tail`, its last `tail` lines), then live, until the process has ended
   *  (and all of it was read), the instance is deleted, or the signal aborts. */
  followLogs(id: string, signal: AbortSignal, opts?: { tail?: number }): AsyncIterable<LogLine>;
  /** CPU time and memory of a running or paused instance; undefined otherwise. */
  stats(id: string): Promise<InstanceStats | undefined>;
  /** Instances of `service` (or of the log group InstanceSpec.logGroup names) deleted whose output is
   *  still kept (logs(id) reads it), oldest first; bounded per service by count, size and age. One-off
   *  runs are not kept. */
  pastInstances(service: string): Promise<PastInstance[]>;
  /** Drops the kept output of every deleted instance of `service` (the service, or the job, is gone). */
  forgetLogs(service: string): Promise<void>;
  /** The TCP sockets listening in a running instance (its own network view); undefined when it is not
   *  running. Tells an app on the wrong port, or on 127.0.0.1 only, from one still starting. */
  listening(id: string): Promise<ListeningSocket[] | undefined>;
}
