// daemon/instances: the scheduler's InstancePort on this machine — a revision's pinned image resolved
// through the registry, its layers unpacked once (LayerCache), an overlay rootfs per instance, and the
// process run by a Runtime (runc). Everything needed to re-adopt an instance after a restart is on disk:
//
//   <dir>/<instance id>/      rootfs.ts layout (l/, upper/, work/, rootfs/) plus
//     instance.json           InstanceMeta, written before the rootfs is mounted
//
// The runtime keeps its own state under its own root; list() joins the two by instance id.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../core/errors.ts';
import { writeFileAtomic } from '../core/fsutil.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import { parseImageReference } from '../core/names.ts';
import type { RevisionRecord } from '../core/service.ts';
import { DEFAULT_PLATFORM, resolveImage, type ImageConfig, type Platform } from '../images/image-config.ts';
import { resolveImageUser } from '../images/image-user.ts';
import type { CachedLayer, LayerCache } from '../images/layer-cache.ts';
import type { ManifestSource } from '../images/ports.ts';
import { mountRootfs, removeRootfs } from '../images/rootfs.ts';
import type { ExitReason, InstanceLimits, InstanceSpec, LogLine, Runtime } from '../runtime/runtime.ts';
import type { InstanceAddress, InstancePort, RunningInstance } from '../scheduler/ports.ts';

export interface RuncInstancesOptions {
  /** per-instance dirs (upper layers grow with what instances write: a disk, not tmpfs) */
  dir: string;
  layers: LayerCache;
  images: ManifestSource;
  runtime: Runtime;
  platform?: Platform;
  logger?: Logger;
}

/** What a started instance runs, beyond its image: a revision's spec or a one-off run's request. */
export interface LaunchSpec {
  /** network isolation group and hostname */
  service: string;
  /** recorded in instance.json (re-adoption) */
  revision: string;
  /** the port the app listens on, passed as $PORT; none for a one-off run */
  port?: number;
  command?: string[];
  args?: string[];
  env: Record<string, string>;
  readOnlyRoot: boolean;
  limits: InstanceLimits;
}

interface InstanceMeta {
  revision: string;
  service: string;
  port: number;
  image: string;
}

// The runtime's id rule; checked here too because the id names a directory.
const ID_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** KEY=VALUE lists merged left to right: a later key replaces an earlier one. */
function mergeEnv(...lists: string[][]): string[] {
  const byKey = new Map<string, string>();
  for (const entry of lists.flat()) byKey.set(entry.split('=', 1)[0]!, entry);
  return [...byKey.values()];
}

/** Kubernetes/Knative rules: command replaces the entrypoint and drops the image's cmd; args replace cmd. */
export function processArgs(image: Pick<ImageConfig, 'entrypoint' | 'cmd'>, command: string[] | undefined, args: string[] | undefined): string[] {
  if (command !== undefined) return [...command, ...(args ?? [])];
  return [...image.entrypoint, ...(args ?? image.cmd)];
}

export class RuncInstances implements InstancePort {
  private readonly images = new Map<string, Promise<ImageConfig>>();
  private readonly stopping = new Map<string, Promise<void>>();
  /** each created instance's port, so start() reads no file */
  private readonly ports = new Map<string, number>();
  private readonly log: Logger;

  constructor(private readonly opts: RuncInstancesOptions) {
    this.log = (opts.logger ?? silentLogger).child({ component: 'instances' });
  }

  private dirOf(id: string): string {
    if (!ID_RE.test(id)) throw new SkiffError('BAD_REQUEST', `invalid instance id ${JSON.stringify(id.slice(0, 80))}`);
    return path.join(this.opts.dir, id);
  }

  /** The image config of a pinned `repo@digest`; immutable, so resolved once per daemon (failures are not kept). */
  private image(imageDigest: string): Promise<ImageConfig> {
    let p = this.images.get(imageDigest);
    if (!p) {
      const ref = parseImageReference(imageDigest);
      if (!ref.digest) throw new SkiffError('BAD_REQUEST', `revision image ${imageDigest} is not pinned to a digest`);
      p = resolveImage(this.opts.images, ref.repository, ref.digest, this.opts.platform ?? DEFAULT_PLATFORM);
      p.catch(() => this.images.delete(imageDigest));
      this.images.set(imageDigest, p);
    }
    return p;
  }

  private async layers(pinned: string, image: ImageConfig): Promise<CachedLayer[]> {
    try {
      return await this.opts.layers.ensureImage(image.layers.map((l) => l.digest));
    } catch (err) {
      if (!(err instanceof SkiffError)) throw err;
      throw new SkiffError(err.code, `image ${pinned}: ${err.message}`, { cause: err, detail: err.detail });
    }
  }

  /** Unpacks the layers of a pinned image (`repo@sha256:…`, a revision's imageDigest) ahead of its first
   *  instance; `unpacked` = layers this call had to unpack. */
  async prepare(pinned: string): Promise<{ total: number; unpacked: number }> {
    const image = await this.image(pinned);
    const cached = await Promise.all(image.layers.map((l) => this.opts.layers.get(l.digest)));
    await this.layers(pinned, image);
    return { total: image.layers.length, unpacked: cached.filter((c) => c === undefined).length };
  }

  /** Everything of a revision's instance that does not depend on a request, up to `runc create`. */
  async create(revision: RevisionRecord, id: string): Promise<void> {
    const { spec } = revision;
    await this.createInstance(id, revision.imageDigest, {
      service: revision.service,
      revision: revision.name,
      port: spec.port,
      command: spec.command,
      args: spec.args,
      env: spec.env,
      readOnlyRoot: spec.readOnlyRoot,
      limits: { memoryBytes: spec.memoryBytes, cpus: spec.cpus, pids: spec.pids },
    });
  }

  /** Starts a created instance (runc's exec FIFO: a few ms); on failure nothing of it is left. */
  async start(id: string): Promise<InstanceAddress> {
    try {
      const state = await this.opts.runtime.start(id);
      const port = this.ports.get(id) ?? (await this.meta(id))?.port ?? 0;
      this.log.info({ instance: id, ip: state.ip }, 'instance started');
      return { host: state.ip, port };
    } catch (err) {
      await this.stop(id, 0).catch((cleanup: unknown) => this.log.warn({ instance: id, err: cleanup }, 'cleanup after a failed start failed'));
      throw err;
    }
  }

  async pause(id: string): Promise<void> {
    await this.opts.runtime.pause(id);
  }

  async resume(id: string): Promise<void> {
    await this.opts.runtime.resume(id);
  }

  /** Creates and starts instance `id` of a pinned image (`repo@sha256:…`) — a one-off run's
   *  (daemon/runs.ts) — and returns its address; on failure nothing of it is left. */
  async launch(id: string, pinned: string, p: LaunchSpec): Promise<string> {
    await this.createInstance(id, pinned, p);
    return (await this.start(id)).host;
  }

  /** Image → rootfs → runc create for instance `id`; on failure nothing of it is left. */
  private async createInstance(id: string, pinned: string, p: LaunchSpec): Promise<void> {
    const dir = this.dirOf(id);
    const image = await this.image(pinned);
    const layers = await this.layers(pinned, image);
    await fsp.mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
    await fsp.mkdir(dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EEXIST' ? new SkiffError('CONFLICT', `instance ${id} already exists`) : err;
    });
    try {
      const meta: InstanceMeta = { revision: p.revision, service: p.service, port: p.port ?? 0, image: pinned };
      await writeFileAtomic(path.join(dir, 'instance.json'), JSON.stringify(meta));
      const rootfs = await mountRootfs(dir, layers.map((l) => l.path));
      const user = await resolveImageUser(rootfs, image.user);
      const instance: InstanceSpec = {
        id,
        service: p.service,
        rootfs,
        readOnlyRoot: p.readOnlyRoot,
        args: processArgs(image, p.command, p.args),
        env: mergeEnv([DEFAULT_PATH, `HOME=${user.home}`], image.env, Object.entries(p.env).map(([k, v]) => `${k}=${v}`), p.port === undefined ? [] : [`PORT=${p.port}`]),
        cwd: path.posix.resolve('/', image.workingDir),
        user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
        hostname: p.service.slice(0, 63),
        limits: p.limits,
      };
      if (instance.args.length === 0) throw new SkiffError('IMAGE_INVALID', `image ${pinned} has no entrypoint or cmd and no command was given`);
      await this.opts.runtime.create(instance);
      this.ports.set(id, meta.port);
      this.log.debug({ instance: id, revision: p.revision }, 'instance created');
    } catch (err) {
      await this.stop(id, 0).catch((cleanup: unknown) => this.log.warn({ instance: id, err: cleanup }, 'cleanup after a failed create failed'));
      throw err;
    }
  }

  /** Concurrent stops of one instance (drain racing an orphan sweep) share one teardown. */
  stop(id: string, graceMs: number): Promise<void> {
    let p = this.stopping.get(id);
    if (!p) {
      p = this.teardown(id, graceMs).finally(() => this.stopping.delete(id));
      this.stopping.set(id, p);
    }
    return p;
  }

  private async teardown(id: string, graceMs: number): Promise<void> {
    const dir = this.dirOf(id);
    this.ports.delete(id);
    if ((await this.opts.runtime.state(id)).found) {
      await this.opts.runtime.stop(id, graceMs).catch((err: unknown) => {
        if (!(err instanceof SkiffError && err.code === 'NOT_FOUND')) throw err; // gone in between: fine
      });
      await this.opts.runtime.delete(id);
    }
    await removeRootfs(dir);
  }

  private async meta(id: string): Promise<InstanceMeta | undefined> {
    const text = await fsp.readFile(path.join(this.dirOf(id), 'instance.json'), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as InstanceMeta);
  }

  /** Runtime instances and rootfs dirs, joined by id; a dir without a runtime instance (a crash between
   *  mount and create) is listed as missing, so the scheduler stops it and the mount goes away. */
  async list(): Promise<RunningInstance[]> {
    const states = new Map((await this.opts.runtime.list()).map((s) => [s.id, s]));
    const dirs = (await fsp.readdir(this.opts.dir).catch(() => [] as string[])).filter((d) => ID_RE.test(d));
    const ids = [...new Set([...dirs, ...states.keys()])];
    return Promise.all(
      ids.map(async (id) => {
        const meta = await this.meta(id);
        const state = states.get(id);
        return {
          id,
          // instance ids are `<revision>-<6 hex>` (scheduler), the fallback when instance.json is missing
          revision: meta?.revision ?? id.replace(/-[0-9a-f]{6}$/, ''),
          address: { host: state?.ip ?? '', port: meta?.port ?? 0 },
          status: state?.status ?? 'missing',
        };
      }),
    );
  }

  async exited(id: string): Promise<void> {
    await this.exit(id);
  }

  /** How the instance's process ended, once it has; undefined when the instance is gone. */
  async exit(id: string): Promise<ExitReason | undefined> {
    for (;;) {
      const w = await this.opts.runtime.wait(id, 60_000);
      if (w.outcome !== 'timeout') return w.outcome === 'exited' ? w.exit : undefined;
    }
  }

  /** Output lines from the start, then live, until the instance stops or the signal aborts. */
  follow(id: string, signal: AbortSignal): AsyncIterable<LogLine> {
    this.dirOf(id);
    return this.opts.runtime.followLogs(id, signal);
  }

  /** Captured output, oldest first, as `<ISO time> <stdout|stderr> <line>`; NOT_FOUND once the instance is gone. */
  async logs(id: string, tail?: number): Promise<string[]> {
    this.dirOf(id);
    return (await this.opts.runtime.logs(id, { tail })).map((l) => `${l.time} ${l.stream} ${l.line}`);
  }

  async stats(id: string): Promise<{ cpuNanos: number; memoryBytes: number; workingSetBytes: number } | undefined> {
    const s = await this.opts.runtime.stats(id);
    return s.found ? { cpuNanos: s.value.cpuNanos, memoryBytes: s.value.memoryBytes, workingSetBytes: s.value.workingSetBytes } : undefined;
  }
}
