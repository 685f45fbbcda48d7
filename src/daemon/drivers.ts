// daemon/drivers: the instance driver a node runs, chosen by the `runtime.driver` setting.
import { freeSpaceFloor } from '../core/free-space.ts';
import path from 'node:path';
import type { Settings } from '../config/settings.ts';
import type { Logger } from '../core/logger.ts';
import type { Registry } from '../registry/registry.ts';
import type { InstanceDriver } from '../core/instance.ts';
import { createRuncDriver } from '../runtime/runc/factory.ts';
import { RegistryImageSource } from './image-source.ts';

export function createDriver(settings: Settings, registry: Registry, logger: Logger): InstanceDriver {
  switch (settings.runtime.driver) {
    case 'runc': {
      const { bridge, subnet, chainPrefix, egress, writableLayerBytes } = settings.runtime;
      return createRuncDriver({ dataDir: path.resolve(settings.dataDir), images: new RegistryImageSource(registry), network: { bridge, cidr: subnet, chainPrefix, egress }, writableLayerBytes, space: freeSpaceFloor(settings.dataDir, settings.minFreeBytes), logger });
    }
  }
}
