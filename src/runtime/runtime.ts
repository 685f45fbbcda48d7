// runtime/runtime: the `Runtime` port — what the scheduler may ask of any container driver (runc today,
// Kubernetes later). Types only; drivers live in runc/ (and later kubernetes/). Outcomes a caller must
// branch on are discriminated unions, not exceptions. Must import only core.

export interface InstanceLimits {
  /** hard memory limit; swap is capped at the same value so the instance never swaps */
  memoryBytes: number;
  /** CPU quota in cores (0.5 = half a core) */
  cpus: number;
  /** maximum number of tasks (processes + threads) */
  pids: number;
}

export interface InstanceSpec {
  /** stable instance id, [a-z0-9][a-z0-9-]{0,62}; names the container, netns and log dir */
  id: string;
  /** instances of different services are isolated from each other on the network */
  service: string;
  /** absolute path of a prepared root filesystem (images module assembles it) */
  rootfs: string;
  readOnlyRoot: boolean;
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  hostname: string;
  limits: InstanceLimits;
}

export type InstanceStatus = 'created' | 'running' | 'paused' | 'stopped';

export type ExitReason = (
  | { reason: 'exited'; exitCode: number }
  | { reason: 'oom-killed'; exitCode: number }
  | { reason: 'signalled'; signal: number }
) & {
  /** forks refused at the pids limit during the instance's life; absent when none were */
  pidsLimitHits?: number;
};

export interface InstanceState {
  id: string;
  service: string;
  status: InstanceStatus;
  /** address reachable from the host (the gateway connects here) */
  ip: string;
  /** host pid of the instance's init while it runs */
  pid?: number;
  /** set once status is 'stopped' */
  exit?: ExitReason;
}

export interface InstanceStats {
  /** cgroup memory usage, page cache included */
  memoryBytes: number;
  /** usage minus inactive file cache (reclaimable): what the kubelet calls the working set */
  workingSetBytes: number;
  memoryLimitBytes: number;
  cpuNanos: number;
  pids: number;
}

export interface LogLine {
  time: string;
  stream: 'stdout' | 'stderr';
  line: string;
}

export type StopResult = { stopped: 'gracefully' | 'killed' | 'already'; exit?: ExitReason };
export type Lookup<T> = { found: true; value: T } | { found: false };

export interface Runtime {
  /** Prepares everything up to the first instruction of the process (bundle, network) so start is fast. */
  create(spec: InstanceSpec): Promise<InstanceState>;
  start(id: string): Promise<InstanceState>;
  /** Sends the stop signal, waits up to graceMs, then SIGKILL. Idempotent. */
  stop(id: string, graceMs: number): Promise<StopResult>;
  kill(id: string, signal: NodeJS.Signals): Promise<void>;
  /** Removes the instance and everything it owns (container, cgroup, netns, address, logs). Idempotent. */
  delete(id: string): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  state(id: string): Promise<Lookup<InstanceState>>;
  /** Resolves once the instance has stopped, or with 'timeout'. */
  wait(id: string, timeoutMs: number): Promise<{ outcome: 'exited'; exit: ExitReason } | { outcome: 'timeout' } | { outcome: 'gone' }>;
  stats(id: string): Promise<Lookup<InstanceStats>>;
  list(): Promise<InstanceState[]>;
  /** Captured stdout/stderr, oldest first; readable after exit until delete. */
  logs(id: string, opts?: { tail?: number }): Promise<LogLine[]>;
  /** Captured output from the start, then live, until the instance has stopped (and all of it was read),
   *  is gone, or the signal aborts. */
  followLogs(id: string, signal: AbortSignal): AsyncIterable<LogLine>;
}
