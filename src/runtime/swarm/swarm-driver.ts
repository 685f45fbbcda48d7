// runtime/swarm/swarm-driver: the instance-driver port on Docker Swarm. Skiff talks to a swarm
// manager's Engine API; the swarm places each instance (one service, one replica at most: service-
// spec.ts) on a node, which pulls the image from Skiff's own registry. What Swarm has no API for —
// freezing a container, its CPU time and memory, the sockets it listens on, a stop with a chosen grace —
// goes to the node's own engine when Skiff is given it (`nodes`: hostname → docker host); without it
// pause/resume are UNSUPPORTED (the scheduler stops instead of freezing), stats and listening unknown,
// and a stop gives the process the grace the service was created with.
//
// An instance's output is read from its task through the manager while the service exists; at delete
// it is copied into the same log archive the runc driver keeps (runc/log-archive.ts), so `skiff logs`
// of a scaled-to-zero or crashed instance works the same on both drivers.
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { SkiffError } from '../../core/errors.ts';
import type {
  ExitReason, InstanceAddress, InstanceDriver, InstanceInfo, InstanceSpec, InstanceStats, ListeningSocket, LogLine, PastInstance,
} from '../../core/instance.ts';
import type { Logger } from '../../core/logger.ts';
import type { NodeInventory, NodeView } from '../../core/nodes.ts';
import { assertInstanceId, isInstanceId, pinnedReference } from '../../core/names.ts';
import type { PinnedImage } from '../../core/service.ts';
import { assertMountTarget, isVolumeName } from '../../core/volumes.ts';
import { findExecutable, imagePaths } from '../../images/file-index.ts';
import { DEFAULT_PLATFORM, resolveImage, type ImageConfig } from '../../images/image-config.ts';
import type { BlobSource, ManifestSource } from '../../images/ports.ts';
import { parseProcNetTcp } from '../network/listening.ts';
import { isLogGroup, type LogArchive } from '../runc/log-archive.ts';
import { Engine, EngineError, demux } from './engine.ts';
import {
  LABEL, currentTask, infoOf, isoMillis, registryAuthHeader, serviceName, serviceSpec, taskEnded,
  type SwarmNodeView, type SwarmPlacement, type SwarmService, type SwarmTask,
} from './service-spec.ts';

export interface SwarmDriverOptions {
  /** the manager's Engine API */
  manager: Engine;
  /** node hostname → that node's own Engine API (optional, per node) */
  nodes?: Map<string, Engine>;
  /** labels every instance with it: this daemon's instances only are listed and adopted */
  owner: string;
  images: ManifestSource & BlobSource;
  /** HOST:PORT of Skiff's registry as the nodes reach it (asked at each use: the daemon knows its
   *  port once it listens) */
  registry: () => string;
  /** what the nodes pull with (a pull token of every project); none: anonymous */
  registryAuth?: { username: string; password: string };
  logArchive: LogArchive;
  /** persistent volumes on the Skiff node; an instance that mounts one is placed on `volumeNode` */
  volumes?: { hostPath(volume: string): Promise<string> };
  /** the node (hostname) that holds the volumes: Skiff's own */
  volumeNode?: string;
  /** grace of a stop that no node engine carries out (the service's stop grace period) */
  defaultStopGraceMs?: number;
  /** share of an instance's CPU limit reserved on its node (default 0.25) */
  cpuReservation?: number;
  placement?: SwarmPlacement;
  logger?: Logger;
  /** how often a start or watch polls the task (ms) */
  pollMs?: number;
}

const DEFAULT_GRACE_MS = 10_000;
const START_TIMEOUT_MS = 120_000;
/** how long a task may stay pending with a scheduling error (no node fits) before the start fails:
 *  long enough for a node that is joining or coming back */
const UNPLACEABLE_MS = 3000;

interface Found {
  service: SwarmService;
  task: SwarmTask | undefined;
  node: SwarmNodeView | undefined;
}

export class SwarmInstanceDriver implements InstanceDriver, NodeInventory {
  private readonly creates = new Map<string, Promise<unknown>>();
  /** instances this driver stopped (a 128+N exit is then death by signal N) */
  private readonly stopping = new Set<string>();
  private readonly paused = new Set<string>();
  private readonly prepared = new Set<string>();
  /** watch() callers by instance, each with the poll it began under: one poll of the swarm answers
   *  them all, but only a poll begun after a waiter came (an older one may predate its service) */
  private readonly waiters = new Map<string, Set<{ resolve: (exit: ExitReason | undefined) => void; poll: number }>>();
  private polling = false;
  private polls = 0;
  private readonly configs = new Map<string, Promise<ImageConfig>>();
  private readonly pathIndex = new Map<string, Promise<Set<string>>>();
  private nodesCache: { at: number; nodes: Map<string, SwarmNodeView> } | undefined;
  private readonly poll: number;

  constructor(private readonly o: SwarmDriverOptions) {
    this.poll = o.pollMs ?? 100;
  }

  private get m(): Engine {
    return this.o.manager;
  }

  private authHeaders(): Record<string, string> {
    const a = this.o.registryAuth;
    return a ? { 'X-Registry-Auth': registryAuthHeader({ ...a, serveraddress: this.o.registry() }) } : {};
  }

  private imageRef(image: PinnedImage): string {
    return `${this.o.registry()}/${image.repository}@${image.digest}`;
  }

  private config(image: PinnedImage): Promise<ImageConfig> {
    const key = pinnedReference(image);
    let p = this.configs.get(key);
    if (!p) {
      p = resolveImage(this.o.images, image.repository, image.digest, DEFAULT_PLATFORM);
      p.catch(() => this.configs.delete(key));
      if (this.configs.size >= 256) this.configs.delete(this.configs.keys().next().value!);
      this.configs.set(key, p);
    }
    return p;
  }

  private paths(config: ImageConfig): Promise<Set<string>> {
    let p = this.pathIndex.get(config.manifestDigest);
    if (!p) {
      p = imagePaths(this.o.images, config.layers.map((l) => l.digest));
      p.catch(() => this.pathIndex.delete(config.manifestDigest));
      // a few images' indexes at most: they are only needed while an image's instances are created
      if (this.pathIndex.size >= 16) this.pathIndex.delete(this.pathIndex.keys().next().value!);
      this.pathIndex.set(config.manifestDigest, p);
    }
    return p;
  }

  // ---- swarm objects ------------------------------------------------------------------------------

  private async swarmNodes(fresh = false): Promise<Map<string, SwarmNodeView>> {
    if (!fresh && this.nodesCache && Date.now() - this.nodesCache.at < 1000) return this.nodesCache.nodes;
    const list = await this.m.call<SwarmNodeView[]>('GET', '/nodes');
    const nodes = new Map(list.map((n) => [n.ID, n]));
    this.nodesCache = { at: Date.now(), nodes };
    return nodes;
  }

  private async services(id?: string): Promise<SwarmService[]> {
    const label = [`${LABEL.owner}=${this.o.owner}`, ...(id ? [`${LABEL.instance}=${id}`] : [])];
    return this.m.call<SwarmService[]>('GET', '/services', { query: { filters: JSON.stringify({ label }) } });
  }

  private async find(id: string): Promise<Found | undefined> {
    if (!isInstanceId(id)) return undefined;
    const [service] = await this.services(id);
    if (!service) return undefined;
    const tasks = await this.m.call<SwarmTask[]>('GET', '/tasks', { query: { filters: JSON.stringify({ service: [service.ID] }) } });
    const task = currentTask(tasks);
    const node = task?.NodeID ? (await this.swarmNodes()).get(task.NodeID) ?? (await this.swarmNodes(true)).get(task.NodeID) : undefined;
    return { service, task, node };
  }

  private infoOf(id: string, f: Found): InstanceInfo {
    return infoOf({ ...f, stoppedBySkiff: this.stopping.has(id), paused: this.paused.has(id) });
  }

  /** The node's own engine and the task's container, for what only a node can do. */
  private containerOf(f: Found): { engine: Engine; container: string } | undefined {
    const host = f.node?.Description?.Hostname;
    const engine = host ? this.o.nodes?.get(host) : undefined;
    const container = f.task?.Status.ContainerStatus?.ContainerID;
    return engine && container ? { engine, container } : undefined;
  }

  /** Sets the replica count (0 or 1), retrying when the service changed under us (version conflict). */
  private async scale(service: SwarmService, replicas: number, labels?: Record<string, string>): Promise<void> {
    let s = service;
    for (let attempt = 0; ; attempt++) {
      const spec = { ...s.Spec, Mode: { Replicated: { Replicas: replicas } }, ...(labels ? { Labels: { ...s.Spec.Labels, ...labels } } : {}) };
      try {
        await this.m.call('POST', `/services/${s.ID}/update`, { query: { version: s.Version.Index }, body: spec, headers: this.authHeaders() });
        return;
      } catch (err) {
        if (attempt >= 5 || !/out of sequence|update out of sequence/i.test((err as Error).message)) throw err;
        await pause(50 * (attempt + 1));
        s = await this.m.call<SwarmService>('GET', `/services/${s.ID}`);
        // what changed it may have decided otherwise: a start never undoes a stop
        if (replicas > 0 && (s.Spec.Labels[LABEL.stopped] || s.Spec.Mode.Replicated.Replicas > 0)) throw new SkiffError('CONFLICT', `instance ${s.Spec.Labels[LABEL.instance]} was stopped or started meanwhile`);
        if (s.Spec.Mode.Replicated.Replicas === replicas && !labels) return;
      }
    }
  }

  // ---- the port -----------------------------------------------------------------------------------

  async prepare(image: PinnedImage): Promise<{ total: number; unpacked: number }> {
    const config = await this.config(image);
    const total = config.layers.length;
    const key = pinnedReference(image);
    // with node engines: pull on every ready node now, so no instance waits for it
    const engines = [...(await this.nodeEngines()).values()];
    if (engines.length > 0) {
      let pulled = 0;
      const ref = this.imageRef(image);
      const failed = (
        await Promise.all(
          engines.map(async (e) => {
            const have = await e.call('GET', `/images/${encodeURIComponent(ref)}/json`).then(() => true, () => false);
            if (have) return undefined;
            return this.pull(e, ref).then(() => void pulled++, (err: Error) => err);
          }),
        )
      ).filter((e): e is Error => e !== undefined);
      // no node can run it: the cause is known now (a certificate, credentials), not at the first start
      if (failed.length === engines.length) throw failed[0]!;
      for (const err of failed) this.o.logger?.warn({ err, image: ref }, 'a node could not pull an image; its instances run on the others');
      this.remember(key);
      return { total, unpacked: pulled > 0 ? total : 0 };
    }
    const first = !this.prepared.has(key);
    this.remember(key);
    return { total, unpacked: first ? total : 0 };
  }

  private remember(key: string): void {
    if (this.prepared.size >= 4096) this.prepared.delete(this.prepared.values().next().value!);
    this.prepared.add(key);
  }

  /** The engines of the ready nodes Skiff was given. */
  private async nodeEngines(): Promise<Map<string, Engine>> {
    const out = new Map<string, Engine>();
    if (!this.o.nodes?.size) return out;
    for (const n of (await this.swarmNodes(true)).values()) {
      const host = n.Description?.Hostname;
      const e = host ? this.o.nodes.get(host) : undefined;
      if (e && n.Status.State === 'ready' && n.Spec?.Availability !== 'drain') out.set(host!, e);
    }
    return out;
  }

  private async pull(e: Engine, ref: string): Promise<void> {
    const at = ref.lastIndexOf('@');
    // idle timeout: a pull prints progress all along; one that goes quiet for a minute is stuck
    const res = await e.open('POST', '/images/create', { query: { fromImage: ref.slice(0, at), tag: ref.slice(at + 1) }, headers: this.authHeaders(), timeoutMs: 60_000 });
    // the answer is a stream of JSON progress messages; an error is one of them, with status 200
    let text = '';
    for await (const c of res) text += (c as Buffer).toString();
    const failed = text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => { try { return JSON.parse(l) as { error?: string }; } catch { return {}; } }).find((m) => m.error);
    if ((res.statusCode ?? 500) >= 300 || failed) throw new SkiffError('UNAVAILABLE', `node ${e.address} could not pull ${ref}: ${failed?.error ?? text.slice(0, 300)}`);
  }

  create(id: string, spec: InstanceSpec): Promise<void> {
    if (this.creates.has(id)) return Promise.reject(new SkiffError('CONFLICT', `instance ${id} already exists`));
    const p = this.createNow(id, spec);
    this.creates.set(id, p.catch(() => undefined).finally(() => this.creates.delete(id)));
    return p;
  }

  private async createNow(id: string, spec: InstanceSpec): Promise<void> {
    assertInstanceId(id);
    if (spec.logGroup !== undefined && !isLogGroup(spec.logGroup)) throw new SkiffError('BAD_REQUEST', `invalid log group ${JSON.stringify(spec.logGroup.slice(0, 80))}`);
    if (spec.devices?.length || spec.gpus) throw new SkiffError('DEVICE_REFUSED', 'devices and GPUs are passed through by the runc driver only: the swarm driver cannot name a node\'s devices');
    if (spec.secrets && (Object.keys(spec.secrets.env).length || spec.secrets.mounts.length)) {
      // Swarm keeps a service's environment in its Raft log on the managers' disks
      throw new SkiffError('BAD_REQUEST', 'secrets need the runc driver: the swarm driver would store their values in the swarm\'s Raft log on disk');
    }
    const binds = await this.binds(spec);
    if ((await this.services(id)).length > 0) throw new SkiffError('CONFLICT', `instance ${id} already exists`);
    const config = await this.config(spec.image);
    const argv = spec.command !== undefined ? [...spec.command, ...(spec.args ?? [])] : [...config.entrypoint, ...(spec.args ?? config.cmd)];
    if (argv.length === 0) throw new SkiffError('IMAGE_INVALID', `image ${pinnedReference(spec.image)} has no entrypoint or cmd and no command was given`);
    const exe = findExecutable(await this.paths(config), argv[0]!, config.env, path.posix.resolve('/', config.workingDir || '/'));
    if (!exe) throw new SkiffError('BAD_REQUEST', `image ${pinnedReference(spec.image)} has no executable ${JSON.stringify(argv[0])} (the command would fail on the node)`);
    // the node-wide constraints, the service's own (--placement, --spread), and the volumes' node
    const constraints = [...(this.o.placement?.constraints ?? []), ...(spec.placement?.constraints ?? []), ...(binds.length && this.o.volumeNode ? [`node.hostname==${this.o.volumeNode}`] : [])];
    const spread = [...(this.o.placement?.spread ?? []), ...(spec.placement?.spread ?? [])];
    const body = serviceSpec(
      { id, spec, owner: this.o.owner, image: this.imageRef(spec.image), stopGraceMs: this.o.defaultStopGraceMs ?? DEFAULT_GRACE_MS, cpuReservation: this.o.cpuReservation ?? 0.25, placement: { constraints, spread }, binds },
      serviceName(id, (s) => createHash('sha256').update(s).digest('hex')),
    );
    try {
      await this.m.call('POST', '/services/create', { body, headers: this.authHeaders() });
    } catch (err) {
      if ((err as SkiffError).code === 'CONFLICT') throw new SkiffError('CONFLICT', `instance ${id} already exists`);
      // a timeout or a cut connection: the manager may have made it anyway; nothing of it may stay
      if (!(err instanceof EngineError) || err.httpStatus >= 500) await this.removeServices(id).catch((cleanup: unknown) => this.o.logger?.warn({ err: cleanup, instance: id }, 'could not remove what a failed create may have left'));
      throw err;
    }
  }

  private async removeServices(id: string): Promise<void> {
    for (const s of await this.services(id)) {
      await this.m.call('DELETE', `/services/${s.ID}`).catch((err: SkiffError) => {
        if (err.code !== 'NOT_FOUND') throw err;
      });
    }
  }

  private async binds(spec: InstanceSpec): Promise<{ Source: string; Target: string; ReadOnly: boolean }[]> {
    const out: { Source: string; Target: string; ReadOnly: boolean }[] = [];
    const seen = new Set<string>();
    for (const [i, m] of (spec.mounts ?? []).entries()) {
      const target = assertMountTarget(m.target, `mounts[${i}].target`);
      if (seen.has(target)) throw new SkiffError('BAD_REQUEST', `mounts[${i}].target: ${target} is mounted twice`);
      seen.add(target);
      if (!isVolumeName(m.volume)) throw new SkiffError('BAD_REQUEST', `mounts[${i}].volume: invalid volume name ${JSON.stringify(m.volume.slice(0, 80))}`);
      if (!this.o.volumes) throw new SkiffError('BAD_REQUEST', 'this swarm driver has no volumes: an instance cannot mount one');
      // the bind source is a path on the volumes' node: without knowing which node that is, a path
      // on whatever node the task lands on would be mounted
      if (!this.o.volumeNode) throw new SkiffError('BAD_REQUEST', 'volumes on a swarm need runtime.swarm.volumeNode (the node that holds them) when Skiff does not run on the manager');
      out.push({ Source: await this.o.volumes.hostPath(m.volume), Target: target, ReadOnly: m.readOnly });
    }
    return out;
  }

  async start(id: string): Promise<InstanceAddress> {
    const f = await this.find(id);
    if (!f) throw new SkiffError('NOT_FOUND', `instance ${id} does not exist`);
    if (f.service.Spec.Mode.Replicated.Replicas > 0 || f.task || f.service.Spec.Labels[LABEL.stopped]) throw new SkiffError('CONFLICT', `instance ${id} was started already`);
    try {
      await this.scale(f.service, 1);
      return await this.untilRunning(id);
    } catch (err) {
      await this.delete(id).catch((cleanup: unknown) => this.o.logger?.warn({ err: cleanup, instance: id }, 'could not remove an instance that failed to start'));
      throw err;
    }
  }

  /** Polls the task until it runs (its address), or fails with what the swarm said. */
  private async untilRunning(id: string): Promise<InstanceAddress> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let last = '';
    let unplaceableSince: number | undefined;
    while (Date.now() < deadline) {
      // a manager error (a leader election: "swarm does not have a leader") passes; the deadline bounds it
      const f = await this.find(id).catch((err: Error) => {
        last = err.message;
        return null;
      });
      if (f === null) {
        await pause(Math.max(this.poll, 500));
        continue;
      }
      if (!f) throw new SkiffError('NOT_FOUND', `instance ${id} was deleted while it started`);
      const t = f.task;
      if (!t && (f.service.Spec.Labels[LABEL.stopped] || f.service.Spec.Mode.Replicated.Replicas === 0)) {
        throw new SkiffError('CONFLICT', `instance ${id} was stopped while it started`);
      }
      if (t) {
        last = `${t.Status.State}${t.Status.Err ? `: ${t.Status.Err}` : t.Status.Message ? ` (${t.Status.Message})` : ''}`;
        const info = this.infoOf(id, f);
        if (info.status === 'running' && info.address) return info.address;
        // no node fits (constraints, resources): Swarm keeps it pending for ever; the cause is known, say it
        if (t.Status.State === 'pending' && t.Status.Err) {
          unplaceableSince ??= Date.now();
          if (Date.now() - unplaceableSince > UNPLACEABLE_MS) throw new SkiffError('UNAVAILABLE', `instance ${id} cannot be placed on the swarm: ${t.Status.Err}`);
        } else unplaceableSince = undefined;
        if (info.status === 'stopped') {
          // it ran and ended before we looked: the port says start resolves once the process ran
          if (ranToExit(t)) return info.address ?? { host: f.node?.Status.Addr ?? '', port: 0 };
          throw new SkiffError('UNAVAILABLE', `instance ${id} did not start on the swarm: ${last}`);
        }
      }
      await pause(this.poll);
    }
    throw new SkiffError('UNAVAILABLE', `instance ${id} did not start on the swarm within ${START_TIMEOUT_MS / 1000} s (task ${last || 'not scheduled'})`);
  }

  async pause(id: string): Promise<void> {
    const f = await this.find(id);
    if (!f || this.infoOf(id, f).status === 'stopped') throw new SkiffError('NOT_FOUND', `instance ${id} is not running`);
    const c = this.containerOf(f);
    if (!c) throw new SkiffError('UNSUPPORTED', `instance ${id}: freezing needs its node's Docker Engine (runtime.swarm.nodes), which Skiff was not given`);
    await c.engine.call('POST', `/containers/${c.container}/pause`);
    this.paused.add(id);
  }

  async resume(id: string): Promise<void> {
    const f = await this.find(id);
    if (!f || this.infoOf(id, f).status === 'stopped') throw new SkiffError('NOT_FOUND', `instance ${id} is not running`);
    const c = this.containerOf(f);
    if (!c) throw new SkiffError('UNSUPPORTED', `instance ${id}: thawing needs its node's Docker Engine (runtime.swarm.nodes), which Skiff was not given`);
    await c.engine.call('POST', `/containers/${c.container}/unpause`).catch((err: SkiffError) => {
      if (!/is not paused/.test(err.message)) throw err;
    });
    this.paused.delete(id);
  }

  async stop(id: string, graceMs: number): Promise<void> {
    // a manager that does not answer is an error: "stopped" would be a lie the scheduler acts on
    const f = await this.find(id);
    if (!f) return;
    const info = this.infoOf(id, f);
    if (info.status === 'stopped') return;
    if (!f.task) {
      // created, never started: it ends at once, as a process killed before it ran
      await this.scale(f.service, 0, { [LABEL.stopped]: JSON.stringify({ reason: 'signalled', signal: 9 } satisfies ExitReason) });
      return;
    }
    this.stopping.add(id);
    const c = this.containerOf(f);
    if (c && f.task.Status.State === 'running') {
      if (this.paused.has(id)) await c.engine.call('POST', `/containers/${c.container}/unpause`).catch(() => undefined);
      // Docker's stop takes whole seconds: the grace is rounded up, never shortened
      const stopped = await c.engine.call('POST', `/containers/${c.container}/stop`, { query: { t: Math.ceil(graceMs / 1000) }, timeoutMs: graceMs + 60_000 }).then(
        () => true,
        (err: SkiffError) => err.code === 'NOT_FOUND',
      );
      // the node's engine does not answer: Swarm stops it (with the service's grace)
      if (!stopped) await this.scale(f.service, 0);
    } else {
      await this.scale(f.service, 0);
    }
    this.paused.delete(id);
    await this.watch(id);
  }

  async delete(id: string): Promise<void> {
    if (!isInstanceId(id)) return;
    await this.creates.get(id);
    const f = await this.find(id);
    this.stopping.delete(id);
    this.paused.delete(id);
    if (!f) return;
    const labels = f.service.Spec.Labels;
    const group = labels[LABEL.logGroup] ?? (labels[LABEL.revision] ? labels[LABEL.service] : undefined);
    // a task on a node that is down has no output to read (the manager would wait for the node)
    const reachable = f.node?.Status.State !== 'down';
    if (group && f.task && reachable) await this.archive(id, f.task, group, labels[LABEL.revision] ?? '').catch((err: unknown) => this.o.logger?.warn({ instance: id, err }, 'could not keep the output of a deleted instance'));
    await this.m.call('DELETE', `/services/${f.service.ID}`).catch((err: SkiffError) => {
      if (err.code !== 'NOT_FOUND') throw err;
    });
    this.stopping.delete(id);
    this.paused.delete(id);
  }

  /** Copies a task's output into the log archive (log-file.ts format). */
  private async archive(id: string, task: SwarmTask, group: string, revision: string): Promise<void> {
    const dir = await this.o.logArchive.destination(id, group);
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    // streamed a line at a time: memory does not grow with the output (the nodes' json-file logs
    // are bounded by the service's log options, service-spec.ts)
    const out = createWriteStream(path.join(dir, 'output.log'), { mode: 0o600 });
    const closed = new Promise<void>((resolve, reject) => out.once('close', resolve).once('error', reject));
    try {
      for await (const l of this.taskLogs(task.ID)) {
        if (!out.write(`${l.time} ${l.stream} ${l.line}\n`)) await once(out, 'drain');
      }
    } finally {
      out.end();
      await closed;
    }
    await this.o.logArchive.kept(id, group, revision);
  }

  async inspect(id: string): Promise<InstanceInfo | undefined> {
    const f = await this.find(id);
    return f ? this.infoOf(id, f) : undefined;
  }

  /** Every instance of this owner with its task and node: three calls, whatever their number. */
  private async snapshot(): Promise<Map<string, Found>> {
    const services = await this.services();
    const out = new Map<string, Found>();
    if (services.length === 0) return out;
    // the nodes as fresh as the tasks: a task ended by its node's death must be seen with that death
    const [tasks, nodes] = await Promise.all([this.m.call<SwarmTask[]>('GET', '/tasks'), this.swarmNodes(true)]);
    const byService = new Map<string, SwarmTask[]>();
    for (const t of tasks) byService.set(t.ServiceID, [...(byService.get(t.ServiceID) ?? []), t]);
    for (const service of services) {
      const task = currentTask(byService.get(service.ID) ?? []);
      out.set(service.Spec.Labels[LABEL.instance]!, { service, task, node: task?.NodeID ? nodes.get(task.NodeID) : undefined });
    }
    return out;
  }

  async list(): Promise<InstanceInfo[]> {
    const found = await this.snapshot();
    return Promise.all(
      [...found].map(async ([id, f]) => {
        // a restarted daemon learns which instances are frozen from their nodes
        const c = this.containerOf(f);
        if (c && f.task?.Status.State === 'running') {
          const state = await c.engine.call<{ State?: { Paused?: boolean } }>('GET', `/containers/${c.container}/json`).catch(() => undefined);
          if (state?.State?.Paused) this.paused.add(id);
        }
        return this.infoOf(id, f);
      }),
    );
  }

  watch(id: string, signal?: AbortSignal): Promise<ExitReason | undefined> {
    if (!isInstanceId(id)) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiting = this.waiters.get(id) ?? new Set();
      const waiter = { resolve, poll: this.polls };
      waiting.add(waiter);
      this.waiters.set(id, waiting);
      signal?.addEventListener('abort', () => {
        waiting.delete(waiter);
        if (waiting.size === 0 && this.waiters.get(id) === waiting) this.waiters.delete(id);
        resolve(undefined);
      }, { once: true });
      void this.pollWatches();
    });
  }

  /** One loop for every watch(): a snapshot of the swarm each interval, each waiter answered from it;
   *  backs off while the manager fails (what it knows of the instances is then unknown, not ended). */
  private async pollWatches(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    let wait = Math.max(this.poll, 200);
    try {
      while (this.waiters.size > 0) {
        try {
          const poll = ++this.polls;
          const found = await this.snapshot();
          for (const [id, waiting] of [...this.waiters]) {
            const f = found.get(id);
            const info = f && this.infoOf(id, f);
            if (info && info.status !== 'stopped') continue;
            for (const w of [...waiting]) {
              if (w.poll >= poll) continue; // came while this poll ran: the next one answers it
              waiting.delete(w);
              w.resolve(info?.exit);
            }
            if (waiting.size === 0) this.waiters.delete(id);
          }
          wait = Math.max(this.poll, 200);
        } catch (err) {
          this.o.logger?.warn({ err }, 'the swarm manager did not answer; watching again later');
          wait = Math.min(wait * 2, 5000);
        }
        if (this.waiters.size > 0) await pause(wait);
      }
    } finally {
      this.polling = false;
      if (this.waiters.size > 0) void this.pollWatches();
    }
  }

  /** A task's output through the manager (the node must be up), oldest first. */
  private async *taskLogs(taskId: string, o: { tail?: number; follow?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<LogLine> {
    const res = await this.m.open('GET', `/tasks/${taskId}/logs`, {
      query: { stdout: 1, stderr: 1, timestamps: 1, follow: o.follow ? 1 : 0, tail: o.tail !== undefined ? o.tail : 'all' },
      ...(o.signal ? { signal: o.signal } : {}),
      // a finished read that goes quiet for 30 s is stuck (a node gone mid-read); a follow may idle
      ...(o.follow ? {} : { timeoutMs: 30_000 }),
    });
    if ((res.statusCode ?? 500) >= 300) {
      res.resume();
      return;
    }
    const rest = { stdout: '', stderr: '' };
    try {
      for await (const frame of demux(res)) {
        const text = rest[frame.stream] + frame.data.toString('utf8');
        const lines = text.split('\n');
        rest[frame.stream] = lines.pop()!;
        for (const raw of lines) yield lineOf(raw, frame.stream);
        // output without a newline: a line of its own past 64 KiB, not a buffer without bound
        if (rest[frame.stream].length > 65_536) {
          yield lineOf(rest[frame.stream], frame.stream);
          rest[frame.stream] = '';
        }
      }
    } catch (err) {
      // an aborted follow ends the response mid-stream (ECONNRESET "aborted"): that is its end
      if (o.signal?.aborted) return;
      throw err;
    }
    for (const s of ['stdout', 'stderr'] as const) if (rest[s]) yield lineOf(rest[s], s);
  }

  async *logs(id: string, opts: { tail?: number } = {}): AsyncIterable<LogLine> {
    const f = await this.find(id).catch(() => undefined);
    if (f?.task) {
      yield* this.taskLogs(f.task.ID, opts);
      return;
    }
    if (isInstanceId(id)) yield* this.o.logArchive.logs(id, opts.tail);
  }

  async *followLogs(id: string, signal: AbortSignal, opts: { tail?: number } = {}): AsyncIterable<LogLine> {
    let f = await this.find(id).catch(() => undefined);
    // a created instance: its task appears once it starts
    while (f && !f.task && !signal.aborted && this.infoOf(id, f).status === 'created') {
      await pause(this.poll);
      f = await this.find(id).catch(() => undefined);
    }
    if (!f?.task || signal.aborted) return;
    const task = f.task;
    // Swarm's follow does not end with the task: end it once the instance has ended, then read what
    // the follow had not delivered yet from the finished log.
    const ended = new AbortController();
    const onAbort = () => ended.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const watching = this.watch(id, ended.signal).then(() => setTimeout(() => ended.abort(), 300).unref());
    // where the follow got to: the last line's time and how many lines had that time
    let lastTime = '';
    let atLastTime = 0;
    try {
      for await (const l of this.taskLogs(task.ID, { ...opts, follow: true, signal: ended.signal })) {
        atLastTime = l.time === lastTime ? atLastTime + 1 : 1;
        lastTime = l.time;
        yield l;
      }
      if (signal.aborted) return;
      await watching;
      // the rest of the finished log: the lines after the follow's last (a tail would cut them off)
      let skip = atLastTime;
      for await (const l of this.taskLogs(task.ID)) {
        if (l.time < lastTime) continue;
        if (l.time === lastTime && skip > 0) {
          skip--;
          continue;
        }
        yield l;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      ended.abort();
    }
  }

  async stats(id: string): Promise<InstanceStats | undefined> {
    const f = await this.find(id).catch(() => undefined);
    if (!f || !['running', 'paused'].includes(this.infoOf(id, f).status)) return undefined;
    const c = this.containerOf(f);
    if (!c) return undefined;
    const s = await c.engine
      .call<{ cpu_stats?: { cpu_usage?: { total_usage?: number } }; memory_stats?: { usage?: number; stats?: Record<string, number> } }>('GET', `/containers/${c.container}/stats`, { query: { stream: false, 'one-shot': true } })
      .catch(() => undefined);
    const usage = s?.memory_stats?.usage;
    if (!s || usage === undefined) return undefined;
    const inactive = s.memory_stats?.stats?.total_inactive_file ?? s.memory_stats?.stats?.inactive_file ?? 0;
    return { cpuNanos: s.cpu_stats?.cpu_usage?.total_usage ?? 0, memoryBytes: usage, workingSetBytes: Math.max(0, usage - inactive) };
  }

  async listening(id: string): Promise<ListeningSocket[] | undefined> {
    const f = await this.find(id).catch(() => undefined);
    if (!f || this.infoOf(id, f).status !== 'running') return undefined;
    const c = this.containerOf(f);
    if (!c) return undefined;
    // the instance's own view of its network namespace, read by a `cat` in it (an image without one: unknown)
    const read = async (file: string): Promise<string | undefined> => {
      const exec = await c.engine.call<{ Id: string }>('POST', `/containers/${c.container}/exec`, { body: { Cmd: ['cat', file], AttachStdout: true, AttachStderr: false } });
      const res = await c.engine.open('POST', `/exec/${exec.Id}/start`, { body: { Detach: false, Tty: false } });
      let out = '';
      for await (const frame of demux(res)) if (frame.stream === 'stdout') out += frame.data.toString('utf8');
      const done = await c.engine.call<{ ExitCode: number | null }>('GET', `/exec/${exec.Id}/json`);
      return done.ExitCode === 0 ? out : undefined;
    };
    try {
      const [v4, v6] = await Promise.all([read('/proc/net/tcp'), read('/proc/net/tcp6')]);
      if (v4 === undefined) return undefined;
      return [...parseProcNetTcp(v4, 4), ...parseProcNetTcp(v6 ?? '', 6)];
    } catch {
      return undefined;
    }
  }

  /** The swarm's nodes, with what this daemon's instances there reserve and how many there are. */
  async nodes(): Promise<NodeView[]> {
    // the instances as every watch sees them (one task each); then every node, listed fresh by it
    const found = await this.snapshot();
    const nodes = await this.swarmNodes();
    const per = new Map<string, { cpus: number; memory: number; instances: number }>();
    for (const { service: s, task: t } of found.values()) {
      if (!t?.NodeID || t.DesiredState !== 'running' || taskEnded(t)) continue;
      const r = (s.Spec.TaskTemplate.Resources as { Reservations?: { NanoCPUs?: number; MemoryBytes?: number } } | undefined)?.Reservations;
      const p = per.get(t.NodeID) ?? { cpus: 0, memory: 0, instances: 0 };
      p.cpus += (r?.NanoCPUs ?? 0) / 1e9;
      p.memory += r?.MemoryBytes ?? 0;
      p.instances++;
      per.set(t.NodeID, p);
    }
    return [...nodes.values()]
      .map((n): NodeView => {
        const p = per.get(n.ID);
        return {
          name: n.Description?.Hostname ?? n.ID,
          role: n.Spec?.Role === 'manager' ? 'manager' : 'worker',
          state: n.Status.State,
          availability: n.Spec?.Availability ?? 'active',
          ...(n.Status.Addr ? { address: n.Status.Addr } : {}),
          labels: n.Spec?.Labels ?? {},
          cpus: (n.Description?.Resources?.NanoCPUs ?? 0) / 1e9,
          memoryBytes: n.Description?.Resources?.MemoryBytes ?? 0,
          reservedCpus: Math.round((p?.cpus ?? 0) * 1000) / 1000,
          reservedMemoryBytes: p?.memory ?? 0,
          instances: p?.instances ?? 0,
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async pastInstances(service: string): Promise<PastInstance[]> {
    return isLogGroup(service) ? this.o.logArchive.past(service) : [];
  }

  async forgetLogs(service: string): Promise<void> {
    await this.o.logArchive.forget(service);
  }
}

/** A poll's wait. Unreferenced: a watch of an instance that outlives its daemon (re-adopted by the
 *  next) must not keep a stopped daemon's process alive. */
function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** Whether an ended task's process ran (and exited), as opposed to never starting (no image, no such
 *  command, no node fits). */
function ranToExit(t: SwarmTask): boolean {
  return t.Status.State === 'complete' || (t.Status.ContainerStatus?.ExitCode !== undefined && /non-zero exit/.test(t.Status.Err ?? ''));
}

/** `2026-12-07T05:00:00.123456789Z text` → a LogLine. */
function lineOf(raw: string, stream: 'stdout' | 'stderr'): LogLine {
  const sp = raw.indexOf(' ');
  const ts = sp > 0 ? raw.slice(0, sp) : '';
  const ok = /^\d{4}-\d\d-\d\dT/.test(ts);
  return { time: ok ? isoMillis(ts) : new Date().toISOString(), stream, line: (ok ? raw.slice(sp + 1) : raw).replace(/\r$/, '') };
}
