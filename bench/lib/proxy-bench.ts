// bench/lib/proxy-bench: the frame the proxy benchmarks (bench/gateway.ts, bench/tls.ts) share: a work
// directory under TMPDIR, servers that are stopped on exit (and on Ctrl-C/SIGTERM), a main that exits 0
// or prints its error and exits 1, and how they print a latency.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { killLoad } from './load.ts';
import { cleanupOnExit } from './process.ts';

/** The flags both proxy benchmarks take (each adds its own). */
export const PROXY_BENCH_OPTIONS = {
  rounds: { type: 'string', default: '3' },
  duration: { type: 'string', default: '10' },
  connections: { type: 'string', default: '50' },
  'latency-connections': { type: 'string', default: '10' },
  threads: { type: 'string', default: '2' },
  'no-pin': { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

export interface BenchFrame {
  /** a fresh directory under TMPDIR, removed on exit */
  workDir: string;
  /** a started server's stop, called once on exit */
  stops: Array<() => void>;
  /** stops the load generators and the servers and removes workDir, once */
  cleanup(): void;
}

/** The work directory `<TMPDIR>/<prefix>XXXXXX` and a cleanup that runs once on exit. */
export function benchFrame(prefix: string): BenchFrame {
  const workDir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const stops: Array<() => void> = [];
  let cleaned = false;
  function cleanup(): void {
    if (cleaned) return;
    cleaned = true;
    killLoad();
    for (const stop of stops) stop();
    rmSync(workDir, { recursive: true, force: true, maxRetries: 5 });
  }
  cleanupOnExit(cleanup);
  return { workDir, stops, cleanup };
}

/** Runs `main`, cleans up, and exits 0; on an error prints its message, cleans up and exits 1. */
export function runBench(main: () => Promise<void>, cleanup: () => void): void {
  main().then(
    () => {
      cleanup();
      process.exit(0);
    },
    (err: Error) => {
      console.error(err.message);
      cleanup();
      process.exit(1);
    },
  );
}

export function ms(v: number): string {
  return `${v.toFixed(3)} ms`;
}
