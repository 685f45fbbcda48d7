// bench/lib/gateway-process: bench/lib/gateway-server.ts as a child process (through tsx, as the
// daemon runs), optionally pinned to some CPUs; resolves once it prints "listening PORT [tls PORT]
// [h2 PORT]" with those ports.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { stopper, type RunningServer } from './nginx.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

export interface GatewayProcess extends RunningServer {
  /** the TLS port (--tls-cert) */
  tlsPort?: number;
  /** the HTTP/2 prototype's port (--h2-prototype) */
  h2Port?: number;
}

/** `args`: gateway-server.ts's flags (--backend HOST:PORT, ...). */
export async function startGatewayProcess(args: string[], cpus?: string): Promise<GatewayProcess> {
  const argv = [path.join(REPO_ROOT, 'bin/run-ts.mjs'), path.join(REPO_ROOT, 'bench/lib/gateway-server.ts'), ...args];
  const child = cpus ? spawn('taskset', ['-c', cpus, process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = stopper(child, undefined);
  try {
    const m = await new Promise<RegExpExecArray>((resolve, reject) => {
      let seen = '';
      child.once('exit', (code) => reject(new Error(`gateway exited with ${code} before listening:\n${seen}`)));
      child.stdout!.on('data', (b: Buffer) => {
        seen += b.toString();
        const m = /listening (\d+)(?: tls (\d+))?(?: h2 (\d+))?\n/.exec(seen);
        if (m) resolve(m);
      });
    });
    return { port: Number(m[1]), tlsPort: m[2] ? Number(m[2]) : undefined, h2Port: m[3] ? Number(m[3]) : undefined, pid: child.pid!, stop };
  } catch (err) {
    stop();
    throw err;
  }
}
