// runtime/runc/container-runtime: the runc driver's inner layer — one container on a prepared host
// root filesystem (bundle, netns, cgroup, supervisor). Internal to the runc instance driver
// (instance-driver.ts), which turns the driver-neutral port (core/instance.ts) into these calls;
// nothing outside runtime/runc/ codes against it. Types only; RuncRuntime (driver.ts) implements it.
// Outcomes a caller must branch on are discriminated unions, not exceptions. Imports only core.
import type { ExitReason, InstanceLimits, InstanceStatus, LogLine, ListeningSocket } from '../../core/instance.ts';
import type { OptionalCapability } from '../../core/capabilities.ts';
import type { DeviceEdits } from '../devices/devices.ts';

/** One container: a process on a root filesystem that is already on the host. */
export interface ContainerSpec {
  /** the instance id (core/names INSTANCE_ID_RE); names the container, netns, cgroup and state dir */
  id: string;
  /** instances of different services are isolated from each other on the network */
  service: string;
  /** absolute path of a prepared root filesystem (the images module assembles it) */
  rootfs: string;
  readOnlyRoot: boolean;
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  hostname: string;
  limits: InstanceLimits;
  /** added to the default capability set */
  capabilities?: OptionalCapability[];
  /** secret env vars (KEY=VALUE), over `env` except PORT; never written to persistent disk (with them,
   *  the bundle goes to `privateDir`, and the state record keeps their names only) */
  secretEnv?: string[];
  /** host directories on tmpfs holding secret files, bind-mounted read-only at `destination` */
  secretMounts?: Array<{ destination: string; source: string }>;
  /** a directory on tmpfs private to the instance: the bundle of an instance with secrets is written there */
  privateDir?: string;
  /** whose service names the container resolves (internal-names.ts); absent: none */
  namespace?: string;
  /** host directories bind-mounted into the container (persistent volumes), in order */
  binds?: { source: string; destination: string; readOnly: boolean }[];
  /** host devices and CDI edits, resolved on this node (runtime/devices/devices.ts) */
  devices?: DeviceEdits;
}

export type ContainerStatus = Exclude<InstanceStatus, 'missing'>;

export interface ContainerState {
  id: string;
  service: string;
  status: ContainerStatus;
  /** address reachable from the host (the gateway connects here) */
  ip: string;
  /** host pid of the container's init while it runs */
  pid?: number;
  /** set once status is 'stopped' */
  exit?: ExitReason;
}

export interface ContainerStats {
  /** cgroup memory usage, page cache included */
  memoryBytes: number;
  /** usage minus inactive file cache (reclaimable): what the kubelet calls the working set */
  workingSetBytes: number;
  memoryLimitBytes: number;
  cpuNanos: number;
  pids: number;
}

export type StopResult = { stopped: 'gracefully' | 'killed' | 'already'; exit?: ExitReason };
export type Lookup<T> = { found: true; value: T } | { found: false };
export type WaitResult = { outcome: 'exited'; exit: ExitReason } | { outcome: 'timeout' } | { outcome: 'gone' };

export interface ContainerRuntime {
  /** Prepares everything up to the first instruction of the process (bundle, network) so start is fast. */
  create(spec: ContainerSpec): Promise<ContainerState>;
  /** CONFLICT when it was started before; NOT_FOUND for an unknown id. */
  start(id: string): Promise<ContainerState>;
  /** Sends the stop signal, waits up to graceMs, then SIGKILL (a created container, whose process never
   *  ran, is killed at once). Idempotent; NOT_FOUND for an unknown id. */
  stop(id: string, graceMs: number): Promise<StopResult>;
  kill(id: string, signal: NodeJS.Signals): Promise<void>;
  /** Removes the container and everything it owns (process, cgroup, netns, address, logs), except
   *  that with `keepLogsAt` its log directory is moved there instead of deleted. Idempotent. */
  delete(id: string, opts?: { keepLogsAt?: string }): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  state(id: string): Promise<Lookup<ContainerState>>;
  /** Resolves once the container has stopped, or with 'timeout', or 'gone' once it was deleted. */
  wait(id: string, timeoutMs: number): Promise<WaitResult>;
  /** Usage of a started container whose process has not ended; not found otherwise. */
  stats(id: string): Promise<Lookup<ContainerStats>>;
  /** TCP sockets listening in a started container whose process has not ended; undefined otherwise. */
  listening(id: string): Promise<ListeningSocket[] | undefined>;
  list(): Promise<ContainerState[]>;
  /** Captured stdout/stderr, oldest first; readable after exit until delete. NOT_FOUND for an unknown id. */
  logs(id: string, opts?: { tail?: number }): AsyncIterable<LogLine>;
  /** Captured output from the start, then live, until the container has stopped (and all of it was
   *  read), is gone, or the signal aborts. NOT_FOUND for an unknown id. */
  followLogs(id: string, signal: AbortSignal, opts?: { tail?: number }): AsyncIterable<LogLine>;
}
