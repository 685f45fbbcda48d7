// runtime/runc/driver: RuncRuntime, the runc driver's container layer (container-runtime.ts) on Debian's
// runc: one container on a host rootfs. create = address + netns + OCI bundle on disk plus `runc create`
// under a detached supervisor (supervisor.pl), so the container exists and waits; start = runc's start
// protocol on its exec FIFO (exec-fifo.ts), a millisecond or two. Images, rootfs and the driver-neutral
// port are instance-driver.ts's job.
// All state is on disk (layout.ts), so a restarted daemon constructing a driver on the same root
// re-adopts running instances: their supervisors kept logging and will record the exit.
import { listeningSockets } from '../network/listening.ts';
import type { ListeningSocket } from '../../core/instance.ts';
import { existsSync, promises as fsp, watch, type FSWatcher } from 'node:fs';
import { SkiffError } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/fsutil.ts';
import type { LogLine } from '../../core/instance.ts';
import { assertInstanceId, instanceCgroup, isInstanceId } from '../../core/names.ts';
import type { ContainerRuntime, ContainerSpec, ContainerState, ContainerStats, Lookup, StopResult, WaitResult } from './container-runtime.ts';
import { parseCidr, type Subnet } from '../network/allocator.ts';
import { ensureFirewall } from '../network/firewall.ts';
import { ensureAntiSpoof } from '../network/anti-spoof.ts';
import { attachInstance, detachInstance, ensureBridge, netnsPath } from '../network/host-network.ts';
import { Ipam } from '../network/ipam.ts';
import type { RuncInternalNetwork } from '../network/internal-names.ts';
import { buildOciConfig } from './bundle.ts';
import { mergeEnv } from './process.ts';
import path from 'node:path';
import { readStats, thaw } from './cgroup.ts';
import { startCreated } from './exec-fifo.ts';
import { exitReason, readExitRecord } from './exit.ts';
import { instancePaths, instancesDir, runcRoot } from './layout.ts';
import { followLogLines, readLogLines } from './log-file.ts';
import { RuncCli } from './runc-cli.ts';
import { alive, createUnderSupervisor, readPid, stopSupervisor } from './supervisor.ts';

/** the exit poll's longest interval (see wait) */
const MAX_POLL_MS = 5_000;

export interface RuncRuntimeOptions {
  /** state directory (layout.ts) */
  root: string;
  runc?: string;
  network: {
    bridge: string;
    cidr: string;
    chainPrefix: string;
    egress: boolean;
    /** where egress may leave; default: the interfaces holding the host's default routes */
    egressInterfaces?: string[];
    /** address reservations, shared by every driver on the same bridge; default /run/skiff/ipam/<bridge>
     *  (tmpfs, like the netns it pairs with: both vanish on reboot) */
    ipamDir?: string;
  };
  logs?: { maxBytes: number; keep: number };
  /** parent cgroup of every instance */
  cgroupParent?: string;
  /** host file bind-mounted read-only as /etc/resolv.conf */
  resolvConf?: string;
  /** service names: a container with a namespace gets its hosts file, and its address is registered */
  names?: RuncInternalNetwork;
}

interface InstanceRecord { spec: ContainerSpec; ip: string; cgroupsPath: string }

const START_TIMEOUT_MS = 15_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function createRuncRuntime(opts: RuncRuntimeOptions): Promise<RuncRuntime> {
  const subnet = parseCidr(opts.network.cidr);
  await ensureBridge({ bridge: opts.network.bridge, subnet, chainPrefix: opts.network.chainPrefix });
  await ensureFirewall({ ...opts.network, subnet });
  await ensureAntiSpoof(opts.network.chainPrefix);
  await fsp.mkdir(instancesDir(opts.root), { recursive: true });
  const runtime = new RuncRuntime(opts, subnet);
  await runtime.registerNames();
  return runtime;
}

export class RuncRuntime implements ContainerRuntime {
  private readonly runcBin: string;
  private readonly runc: RuncCli;
  private readonly ipam: Ipam;
  /** starts in flight, by id (delete waits for them), and deletes in flight (start refuses those) */
  private readonly starting = new Map<string, Promise<ContainerState>>();
  private readonly deleting = new Set<string>();

  constructor(private readonly opts: RuncRuntimeOptions, private readonly subnet: Subnet) {
    this.runcBin = opts.runc ?? '/usr/sbin/runc';
    this.runc = new RuncCli(this.runcBin, runcRoot(opts.root));
    this.ipam = new Ipam(opts.network.ipamDir ?? `/run/skiff/ipam/${opts.network.bridge}`, subnet);
  }

  /** The namespaces of the instances an earlier daemon left (re-adopted): their calls by name are
   *  recognised again. */
  async registerNames(): Promise<void> {
    if (!this.opts.names) return;
    const ids = await fsp.readdir(instancesDir(this.opts.root)).catch(() => [] as string[]);
    for (const id of ids.filter(isInstanceId)) {
      const rec = await this.record(id);
      if (rec?.spec.namespace !== undefined) this.opts.names.register(rec.ip, rec.spec.namespace);
    }
  }

  private bridgeConfig() {
    return { bridge: this.opts.network.bridge, subnet: this.subnet, chainPrefix: this.opts.network.chainPrefix };
  }

  private paths(id: string) {
    return instancePaths(this.opts.root, assertInstanceId(id));
  }

  private async record(id: string): Promise<InstanceRecord | undefined> {
    const text = await fsp.readFile(this.paths(id).record, 'utf8').catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as InstanceRecord);
  }

  private async mustRecord(id: string): Promise<InstanceRecord> {
    const rec = await this.record(id);
    if (!rec) throw new SkiffError('NOT_FOUND', `no instance ${id}`);
    return rec;
  }

  async create(spec: ContainerSpec): Promise<ContainerState> {
    const p = this.paths(spec.id);
    if (existsSync(p.dir)) throw new SkiffError('CONFLICT', `instance ${spec.id} already exists`);
    await fsp.mkdir(p.logs, { recursive: true });
    try {
      const ip = await this.ipam.reserve(spec.id);
      await attachInstance(this.bridgeConfig(), spec.id, ip);
      const cgroupsPath = instanceCgroup(this.opts.cgroupParent ?? '/skiff', spec.id);
      // An instance with secrets has its bundle (config.json holds the env values) on its private tmpfs,
      // and its record keeps the names of its secret env vars only: no value reaches persistent disk.
      const { secretEnv, ...kept } = spec;
      const env = secretEnv?.length ? mergeEnv(spec.env, secretEnv, spec.env.filter((e) => e.startsWith('PORT='))) : spec.env;
      const bundle = spec.privateDir ? path.join(spec.privateDir, 'bundle') : p.bundle;
      const names = spec.namespace !== undefined ? this.opts.names : undefined;
      const config = buildOciConfig({ ...kept, env, netnsPath: netnsPath(spec.id), cgroupsPath, resolvConf: this.opts.resolvConf, ...(names ? { hosts: names.hostsFile(spec.namespace!) } : {}) });
      await writeFileAtomic(`${bundle}/config.json`, JSON.stringify(config), 0o600);
      await createUnderSupervisor({ ...p, bundle }, {
        runc: this.runcBin, runcRoot: runcRoot(this.opts.root), id: spec.id, cgroupsPath,
        logMaxBytes: this.opts.logs?.maxBytes ?? 10 * 1024 * 1024, logKeep: this.opts.logs?.keep ?? 3,
      }, START_TIMEOUT_MS);
      const rec: InstanceRecord = { spec: { ...kept, ...(secretEnv ? { secretEnv: secretEnv.map((e) => e.split('=', 1)[0]! + '=') } : {}) }, ip, cgroupsPath };
      await writeFileAtomic(p.record, JSON.stringify(rec)); // last: its presence means "created"
      if (names) names.register(ip, spec.namespace!);
      return { id: spec.id, service: spec.service, status: 'created', ip };
    } catch (err) {
      await this.delete(spec.id).catch(() => undefined);
      throw err;
    }
  }

  async start(id: string): Promise<ContainerState> {
    // Registered before the first await: a delete arriving at any point of the start waits for it,
    // and a start arriving during a delete is refused (it would open a FIFO being removed).
    if (this.deleting.has(id)) throw new SkiffError('NOT_FOUND', `instance ${id} is being deleted`);
    const starting = this.startContainer(id);
    this.starting.set(id, starting);
    try {
      return await starting;
    } finally {
      if (this.starting.get(id) === starting) this.starting.delete(id);
    }
  }

  private async startContainer(id: string): Promise<ContainerState> {
    const rec = await this.mustRecord(id);
    const p = this.paths(id);
    // 'wx': exclusive, so two racing starts cannot both pass; no fsync — after a reboot the container
    // is gone anyway, and this is the request path.
    await fsp.writeFile(p.started, '', { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
      throw e.code === 'EEXIST' ? new SkiffError('CONFLICT', `instance ${id} was already started`) : e;
    });
    await startCreated(runcRoot(this.opts.root), id);
    // The hot path: no `runc state` here; the init (pid from create) has exec'd the process — which may
    // already have ended, as state() and wait() report from then on.
    return { id, service: rec.spec.service, status: 'running', ip: rec.ip, pid: await readPid(p.initPid) };
  }

  async state(id: string): Promise<Lookup<ContainerState>> {
    const rec = await this.record(id);
    if (!rec) return { found: false };
    const p = this.paths(id);
    const base = { id, service: rec.spec.service, ip: rec.ip };
    const exit = await readExitRecord(p.exit);
    if (exit) return { found: true, value: { ...base, status: 'stopped', exit: exitReason(exit) } };
    const supervisorPid = await readPid(p.supervisorPid);
    if (supervisorPid === undefined || !existsSync(p.started)) return { found: true, value: { ...base, status: 'created' } };
    const rs = await this.runc.state(id);
    if (rs && (rs.status === 'running' || rs.status === 'paused')) return { found: true, value: { ...base, status: rs.status, pid: rs.pid } };
    // Starting, or exited with the supervisor about to record it. Once the supervisor is gone its
    // record is final: read it again, since it may have been written after the first look.
    if (alive(supervisorPid)) return { found: true, value: { ...base, status: 'running' } };
    const late = await readExitRecord(p.exit);
    return { found: true, value: { ...base, status: 'stopped', exit: late && exitReason(late) } };
  }

  async wait(id: string, timeoutMs: number): Promise<WaitResult> {
    const p = this.paths(id);
    // The supervisor writes exit.json when the init ends: an inotify watch on the instance dir wakes
    // the wait at once, so the poll behind it only catches a supervisor that died without writing it
    // and backs off to 5 s: each poll costs ~0.5 ms of daemon CPU, and a node with 82 pre-created and
    // frozen instances spent 3 % of a core on 1 s polls (docs/benchmarks.md, density).
    let wake = (): void => {};
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(p.dir, () => wake());
      watcher.on('error', () => wake());
    } catch {
      /* the dir is gone: the checks below report it */
    }
    try {
      for (let delay = 25, deadline = Date.now() + timeoutMs; ; delay = Math.min(delay * 2, MAX_POLL_MS)) {
        // While the supervisor lives and no exit is recorded the instance has not stopped: checked with a
        // file read and kill(0), not `runc state` (an exec per check).
        const supervisorPid = await readPid(p.supervisorPid);
        if (supervisorPid !== undefined && alive(supervisorPid) && !existsSync(p.exit) && existsSync(p.record)) {
          const left = deadline - Date.now();
          if (left <= 0) return { outcome: 'timeout' as const };
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.min(delay, left));
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          continue;
        }
        const s = await this.state(id);
        if (!s.found) return { outcome: 'gone' as const };
        if (s.value.status === 'stopped') return s.value.exit ? { outcome: 'exited' as const, exit: s.value.exit } : { outcome: 'gone' as const };
        if (Date.now() >= deadline) return { outcome: 'timeout' as const };
        await sleep(25);
      }
    } finally {
      watcher?.close();
    }
  }

  async stop(id: string, graceMs: number): Promise<StopResult> {
    const s = await this.state(id);
    if (!s.found) throw new SkiffError('NOT_FOUND', `no instance ${id}`);
    if (s.value.status === 'stopped') return { stopped: 'already', exit: s.value.exit };
    if (s.value.status === 'created') {
      // The process never ran: nothing to be graceful with. The init blocked on the exec FIFO is killed
      // and the supervisor records it, so the container is 'stopped' like any other.
      await this.runc.kill(id, 'KILL');
      const killed = await this.wait(id, 10_000);
      return { stopped: 'killed', exit: killed.outcome === 'exited' ? killed.exit : undefined };
    }
    // Frozen tasks cannot act on signals; thawed first, since runc kill may itself thaw the cgroup
    // (and a resume after it then fails with "container not paused").
    if (s.value.status === 'paused') await this.runc.resume(id);
    await this.runc.kill(id, 'TERM');
    const graceful = await this.wait(id, graceMs);
    if (graceful.outcome === 'exited') return { stopped: 'gracefully', exit: graceful.exit };
    await this.runc.kill(id, 'KILL');
    const killed = await this.wait(id, 10_000);
    return { stopped: 'killed', exit: killed.outcome === 'exited' ? killed.exit : undefined };
  }

  async kill(id: string, signal: NodeJS.Signals): Promise<void> {
    await this.mustRecord(id);
    await this.runc.kill(id, signal);
  }

  async pause(id: string): Promise<void> {
    await this.mustRecord(id);
    await this.runc.pause(id);
  }

  async resume(id: string): Promise<void> {
    const rec = await this.mustRecord(id);
    await thaw(rec.cgroupsPath).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? new SkiffError('NOT_FOUND', `instance ${id} has no cgroup (not running)`) : err;
    });
  }

  async delete(id: string, opts: { keepLogsAt?: string } = {}): Promise<void> {
    const p = this.paths(id);
    // A start in flight settles first (within exec-fifo's guard when the init is gone): removing the
    // runc state under it would leave its open of the exec FIFO waiting forever, and a libuv thread with it.
    this.deleting.add(id);
    try {
      await this.starting.get(id)?.catch(() => undefined);
      await this.runc.delete(id);
      await stopSupervisor(p);
      const ip = (await this.record(id))?.ip ?? (await this.ipam.addressOf(id));
      if (ip !== undefined) this.opts.names?.unregister(ip);
      await detachInstance(this.bridgeConfig(), id, ip);
      await this.ipam.release(id);
      // the supervisor has ended: its log files are complete and may move (a rename, same filesystem)
      if (opts.keepLogsAt) await fsp.rename(p.logs, opts.keepLogsAt).catch(() => undefined);
      await fsp.rm(p.dir, { recursive: true, force: true });
    } finally {
      this.deleting.delete(id);
    }
  }

  async stats(id: string): Promise<Lookup<ContainerStats>> {
    // The cgroup outlives the process until `runc delete`: only a started container without an exit
    // record has usage worth reporting (two file checks, no `runc state`).
    const p = this.paths(id);
    if (!existsSync(p.started) || existsSync(p.exit)) return { found: false };
    const rec = await this.record(id);
    const stats = rec && (await readStats(rec.cgroupsPath));
    return stats ? { found: true, value: stats } : { found: false };
  }

  async listening(id: string): Promise<ListeningSocket[] | undefined> {
    const p = this.paths(id);
    if (!existsSync(p.started) || existsSync(p.exit)) return undefined;
    const pid = await readPid(p.initPid);
    return pid === undefined ? undefined : listeningSockets(pid);
  }

  async list(): Promise<ContainerState[]> {
    const ids = await fsp.readdir(instancesDir(this.opts.root)).catch(() => [] as string[]);
    const states = await Promise.all(ids.filter(isInstanceId).map((id) => this.state(id)));
    return states.flatMap((s) => (s.found ? [s.value] : []));
  }

  async *logs(id: string, opts?: { tail?: number }): AsyncGenerator<LogLine> {
    await this.mustRecord(id);
    yield* readLogLines(this.paths(id).logs, opts?.tail);
  }

  async *followLogs(id: string, signal: AbortSignal, opts?: { tail?: number }): AsyncGenerator<LogLine> {
    await this.mustRecord(id);
    const p = this.paths(id);
    const supervisorPid = await readPid(p.supervisorPid);
    // Cheap per poll (no `runc state`): the supervisor closes the log before it writes exit.json.
    const finished = async () => existsSync(p.exit) || supervisorPid === undefined || !alive(supervisorPid);
    yield* followLogLines(p.logs, { signal, finished, tail: opts?.tail });
  }
}
