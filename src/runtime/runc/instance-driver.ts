// runtime/runc/instance-driver: the InstanceDriver port (core/instance.ts) on this machine — a pinned
// image resolved and unpacked once (images.ts), an overlay rootfs per instance (images/rootfs.ts), the
// process built from image config + spec (process.ts) and run as a runc container (ContainerRuntime).
// Everything needed to re-adopt an instance after a daemon restart is on disk:
//
//   <dir>/<instance id>/      rootfs.ts layout (l/, upper/, work/, rootfs/) plus
//     instance.json           InstanceRecord, written before the rootfs is mounted
//
// The container layer keeps its own state under its own root; list() joins the two by instance id.
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../../core/errors.ts';
import type { FreeSpaceCheck } from '../../core/free-space.ts';
import { writeFileAtomic } from '../../core/fsutil.ts';
import type { ExitReason, InstanceAddress, InstanceInfo, InstanceSpec, InstanceStats, ListeningSocket, LogLine, PastInstance } from '../../core/instance.ts';
import { silentLogger, type Logger } from '../../core/logger.ts';
import { assertInstanceId, isInstanceId, revisionOfInstance } from '../../core/names.ts';
import type { PinnedImage } from '../../core/service.ts';
import { mountRootfs, removeRootfs } from '../../images/rootfs.ts';
import { assertMountTarget, isVolumeName } from '../../core/volumes.ts';
import type { InstanceDriver } from '../../core/instance.ts';
import type { ContainerRuntime, ContainerState } from './container-runtime.ts';
import type { RuncImages } from './images.ts';
import { isLogGroup, serviceOfRevision, type LogArchive } from './log-archive.ts';
import { containerSpec } from './process.ts';
import { writeSecretFiles } from './secret-files.ts';
import { DEFAULT_CDI_DIRS, resolveDevices, type DevicePolicy } from '../devices/devices.ts';

export interface RuncInstanceDriverOptions {
  /** per-instance dirs */
  dir: string;
  /** writable layer size of an instance whose limits name none */
  writableLayerBytes: number;
  /** the data dir's free-space floor: no unpack or new instance below it */
  space?: FreeSpaceCheck;
  images: RuncImages;
  containers: ContainerRuntime;
  /** where persistent volumes are on this host (runtime/volumes); none: a spec with mounts is refused */
  volumes?: { hostPath(volume: string): Promise<string> };
  /** which host devices may be passed in, and where CDI specs are (none: no allow-list, the default CDI dirs) */
  devices?: DevicePolicy;
  /** where deleted instances' logs are kept (skiff logs after a scale to zero or a crash); none: not kept */
  logArchive?: LogArchive;
  logger?: Logger;
}

/** instance.json: what the driver-neutral view of an instance needs beyond the container's state. */
interface InstanceRecord {
  service: string;
  revision?: string;
  /** InstanceSpec.logGroup: where its output is kept once deleted */
  logGroup?: string;
  port?: number;
  image: PinnedImage;
}

/** A volume nothing has written to yet (its root empty, root's own) becomes the instance user's, as
 *  an image's app running as a non-root user could not write to it otherwise. */
async function adoptEmptyVolumes(binds: { source: string; readOnly: boolean }[], user: { uid: number; gid: number }): Promise<void> {
  if (user.uid === 0) return;
  for (const b of binds) {
    if (b.readOnly) continue;
    const st = await fsp.lstat(b.source);
    if (st.isDirectory() && st.uid === 0 && (await fsp.readdir(b.source)).length === 0) await fsp.lchown(b.source, user.uid, user.gid);
  }
}

const isCode = (err: unknown, ...codes: string[]) => err instanceof SkiffError && codes.includes(err.code);

export class RuncInstanceDriver implements InstanceDriver {
  /** each created instance's port, so start() reads no file */
  private readonly ports = new Map<string, number>();
  /** each create in flight: a delete of the same id waits for it (see delete), and its dir, which
   *  exists before its container does, is not a leftover */
  private readonly creates = new Map<string, Promise<unknown>>();
  /** concurrent stops (or deletes) of one instance share one call: a drain racing an orphan sweep */
  private readonly stopping = new Map<string, Promise<void>>();
  private readonly deleting = new Map<string, Promise<void>>();
  private readonly log: Logger;

  constructor(private readonly opts: RuncInstanceDriverOptions) {
    this.log = (opts.logger ?? silentLogger).child({ component: 'runc-driver' });
  }

  private dirOf(id: string): string {
    return path.join(this.opts.dir, assertInstanceId(id));
  }

  private async record(id: string): Promise<InstanceRecord | undefined> {
    const text = await fsp.readFile(path.join(this.dirOf(id), 'instance.json'), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as InstanceRecord);
  }

  async prepare(image: PinnedImage): Promise<{ total: number; unpacked: number }> {
    await this.opts.space?.assert('unpacking an image');
    return this.opts.images.prepare(image);
  }

  create(id: string, spec: InstanceSpec): Promise<void> {
    if (this.creates.has(id)) return Promise.reject(new SkiffError('CONFLICT', `instance ${id} already exists`));
    const p = this.createNow(id, spec);
    const settled = p.catch(() => undefined).finally(() => this.creates.delete(id));
    this.creates.set(id, settled);
    return p;
  }

  private async createNow(id: string, spec: InstanceSpec): Promise<void> {
    const dir = this.dirOf(id);
    if (spec.logGroup !== undefined && !isLogGroup(spec.logGroup)) throw new SkiffError('BAD_REQUEST', `invalid log group ${JSON.stringify(spec.logGroup.slice(0, 80))}`);
    if (existsSync(dir)) throw new SkiffError('CONFLICT', `instance ${id} already exists`);
    await this.opts.space?.assert('a new instance');
    const binds = await this.binds(spec);
    const devices = spec.devices?.length || spec.gpus ? await resolveDevices(spec.devices ?? [], spec.gpus ?? 0, this.opts.devices ?? { allowList: [], cdiDirs: DEFAULT_CDI_DIRS }) : undefined;
    const image = await this.opts.images.config(spec.image);
    const layers = await this.opts.images.layers(spec.image, image);
    await fsp.mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
    await fsp.mkdir(dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EEXIST' ? new SkiffError('CONFLICT', `instance ${id} already exists`) : err;
    });
    try {
      const record: InstanceRecord = { service: spec.service, revision: spec.revision, port: spec.port, image: spec.image, ...(spec.logGroup ? { logGroup: spec.logGroup } : {}) };
      await writeFileAtomic(path.join(dir, 'instance.json'), JSON.stringify(record));
      const rootfs = await mountRootfs(dir, layers.map((l) => l.path), { writableBytes: spec.limits.diskBytes ?? this.opts.writableLayerBytes });
      const container = await containerSpec(id, spec, image, rootfs);
      await adoptEmptyVolumes(binds, container.user);
      // secrets: files (and the bundle holding their env values) on the instance's tmpfs, never on disk
      const secrets = spec.secrets ? await writeSecretFiles(dir, spec.secrets, container.user) : {};
      await this.opts.containers.create({ ...container, ...(binds.length ? { binds } : {}), ...(devices ? { devices } : {}), ...(spec.namespace !== undefined ? { namespace: spec.namespace } : {}), ...secrets });
      if (spec.port !== undefined) this.ports.set(id, spec.port);
      this.log.debug({ instance: id, revision: spec.revision }, 'instance created');
    } catch (err) {
      await this.remove(id).catch((cleanup: unknown) => this.log.warn({ instance: id, err: cleanup }, 'cleanup after a failed create failed'));
      throw err;
    }
  }

  /** The spec's volumes as host bind mounts (each mounted on the host first if it is not). */
  private async binds(spec: InstanceSpec): Promise<{ source: string; destination: string; readOnly: boolean }[]> {
    const mounts = spec.mounts ?? [];
    if (mounts.length === 0) return [];
    const volumes = this.opts.volumes;
    if (!volumes) throw new SkiffError('BAD_REQUEST', 'this node has no volumes: an instance cannot mount one');
    const seen = new Set<string>();
    const binds = [];
    for (const [i, m] of mounts.entries()) {
      const destination = assertMountTarget(m.target, `mounts[${i}].target`);
      if (seen.has(destination)) throw new SkiffError('BAD_REQUEST', `mounts[${i}].target: ${destination} is mounted twice`);
      seen.add(destination);
      if (!isVolumeName(m.volume)) throw new SkiffError('BAD_REQUEST', `mounts[${i}].volume: invalid volume name ${JSON.stringify(m.volume.slice(0, 80))}`);
      binds.push({ source: await volumes.hostPath(m.volume), destination, readOnly: m.readOnly });
    }
    return binds;
  }

  /** runc's exec FIFO: a few ms. A start that fails deletes the instance; a second start is CONFLICT
   *  and an unknown id NOT_FOUND, which leave things as they are. */
  async start(id: string): Promise<InstanceAddress> {
    this.mustBeId(id);
    try {
      const state = await this.opts.containers.start(id);
      const port = this.ports.get(id) ?? (await this.record(id))?.port ?? 0;
      this.log.info({ instance: id, ip: state.ip }, 'instance started');
      return { host: state.ip, port };
    } catch (err) {
      if (!isCode(err, 'CONFLICT', 'NOT_FOUND')) {
        await this.delete(id).catch((cleanup: unknown) => this.log.warn({ instance: id, err: cleanup }, 'cleanup after a failed start failed'));
      }
      throw err;
    }
  }

  async pause(id: string): Promise<void> {
    await this.opts.containers.pause(this.mustBeId(id));
  }

  async resume(id: string): Promise<void> {
    await this.opts.containers.resume(this.mustBeId(id));
  }

  /** An invalid id names no instance. */
  private mustBeId(id: string): string {
    if (!isInstanceId(id)) throw new SkiffError('NOT_FOUND', `no instance ${JSON.stringify(id.slice(0, 80))}`);
    return id;
  }

  stop(id: string, graceMs: number): Promise<void> {
    if (!isInstanceId(id)) return Promise.resolve();
    return this.once(this.stopping, id, async () => {
      const s = await this.opts.containers.state(id);
      if (!s.found || s.value.status === 'stopped') return;
      await this.opts.containers.stop(id, graceMs).catch((err: unknown) => {
        if (!isCode(err, 'NOT_FOUND')) throw err; // deleted in between: fine
      });
    });
  }

  /** Waits for a create of the same id in flight, then removes what it made: a delete racing a create
   *  (a revision losing its traffic while its instance is being made) once unmounted the rootfs under
   *  `runc create`, failed, and left the container to be started afterwards — a leak of the container,
   *  its mounts, netns and address that even `skiff rm` could not remove. A start after the delete
   *  finds nothing (NOT_FOUND). */
  delete(id: string): Promise<void> {
    if (!isInstanceId(id)) return Promise.resolve();
    return this.once(this.deleting, id, async () => {
      await this.creates.get(id);
      await this.remove(id);
    });
  }

  /** Container (process, netns, address, cgroup) first — its logs moved to the archive for a service's
   *  instance or one created with a log group —, then the rootfs mount and dir. */
  private async remove(id: string): Promise<void> {
    this.ports.delete(id);
    const record = await this.record(id);
    const group = record?.logGroup ?? (record?.revision ? serviceOfRevision(record.revision) : undefined);
    // (a record written by hand with a bad group: the output is not kept, the instance still goes)
    const keepLogsAt = group && this.opts.logArchive ? await this.opts.logArchive.destination(id, group).catch(() => undefined) : undefined;
    await this.opts.containers.delete(id, { keepLogsAt });
    if (keepLogsAt) await this.opts.logArchive!.kept(id, group!, record?.revision ?? '');
    await removeRootfs(this.dirOf(id));
  }


  async pastInstances(service: string): Promise<PastInstance[]> {
    return (await this.opts.logArchive?.past(service)) ?? [];
  }

  async forgetLogs(service: string): Promise<void> {
    await this.opts.logArchive?.forget(service);
  }

  private once(inflight: Map<string, Promise<void>>, id: string, run: () => Promise<void>): Promise<void> {
    let p = inflight.get(id);
    if (!p) {
      p = run().finally(() => inflight.delete(id));
      inflight.set(id, p);
    }
    return p;
  }

  private info(id: string, state: ContainerState | undefined, record: InstanceRecord | undefined, hasDir: boolean): InstanceInfo | undefined {
    if (!state && !hasDir) return undefined;
    const status = state?.status ?? 'missing';
    const info: InstanceInfo = {
      id,
      service: record?.service ?? state?.service ?? '',
      // a leftover whose record is gone: the scheduler's ids are `<revision>-<6 hex>`
      revision: record ? (record.revision ?? '') : revisionOfInstance(id),
      status,
    };
    if (state && (status === 'running' || status === 'paused')) info.address = { host: state.ip, port: record?.port ?? 0 };
    if (state?.exit) info.exit = state.exit;
    return info;
  }

  async inspect(id: string): Promise<InstanceInfo | undefined> {
    if (!isInstanceId(id) || this.creates.has(id)) return undefined;
    const [state, record] = await Promise.all([this.opts.containers.state(id), this.record(id)]);
    return this.info(id, state.found ? state.value : undefined, record, existsSync(this.dirOf(id)));
  }

  /** Containers and instance dirs, joined by id; a dir without a container (a crash between mount and
   *  create) is listed as missing, so the scheduler deletes it and the mount goes away. */
  async list(): Promise<InstanceInfo[]> {
    const states = new Map((await this.opts.containers.list()).map((s) => [s.id, s]));
    const dirs = new Set((await fsp.readdir(this.opts.dir).catch(() => [] as string[])).filter(isInstanceId));
    const ids = [...new Set([...dirs, ...states.keys()])].filter((id) => !this.creates.has(id));
    const infos = await Promise.all(ids.map(async (id) => this.info(id, states.get(id), await this.record(id), dirs.has(id))));
    return infos.filter((i): i is InstanceInfo => i !== undefined);
  }

  async watch(id: string): Promise<ExitReason | undefined> {
    if (!isInstanceId(id)) return undefined;
    for (;;) {
      const w = await this.opts.containers.wait(id, 60_000);
      if (w.outcome !== 'timeout') return w.outcome === 'exited' ? w.exit : undefined;
    }
  }

  async *logs(id: string, opts?: { tail?: number }): AsyncGenerator<LogLine> {
    if (!isInstanceId(id)) return;
    try {
      yield* this.opts.containers.logs(id, opts);
    } catch (err) {
      if (!isCode(err, 'NOT_FOUND')) throw err;
      // deleted: what the archive kept of it, if anything
      if (this.opts.logArchive) yield* this.opts.logArchive.logs(id, opts?.tail);
    }
  }

  async *followLogs(id: string, signal: AbortSignal, opts?: { tail?: number }): AsyncGenerator<LogLine> {
    if (!isInstanceId(id)) return;
    try {
      yield* this.opts.containers.followLogs(id, signal, opts);
    } catch (err) {
      if (!isCode(err, 'NOT_FOUND')) throw err;
      // deleted: what the archive kept of it, and nothing more will come
      if (this.opts.logArchive) yield* this.opts.logArchive.logs(id, opts?.tail);
    }
  }

  async listening(id: string): Promise<ListeningSocket[] | undefined> {
    return isInstanceId(id) ? this.opts.containers.listening(id) : undefined;
  }

  async stats(id: string): Promise<InstanceStats | undefined> {
    if (!isInstanceId(id)) return undefined;
    const s = await this.opts.containers.stats(id);
    return s.found ? { cpuNanos: s.value.cpuNanos, memoryBytes: s.value.memoryBytes, workingSetBytes: s.value.workingSetBytes } : undefined;
  }
}
