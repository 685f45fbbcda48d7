// runtime/runc/process: what an instance's container runs, from its image config and the
// driver-neutral InstanceSpec — Kubernetes' command/args rules, the environment merge, USER/WORKDIR,
// limits, hostname. Pure apart from reading the image's passwd/group through the mounted rootfs.
import path from 'node:path';
import { SkiffError } from '../../core/errors.ts';
import type { InstanceSpec } from '../../core/instance.ts';
import { pinnedReference } from '../../core/names.ts';
import type { ImageConfig } from '../../images/image-config.ts';
import { resolveImageUser } from '../../images/image-user.ts';
import type { ContainerSpec } from './container-runtime.ts';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** KEY=VALUE lists merged left to right: a later key replaces an earlier one. */
export function mergeEnv(...lists: string[][]): string[] {
  const byKey = new Map<string, string>();
  for (const entry of lists.flat()) byKey.set(entry.split('=', 1)[0]!, entry);
  return [...byKey.values()];
}

/** Kubernetes/Knative rules: command replaces the entrypoint and drops the image's cmd; args replace cmd. */
export function processArgs(image: Pick<ImageConfig, 'entrypoint' | 'cmd'>, command: string[] | undefined, args: string[] | undefined): string[] {
  if (command !== undefined) return [...command, ...(args ?? [])];
  return [...image.entrypoint, ...(args ?? image.cmd)];
}

/**
 * The container of instance `id` on the mounted `rootfs`. Environment, later wins: PATH default and HOME
 * (the USER's passwd entry), the image's Env, the spec's env, PORT. cwd = WorkingDir; user = the image's
 * USER resolved against its own /etc/passwd and /etc/group; hostname = the service.
 */
export async function containerSpec(id: string, spec: InstanceSpec, image: ImageConfig, rootfs: string): Promise<ContainerSpec> {
  const args = processArgs(image, spec.command, spec.args);
  if (args.length === 0) throw new SkiffError('IMAGE_INVALID', `image ${pinnedReference(spec.image)} has no entrypoint or cmd and no command was given`);
  const user = await resolveImageUser(rootfs, image.user);
  return {
    id,
    service: spec.service,
    rootfs,
    readOnlyRoot: spec.readOnlyRoot,
    args,
    env: mergeEnv(
      [DEFAULT_PATH, `HOME=${user.home}`],
      image.env,
      Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      spec.port === undefined ? [] : [`PORT=${spec.port}`],
    ),
    cwd: path.posix.resolve('/', image.workingDir),
    user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
    hostname: spec.service.slice(0, 63),
    limits: spec.limits,
    ...(spec.capabilities?.length ? { capabilities: spec.capabilities } : {}),
    ...(spec.secrets && Object.keys(spec.secrets.env).length ? { secretEnv: Object.entries(spec.secrets.env).map(([k, v]) => `${k}=${v}`) } : {}),
  };
}
