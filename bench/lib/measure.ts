// bench/lib/measure: what the benches measure with — percentiles and medians of samples, a timed GET
// on a fresh connection, a timed command, and integer command-line flags — so every bench reads its figures alike.
import { spawn } from 'node:child_process';
import http from 'node:http';

/** The p-th percentile (nearest rank) of `xs`; NaN when there are none. */
export function pct(xs: number[], p: number): number {
  return xs.length ? xs.toSorted((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]! : NaN;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** One GET on a fresh connection: ms until the response head, its status and X-Skiff-Cold-Start. */
export function timedGet(url: string, host?: string): Promise<{ ms: number; status: number; cold: string | undefined }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, headers: host ? { host } : {} }, (res) => {
        const ms = performance.now() - t0;
        res.resume();
        res.on('end', () => resolve({ ms, status: res.statusCode ?? 0, cold: res.headers['x-skiff-cold-start'] as string | undefined }));
      })
      .on('error', reject);
  });
}

/** An integer flag value, at least `min`; a clear error naming the flag otherwise. */
export function intFlag(value: string | undefined, flag: string, min = 1): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${flag} must be an integer >= ${min}, got ${value}`);
  return n;
}

/** Runs a command to its end (asynchronously, so a daemon answering it may live in the bench's own
 *  process); resolves with its wall time in ms, rejects unless it exits 0. */
export function timedCommand(cmd: string, argv: string[], env?: NodeJS.ProcessEnv, cwd?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, argv, { cwd, env: env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${cmd} ${argv.join(' ')} exited ${code}: ${stderr}`));
    });
  });
}
