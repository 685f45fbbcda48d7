// bench/lib/idle-daemon: a child `skiff up` for the benches that hold many services and run none —
// a fresh data dir, a network of its own, the pre-created pool off — stopped (and its data dir and
// network removed) by the returned stop(), which is also registered with the bench's cleanups so an
// interrupted run leaves nothing behind. bench/store.ts and bench/dashboard-first-paint.ts use it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startChildDaemon, type ChildDaemon } from '../../test/helpers/child-daemon.ts';
import { removeTestNetwork } from '../../test/helpers/daemon.ts';

/** Work to undo at the end of a bench, last registered first; also on SIGINT/SIGTERM. */
export class Cleanups {
  private readonly fns: Array<() => Promise<void>> = [];
  constructor() {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void this.run().finally(() => process.exit(130)));
  }
  push(fn: () => Promise<void>): void {
    this.fns.push(fn);
  }
  async run(): Promise<void> {
    for (const c of this.fns.splice(0).reverse()) await c().catch((err: unknown) => console.error('cleanup:', err));
  }
}

export interface BenchNetwork {
  bridge: string;
  subnet: string;
  chainPrefix: string;
}

export interface IdleDaemon {
  daemon: ChildDaemon;
  stop(): Promise<void>;
}

/** Starts the daemon (`env` adds to the settings given here) in a new data dir named after `label`. */
export async function startIdleDaemon(label: string, net: BenchNetwork, cleanups: Cleanups, env: NodeJS.ProcessEnv = {}): Promise<IdleDaemon> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `skiff-bench-${label}-`));
  let running: ChildDaemon | undefined = await startChildDaemon(dataDir, {
    ...env,
    SKIFF_COLD_START_POOL_PER_REVISION: '0',
    SKIFF_RUNTIME_BRIDGE: net.bridge,
    SKIFF_RUNTIME_SUBNET: net.subnet,
    SKIFF_RUNTIME_CHAIN_PREFIX: net.chainPrefix,
    SKIFF_RUNTIME_EGRESS: 'false',
  });
  const daemon = running;
  const stop = async () => {
    if (!running) return;
    running.proc.kill('SIGTERM');
    await running.exited;
    running = undefined;
    await removeTestNetwork(net);
    rmSync(dataDir, { recursive: true, force: true });
  };
  cleanups.push(stop);
  return { daemon, stop };
}
