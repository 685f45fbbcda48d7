// daemon/drivers: the instance driver a node runs, chosen by the `runtime.driver` setting.
import path from 'node:path';
import type { Settings } from '../config/settings.ts';
import type { FreeSpaceCheck } from '../core/free-space.ts';
import type { Logger } from '../core/logger.ts';
import type { Registry } from '../registry/registry.ts';
import type { InstanceDriver } from '../core/instance.ts';
import { createRuncDriver } from '../runtime/runc/factory.ts';
import { RegistryImageSource } from './image-source.ts';

/** `space`: the data dir's free-space floor, shared with the registry's uploads */
export function createDriver(settings: Settings, registry: Registry, space: FreeSpaceCheck, logger: Logger, volumes?: { hostPath(volume: string): Promise<string> }): InstanceDriver {
  switch (settings.runtime.driver) {
    case 'runc': {
      const { bridge, subnet, chainPrefix, egress, egressInterfaces, writableLayerBytes, deviceAllowList, cdiSpecDirs } = settings.runtime;
      return createRuncDriver({ dataDir: path.resolve(settings.dataDir), images: new RegistryImageSource(registry), network: { bridge, cidr: subnet, chainPrefix, egress, egressInterfaces }, writableLayerBytes, devices: { allowList: deviceAllowList, cdiDirs: cdiSpecDirs }, space, logger, ...(volumes ? { volumes } : {}) });
    }
  }
}
