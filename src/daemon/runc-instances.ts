// daemon/runc-instances: builds the default InstancePort — registry → layer cache → overlay rootfs →
// runc — with every directory under the daemon's data dir:
//
//   <dataDir>/layers/      LayerCache (images/layer-cache.ts)
//   <dataDir>/instances/   one dir per instance: instance.json + overlay rootfs (images/rootfs.ts)
//   <dataDir>/runtime/     runc driver state (runtime/runc/layout.ts)
import path from 'node:path';
import type { Logger } from '../core/logger.ts';
import type { Platform } from '../images/image-config.ts';
import { LayerCache } from '../images/layer-cache.ts';
import type { Registry } from '../registry/registry.ts';
import { createRuncRuntime, type RuncRuntimeOptions } from '../runtime/runc/driver.ts';
import { RegistryImageSource } from './image-source.ts';
import { RuncInstances } from './instances.ts';

export interface RuncInstancesSetup {
  dataDir: string;
  registry: Registry;
  network: RuncRuntimeOptions['network'];
  /** host file bind-mounted read-only as /etc/resolv.conf in every instance */
  resolvConf?: string;
  platform?: Platform;
  logger?: Logger;
}

export async function createRuncInstances(o: RuncInstancesSetup): Promise<RuncInstances> {
  const source = new RegistryImageSource(o.registry);
  const layers = new LayerCache({ dir: path.join(o.dataDir, 'layers'), blobs: source, logger: o.logger });
  await layers.init();
  const runtime = await createRuncRuntime({ root: path.join(o.dataDir, 'runtime'), network: o.network, resolvConf: o.resolvConf });
  return new RuncInstances({ dir: path.join(o.dataDir, 'instances'), layers, images: source, runtime, platform: o.platform, logger: o.logger });
}
