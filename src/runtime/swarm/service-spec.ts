// runtime/swarm/service-spec: pure mapping between Skiff instances and Swarm objects. One instance is
// one Swarm service with one replica at most (Skiff, not Swarm, decides which instance starts, drains
// and stops), restart policy none (Skiff replaces), endpoint mode dnsrr (no IPVS needed) and, for a
// server, the app's port published in host mode on a port the node picks: the gateway reaches the
// instance at <node address>:<published port>. Skiff's labels on the service say whose instance it is,
// so a restarted daemon re-adopts them (and another Skiff on the same swarm leaves them alone).
import type { ExitReason, InstanceAddress, InstanceInfo, InstanceSpec, InstanceStatus } from '../../core/instance.ts';
import { revisionOfInstance } from '../../core/names.ts';

export const LABEL = {
  instance: 'skiff.instance',
  owner: 'skiff.owner',
  service: 'skiff.service',
  revision: 'skiff.revision',
  logGroup: 'skiff.log-group',
  port: 'skiff.port',
  /** set on a created instance stopped before it ever started: its exit, as JSON */
  stopped: 'skiff.stopped',
} as const;

/** What the Engine API answers for a service (the fields read here). */
export interface SwarmService {
  ID: string;
  Version: { Index: number };
  Spec: ServiceSpecBody;
  CreatedAt?: string;
}

export interface ServiceSpecBody {
  Name: string;
  Labels: Record<string, string>;
  TaskTemplate: Record<string, unknown> & { ContainerSpec: Record<string, unknown> };
  Mode: { Replicated: { Replicas: number } };
  EndpointSpec?: { Mode: 'dnsrr' | 'vip'; Ports?: { Protocol: 'tcp'; TargetPort: number; PublishedPort?: number; PublishMode: 'host' | 'ingress' }[] };
  [k: string]: unknown;
}

export interface SwarmTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  CreatedAt: string;
  DesiredState: string;
  Status: {
    State: string;
    Err?: string;
    Message?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number; PID?: number };
    PortStatus?: { Ports?: { TargetPort: number; PublishedPort?: number; PublishMode?: string }[] };
  };
}

export interface SwarmNodeView {
  ID: string;
  Description?: { Hostname?: string; Resources?: { NanoCPUs?: number; MemoryBytes?: number } };
  Status: { State: string; Addr?: string };
  Spec?: { Labels?: Record<string, string>; Availability?: string; Role?: string };
  ManagerStatus?: { Leader?: boolean; Addr?: string; Reachability?: string };
}

/** Where an instance's containers run and how the nodes pull its image. */
export interface SwarmPlacement {
  /** `node.labels.zone==edge`, … (Swarm's constraint syntax) */
  constraints?: string[];
  /** spread over the values of these descriptors (`node.labels.zone`) */
  spread?: string[];
}

export interface ServiceSpecInput {
  id: string;
  spec: InstanceSpec;
  owner: string;
  /** `HOST:PORT/repo@sha256:…`: the image as the nodes pull it */
  image: string;
  /** grace swarm gives the process when it scales the service to zero (a stop without a node engine) */
  stopGraceMs: number;
  placement?: SwarmPlacement;
  /** share of the CPU limit reserved on the node (memory is reserved whole) */
  cpuReservation: number;
  /** Docker bind mounts (volumes on the Skiff node) */
  binds?: { Source: string; Target: string; ReadOnly: boolean }[];
}

/** A Swarm service name (≤ 63 characters): the instance id, or for a longer id its start and a hash. */
export function serviceName(id: string, hash: (s: string) => string): string {
  return id.length <= 63 ? id : `${id.slice(0, 50)}-${hash(id).slice(0, 12)}`;
}

export function serviceSpec(i: ServiceSpecInput, name: string): ServiceSpecBody {
  const { spec } = i;
  const labels: Record<string, string> = {
    [LABEL.instance]: i.id,
    [LABEL.owner]: i.owner,
    [LABEL.service]: spec.service,
    ...(spec.revision !== undefined ? { [LABEL.revision]: spec.revision } : {}),
    ...(spec.logGroup !== undefined ? { [LABEL.logGroup]: spec.logGroup } : {}),
    ...(spec.port !== undefined ? { [LABEL.port]: String(spec.port) } : {}),
  };
  const env = [...Object.entries(spec.env).map(([k, v]) => `${k}=${v}`), ...(spec.port !== undefined ? [`PORT=${spec.port}`] : [])];
  const nanoCpus = Math.round(spec.limits.cpus * 1e9);
  return {
    Name: name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: i.image,
        Labels: { [LABEL.instance]: i.id, [LABEL.owner]: i.owner },
        // Kubernetes' rules, as the runc driver: command replaces the entrypoint (and drops cmd)
        ...(spec.command !== undefined ? { Command: spec.command, Args: spec.args ?? [] } : spec.args !== undefined ? { Args: spec.args } : {}),
        Env: env,
        Hostname: spec.service.slice(0, 63),
        ReadOnly: spec.readOnlyRoot,
        // docker-init as PID 1: an app that ignores SIGTERM as PID 1 (busybox httpd) still stops
        Init: true,
        // Skiff's readiness and liveness probes are the health check (the scheduler's, through the
        // instance's address, as on runc); the image's HEALTHCHECK is off, so Swarm never ends an
        // instance the gateway routes to on a verdict Skiff did not make
        Healthcheck: { Test: ['NONE'] },
        StopGracePeriod: Math.max(0, Math.round(i.stopGraceMs)) * 1e6,
        // Docker's default set minus NET_RAW, as the runc driver's (core/capabilities.ts): raw packets
        // and forged ARP on a node's bridge only for a service that asks
        ...(spec.capabilities?.length ? { CapabilityAdd: spec.capabilities.map((c) => `CAP_${c}`) } : {}),
        ...(spec.capabilities?.includes('NET_RAW') ? {} : { CapabilityDrop: ['CAP_NET_RAW'] }),
        ...(i.binds?.length ? { Mounts: i.binds.map((b) => ({ Type: 'bind', Source: b.Source, Target: b.Target, ReadOnly: b.ReadOnly })) } : {}),
      },
      Resources: {
        Limits: { NanoCPUs: nanoCpus, MemoryBytes: spec.limits.memoryBytes, Pids: spec.limits.pids },
        // memory is reserved whole (it cannot be taken back but by the OOM killer); CPU, which time
        // slices share, in part: an instance mostly idles between requests, and reserving its whole
        // limit would fit 2 one-CPU instances on a 2-core node
        Reservations: { NanoCPUs: Math.round(nanoCpus * i.cpuReservation), MemoryBytes: spec.limits.memoryBytes },
      },
      RestartPolicy: { Condition: 'none', MaxAttempts: 0 },
      // the node keeps at most 30 MB of an instance's output (Skiff copies it into its own archive at delete)
      LogDriver: { Name: 'json-file', Options: { 'max-size': '10m', 'max-file': '3' } },
      Placement: {
        ...(i.placement?.constraints?.length ? { Constraints: i.placement.constraints } : {}),
        ...(i.placement?.spread?.length ? { Preferences: i.placement.spread.map((d) => ({ Spread: { SpreadDescriptor: d } })) } : {}),
      },
    },
    Mode: { Replicated: { Replicas: 0 } },
    EndpointSpec: {
      Mode: 'dnsrr',
      ...(spec.port !== undefined ? { Ports: [{ Protocol: 'tcp', TargetPort: spec.port, PublishMode: 'host' }] } : {}),
    },
  };
}

const STARTING = new Set(['new', 'allocated', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting']);
const ENDED = new Set(['complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned']);

/** The task that is the instance: the newest (there is one with restart policy none; an update can leave two). */
export function currentTask(tasks: readonly SwarmTask[]): SwarmTask | undefined {
  return [...tasks].sort((a, b) => b.CreatedAt.localeCompare(a.CreatedAt))[0];
}

/** How an ended task ended. A 128+N exit of a task Skiff stopped is death by signal N (the init's
 *  convention); the same code from a process that exited on its own is its exit code. */
export function exitOf(task: SwarmTask, stoppedBySkiff: boolean, nodeDown: string | undefined): ExitReason {
  const code = task.Status.ContainerStatus?.ExitCode;
  // on a node that is down, whatever its task says last (running, failed, orphaned) it went with the
  // node, unless it had completed on its own; `orphaned` is Swarm's word for exactly that
  if (nodeDown !== undefined && task.Status.State !== 'complete') return { reason: 'signalled', signal: 9, nodeLost: nodeDown };
  if (task.Status.State === 'orphaned') return { reason: 'signalled', signal: 9, nodeLost: task.NodeID ?? 'unknown' };
  if (code === undefined || (code === 0 && task.Status.State !== 'complete' && !stoppedBySkiff && task.Status.State !== 'shutdown')) {
    // never ran (rejected: the image could not be pulled, no node fits…): no process exit to report
    return { reason: 'exited', exitCode: code && code !== 0 ? code : 128 };
  }
  if (stoppedBySkiff && code > 128 && code <= 128 + 64) return { reason: 'signalled', signal: code - 128 };
  return { reason: 'exited', exitCode: code };
}

export interface InfoInput {
  service: SwarmService;
  task: SwarmTask | undefined;
  /** the node the task is on, when known */
  node: SwarmNodeView | undefined;
  stoppedBySkiff: boolean;
  paused: boolean;
}

/** The instance as the port describes it, from its service, task and node. */
export function infoOf(i: InfoInput): InstanceInfo {
  const labels = i.service.Spec.Labels;
  const id = labels[LABEL.instance]!;
  const base = { id, service: labels[LABEL.service] ?? '', revision: labels[LABEL.revision] ?? (labels[LABEL.logGroup] || !labels[LABEL.port] ? '' : revisionOfInstance(id)) };
  const stopped = labels[LABEL.stopped];
  if (stopped) return { ...base, status: 'stopped', exit: JSON.parse(stopped) as ExitReason };
  const t = i.task;
  if (!t) return { ...base, status: 'created' };
  // only `down` is down: after a manager restart or a leader change every node is `unknown` until its
  // next heartbeat, and its instances still run (treating that as death would replace the fleet)
  const nodeDown = i.node !== undefined && i.node.Status.State === 'down';
  const state = t.Status.State;
  if (state === 'running' && !nodeDown && t.DesiredState === 'running') {
    const address = addressOf(t, i.node);
    const status: InstanceStatus = i.paused ? 'paused' : 'running';
    return { ...base, status, ...(address ? { address } : {}) };
  }
  if (STARTING.has(state) && !nodeDown && t.DesiredState === 'running') return { ...base, status: 'created' };
  return { ...base, status: 'stopped', exit: exitOf(t, i.stoppedBySkiff || t.DesiredState !== 'running', nodeDown ? (i.node?.Description?.Hostname ?? i.node?.ID) : undefined) };
}

/** `<node address>:<published port>`; a one-off run publishes none: port 0. */
export function addressOf(task: SwarmTask, node: SwarmNodeView | undefined): InstanceAddress | undefined {
  const host = node?.Status.Addr;
  if (!host) return undefined;
  const published = task.Status.PortStatus?.Ports?.find((p) => p.PublishedPort)?.PublishedPort;
  const name = node?.Description?.Hostname;
  return { host, port: published ?? 0, ...(name ? { node: name } : {}) };
}

/** Whether a task has ended or will never run. */
export function taskEnded(task: SwarmTask): boolean {
  return ENDED.has(task.Status.State);
}

/** Docker's RFC 3339 nano timestamp → ISO with milliseconds (LogLine.time). */
export function isoMillis(ts: string): string {
  const d = new Date(ts.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(d.getTime()) ? new Date().toISOString() : d.toISOString();
}

/** X-Registry-Auth: the credentials nodes pull with, as JSON in URL-safe base64 *with* padding (Go's
 *  base64.URLEncoding; Node's 'base64url' drops the padding, and the engine then pulls anonymously). */
export function registryAuthHeader(auth: { username: string; password: string; serveraddress: string }): string {
  return Buffer.from(JSON.stringify(auth)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}
