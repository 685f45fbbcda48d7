// runtime/runc/factory: the runc instance driver as the daemon gets it — image source → layer cache →
// overlay rootfs → runc — with every directory under the daemon's data dir, built lazily
// (lazy-driver.ts): the bridge, iptables chains and layer cache appear with the first prepare/create,
// or at once when an earlier daemon left instances to re-adopt.
//
//   <dataDir>/layers/      LayerCache (images/layer-cache.ts)
//   <dataDir>/instances/   one dir per instance: instance.json + overlay rootfs (instance-driver.ts)
//   <dataDir>/runtime/     container state (layout.ts)
import { parseCidr } from '../network/allocator.ts';
import { RuncInternalNetwork } from '../network/internal-names.ts';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../core/logger.ts';
import type { FreeSpaceCheck } from '../../core/free-space.ts';
import type { Platform } from '../../images/image-config.ts';
import { LayerCache } from '../../images/layer-cache.ts';
import type { BlobSource, ManifestSource } from '../../images/ports.ts';
import type { InstanceDriver } from '../../core/instance.ts';
import { LazyDriver } from '../lazy-driver.ts';
import type { DevicePolicy } from '../devices/devices.ts';
import { createRuncRuntime } from './driver.ts';
import { RuncImages } from './images.ts';
import { RuncInstanceDriver } from './instance-driver.ts';
import { LogArchive } from './log-archive.ts';
import { instancesDir } from './layout.ts';

export interface RuncDriverSetup {
  dataDir: string;
  images: ManifestSource & BlobSource;
  network: { bridge: string; cidr: string; chainPrefix: string; egress: boolean; egressInterfaces?: string[] };
  /** host file bind-mounted read-only as /etc/resolv.conf in every instance */
  resolvConf?: string;
  /** writable layer size of an instance whose limits name none (default DEFAULT_WRITABLE_LAYER_BYTES) */
  writableLayerBytes?: number;
  /** the data dir's free-space floor: no unpack or new instance below it */
  space?: FreeSpaceCheck;
  /** persistent volumes on this node (runtime/volumes/loop-volumes.ts); none: mounts are refused */
  volumes?: { hostPath(volume: string): Promise<string> };
  platform?: Platform;
  logger?: Logger;
  /** host devices instances may be given, and where the node's CDI specs are (runtime/devices/) */
  devices?: DevicePolicy;
}

/** the runtime.writableLayerBytes default: memory-backed, so it is charged to the instance's memory too */
export const DEFAULT_WRITABLE_LAYER_BYTES = 512 * 1024 ** 2;

const hasEntries = async (dir: string) => existsSync(dir) && (await fsp.readdir(dir)).length > 0;

export function createRuncDriver(o: RuncDriverSetup): InstanceDriver {
  const instances = path.join(o.dataDir, 'instances');
  const runtimeRoot = path.join(o.dataDir, 'runtime');
  // deleted instances' output (log-archive.ts): its presence also means there is something to show
  const logs = path.join(o.dataDir, 'logs');
  const names = new RuncInternalNetwork({ bridge: o.network.bridge, subnet: parseCidr(o.network.cidr), chainPrefix: o.network.chainPrefix, dir: `/run/skiff/names/${o.network.bridge}` });
  const build = async (): Promise<InstanceDriver> => {
    const layers = new LayerCache({ dir: path.join(o.dataDir, 'layers'), blobs: o.images, logger: o.logger });
    await layers.init();
    const containers = await createRuncRuntime({ root: runtimeRoot, network: o.network, resolvConf: o.resolvConf, names });
    return new RuncInstanceDriver({ dir: instances, writableLayerBytes: o.writableLayerBytes ?? DEFAULT_WRITABLE_LAYER_BYTES, space: o.space, ...(o.volumes ? { volumes: o.volumes } : {}), ...(o.devices ? { devices: o.devices } : {}), images: new RuncImages(o.images, layers, o.platform), containers, logArchive: new LogArchive(logs), logger: o.logger });
  };
  // A container without an instance dir is possible only after a crash half-way through delete.
  const leftovers = async () => (await hasEntries(instances)) || (await hasEntries(instancesDir(runtimeRoot))) || (await hasEntries(logs));
  return new LazyDriver(build, leftovers, names);
}
