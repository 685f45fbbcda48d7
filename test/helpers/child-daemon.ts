// test/helpers/child-daemon: `skiff up` as a child process (for kill -9 tests), on ports the kernel
// picks; resolves once it printed its addresses. Extra env (e.g. a test network) is passed through.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import type { TestContext } from 'node:test';
import path from 'node:path';
import { ADMIN_TOKEN_FILE } from '../../src/core/data-dir.ts';
import { removeTestNetwork, startTestDaemon } from './daemon.ts';

export interface ChildDaemon {
  url: string;
  gatewayUrl: string;
  token: string;
  proc: ChildProcess;
  exited: Promise<unknown>;
}

/** `gateway`: HOST:PORT to listen on (default a free port), so a restarted daemon can keep it */
export async function startChildDaemon(dataDir: string, env: Record<string, string> = {}, gateway = '127.0.0.1:0'): Promise<ChildDaemon> {
  const bin = path.resolve(import.meta.dirname, '../../bin/skiff.mjs');
  const proc = spawn(process.execPath, [bin, '--data-dir', dataDir, 'up', '--listen', '127.0.0.1:0', '--gateway', gateway, '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  let output = '';
  const [url, gatewayUrl] = await new Promise<[string, string]>((resolve, reject) => {
    const onData = (b: Buffer) => {
      output += b.toString();
      const api = /registry: (http:\/\/\S+)/.exec(output);
      const gw = /gateway \(services\): (http:\/\/\S+)/.exec(output);
      if (api && gw) resolve([api[1]!, gw[1]!]);
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    void exited.then(() => reject(new Error(`skiff up exited before listening:\n${output}`)));
  });
  const token = readFileSync(path.join(dataDir, ADMIN_TOKEN_FILE), 'utf8').trim();
  return { url, gatewayUrl, token, proc, exited };
}

/**
 * A data dir and a test network for `skiff up` children a test kills and restarts: `start()` starts
 * one on them (the last one started is killed after the test if still running), and after the test an
 * in-process daemon on the same data dir and network removes the instances, then the network and dir.
 */
export function childDaemonFixture(t: Pick<TestContext, 'after'>, o: { prefix: string; bridge: string; subnet: string; chainPrefix: string }) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `${o.prefix}-`));
  const net = { driver: 'runc' as const, bridge: o.bridge, subnet: o.subnet, chainPrefix: o.chainPrefix, egress: false, egressInterfaces: [] as string[], writableLayerBytes: 64 * 1024 ** 2 };
  const env = { SKIFF_RUNTIME_BRIDGE: net.bridge, SKIFF_RUNTIME_SUBNET: net.subnet, SKIFF_RUNTIME_CHAIN_PREFIX: net.chainPrefix, SKIFF_RUNTIME_EGRESS: 'false', SKIFF_RUNTIME_WRITABLE_LAYER_BYTES: String(net.writableLayerBytes), SKIFF_COLD_START_IDLE_FREEZE_MS: '0' };
  let child: ChildDaemon | undefined;
  t.after(async () => {
    if (child && child.proc.exitCode === null && child.proc.signalCode === null) {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
    const cleaner = await startTestDaemon({ after: () => {} }, { dataDir, settings: (s) => (s.runtime = { ...s.runtime, ...net }) });
    await cleaner.daemon.stop();
    await cleaner.daemon.stopInstances();
    await removeTestNetwork(net);
    rmSync(dataDir, { recursive: true, force: true });
  });
  return {
    dataDir,
    net,
    async start(gateway?: string): Promise<ChildDaemon> {
      child = await startChildDaemon(dataDir, env, gateway);
      return child;
    },
  };
}
