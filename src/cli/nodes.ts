// cli/nodes: `skiff nodes` — the machines instances run on (operator): a swarm's nodes with their
// capacity, what Skiff's instances there reserve, and how many; with the runc driver, this machine.
import type { Command } from 'commander';
import { formatMemory } from '../core/quantity.ts';
import { clientFrom } from './context.ts';
import { alignColumns, print, withOutput, type OutputFlags } from './output.ts';

export function registerNodes(program: Command): void {
  withOutput(program.command('nodes').description('the nodes instances run on: role, state, capacity, what Skiff reserves there, instances, labels (operator)')).action(async (o: OutputFlags) => {
    const listed = await clientFrom(program).nodes();
    await print(o, listed, () => {
      const rows = [['NAME', 'ROLE', 'STATE', 'AVAILABILITY', 'ADDRESS', 'CPU (RESERVED/ALL)', 'MEMORY (RESERVED/ALL)', 'INSTANCES', 'LABELS']];
      for (const n of listed.nodes) {
        rows.push([
          n.name, n.role, n.state, n.availability, n.address ?? '-',
          `${n.reservedCpus}/${n.cpus}`, `${formatMemory(n.reservedMemoryBytes)}/${formatMemory(n.memoryBytes)}`,
          String(n.instances), Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(',') || '-',
        ]);
      }
      return alignColumns(rows);
    });
  });
}
