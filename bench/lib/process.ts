// bench/lib/process: what every benchmark script needs around its child processes: a free loopback
// port, waiting until a started server answers HTTP, and a cleanup that runs once on exit and on
// Ctrl-C/SIGTERM (exit status 130).
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';

export { freePort } from '../../test/helpers/tools.ts';

export function cleanupOnExit(cleanup: () => void): void {
  process.on('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      cleanup();
      process.exit(130);
    });
  }
}

/** Resolves once `url` answers 2xx; rejects when the server process exits first or after `timeoutMs`. */
export async function waitForHttp(child: ChildProcess, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: server exited with ${child.exitCode}`);
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/** Resolves once 127.0.0.1:`port` completes a TLS handshake for `servername` (any certificate). */
export async function waitForTls(child: ChildProcess, port: number, servername: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`TLS port ${port}: server exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`TLS port ${port} did not answer within ${timeoutMs} ms`);
}
