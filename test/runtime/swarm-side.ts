// test/runtime/swarm-side: what the swarm and hybrid driver tests share — the images served to a swarm
// lab's nodes (memory-registry.ts on the lab's host address) and swarm drivers on them, whose engine
// connections close() ends.
import { LogArchive } from '../../src/runtime/runc/log-archive.ts';
import { Engine } from '../../src/runtime/swarm/engine.ts';
import { SwarmInstanceDriver, type SwarmDriverOptions } from '../../src/runtime/swarm/swarm-driver.ts';
import type { SwarmLab } from '../helpers/swarm-lab.ts';
import type { MemoryImages } from './memory-images.ts';
import { serveMemoryImages, type MemoryRegistry } from './memory-registry.ts';

export class SwarmSide {
  private readonly engines: Engine[] = [];

  private constructor(
    private readonly lab: SwarmLab,
    private readonly images: MemoryImages,
    readonly registry: MemoryRegistry,
  ) {}

  static async start(lab: SwarmLab, images: MemoryImages): Promise<SwarmSide> {
    return new SwarmSide(lab, images, await serveMemoryImages(images, lab.hostAddress));
  }

  private engine(host: string): Engine {
    const e = new Engine(host);
    this.engines.push(e);
    return e;
  }

  /** A swarm driver for `owner`, keeping deleted instances' output in `logsDir`; with every node's
   *  engine unless `nodeEngines` is false. */
  driver(o: { owner: string; logsDir: string; nodeEngines?: boolean } & Pick<SwarmDriverOptions, 'volumes' | 'volumeNode'>): SwarmInstanceDriver {
    return new SwarmInstanceDriver({
      manager: this.engine(this.lab.manager.host),
      ...(o.nodeEngines === false ? {} : { nodes: new Map(this.lab.nodes.map((n) => [n.name, this.engine(n.host)])) }),
      owner: o.owner,
      images: this.images,
      registry: () => this.registry.address,
      logArchive: new LogArchive(o.logsDir),
      ...(o.volumes ? { volumes: o.volumes } : {}),
      ...(o.volumeNode ? { volumeNode: o.volumeNode } : {}),
    });
  }

  async close(): Promise<void> {
    for (const e of this.engines) e.close();
    await this.registry.close();
  }
}
