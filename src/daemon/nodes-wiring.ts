// daemon/nodes-wiring: GET /api/v1/nodes for the driver in use. The swarm driver lists the swarm's
// nodes itself; with runc there is one node, this machine, whose reservations are the limits of the
// instances the scheduler tracks.
import os from 'node:os';
import type { NodeInventory, NodeView } from '../core/nodes.ts';

export function localNode(instances: () => Array<{ cpus: number; memoryBytes: number }>): NodeInventory {
  return {
    async nodes(): Promise<NodeView[]> {
      const live = instances();
      return [{
        name: os.hostname(),
        role: 'local',
        state: 'ready',
        availability: 'active',
        labels: {},
        cpus: os.cpus().length,
        memoryBytes: os.totalmem(),
        reservedCpus: Math.round(live.reduce((a, i) => a + i.cpus, 0) * 1000) / 1000,
        reservedMemoryBytes: live.reduce((a, i) => a + i.memoryBytes, 0),
        instances: live.length,
      }];
    },
  };
}
