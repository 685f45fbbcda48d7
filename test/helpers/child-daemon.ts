// test/helpers/child-daemon: `skiff up` as a child process (for kill -9 tests), on ports the kernel
// picks; resolves once it printed its addresses. Extra env (e.g. a test network) is passed through.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ADMIN_TOKEN_FILE } from '../../src/core/data-dir.ts';

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
