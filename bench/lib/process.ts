// bench/lib/process: what every benchmark script needs around its child processes: a free loopback
// port, waiting until a started server answers HTTP, and a cleanup that runs once on exit and on
// Ctrl-C/SIGTERM (exit status 130).
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';

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
