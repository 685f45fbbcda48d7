// bench/gateway: Skiff's gateway vs nginx as a reverse proxy vs the backend direct, same backend, same
// run. The backend is nginx `return 200` with a 100-byte body (the cheapest fixed-cost server there
// is, so the proxies' own cost dominates). Each round runs wrk against direct / nginx / skiff in an
// order that rotates every round, once at -c50 (throughput) and once at -c10 (latency), after one
// short uncounted warm-up per target. Prints each run, medians, added latency over direct, proxy CPU
// per request, and last the ratios skiff/nginx.
//
//   node bin/run-ts.mjs bench/gateway.ts [--rounds 3] [--duration 10] [--connections 50]
//        [--latency-connections 10] [--threads 2] [--no-pin] [--gateway-workers 1] [--slow-path]
//
// --slow-path measures Skiff's gateway with its raw fast path off (node:http + undici for every request).
//
// Pinning (default, 2+ CPUs): each proxy (nginx: worker_processes 1; Skiff: one Node process) runs
// alone on CPU 0; wrk and the backend share CPU 1, identical for all three targets. --no-pin lets the
// kernel place everything (nginx worker_processes auto).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startNginx, stopper, type RunningServer } from './lib/nginx.ts';
import { freePort, cleanupOnExit } from './lib/process.ts';
import { intFlag, median } from './lib/measure.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    'latency-connections': { type: 'string', default: '10' },
    threads: { type: 'string', default: '2' },
    'no-pin': { type: 'boolean', default: false },
    'gateway-workers': { type: 'string', default: '1' },
    'slow-path': { type: 'boolean', default: false },
  },
});
const rounds = intFlag(args.rounds, '--rounds');
const duration = intFlag(args.duration, '--duration');
const gatewayWorkers = intFlag(args['gateway-workers'], '--gateway-workers');
const pin = !args['no-pin'] && os.availableParallelism() >= 2;
const PROXY_CPUS = pin ? '0' : undefined;
const CLIENT_CPUS = pin ? '1' : undefined;
const REPO_ROOT = path.resolve(import.meta.dirname, '..');

const workDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-gateway-'));
const stops: Array<() => void> = [];
let wrkChild: ChildProcess | undefined;
let cleaned = false;
function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  wrkChild?.kill('SIGKILL');
  for (const stop of stops) stop();
  rmSync(workDir, { recursive: true, force: true, maxRetries: 5 });
}
cleanupOnExit(cleanup);

interface Target { name: 'direct' | 'nginx' | 'skiff'; port: number; pid?: number }
interface Run { rps: number; p50: number; p99: number; cpuUsPerReq?: number }

async function main(): Promise<void> {
  const backend = await startNginx(workDir, await freePort(), { kind: 'backend' }, '1', CLIENT_CPUS);
  stops.push(backend.stop);
  const proxyWorkers = pin ? '1' : 'auto';
  const nginx = await startNginx(workDir, await freePort(), { kind: 'proxy', upstreamPort: backend.port }, proxyWorkers, PROXY_CPUS);
  stops.push(nginx.stop);
  const skiff = await startGateway(backend.port);
  stops.push(skiff.stop);
  const targets: Target[] = [{ name: 'direct', port: backend.port }, { name: 'nginx', port: nginx.port, pid: nginx.pid }, { name: 'skiff', port: skiff.port, pid: skiff.pid }];
  console.log(`pinning: ${pin ? `proxies on cpu ${PROXY_CPUS}, wrk + backend on cpu ${CLIENT_CPUS}` : 'none'}; nginx proxy worker_processes ${proxyWorkers}; skiff gateway processes ${gatewayWorkers}, ${args['slow-path'] ? 'node:http path only' : 'fast path on'}`);
  const conns = [Number(args.connections), Number(args['latency-connections'])];
  for (const t of targets) await wrk(t, conns[0]!, Math.min(2, duration));

  const runs = new Map<string, Run[]>();
  for (let round = 1; round <= rounds; round++) {
    const order = targets.map((_, i) => targets[(i + round - 1) % targets.length]!);
    for (const c of conns) {
      for (const t of order) {
        const r = await wrk(t, c, duration);
        const key = `${t.name} c${c}`;
        runs.set(key, [...(runs.get(key) ?? []), r]);
        console.log(`round ${round}  ${key.padEnd(10)}  ${fmtRun(r)}`);
      }
    }
  }

  console.log(`\nmedians over ${rounds} round(s) (added = minus direct's median at the same concurrency):`);
  const med = (name: string, c: number) => {
    const rs = runs.get(`${name} c${c}`)!;
    return { rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), cpu: rs[0]!.cpuUsPerReq === undefined ? undefined : median(rs.map((r) => r.cpuUsPerReq!)) };
  };
  for (const c of conns) {
    const d = med('direct', c);
    for (const t of targets) {
      const m = med(t.name, c);
      const added = t.name === 'direct' ? '' : `  added p50 ${ms(m.p50 - d.p50)}  added p99 ${ms(m.p99 - d.p99)}`;
      const cpu = m.cpu === undefined ? '' : `  proxy cpu ${m.cpu.toFixed(1)} µs/req`;
      console.log(`c${c}  ${t.name.padEnd(6)}  ${Math.round(m.rps).toString().padStart(6)} req/s  p50 ${ms(m.p50)}  p99 ${ms(m.p99)}${added}${cpu}`);
    }
  }
  const [hi, lo] = conns as [number, number];
  const added = (name: string, c: number, key: 'p50' | 'p99') => med(name, c)[key] - med('direct', c)[key];
  console.log(
    `ratio skiff/nginx: throughput c${hi} ${(med('skiff', hi).rps / med('nginx', hi).rps).toFixed(2)}x` +
      `  added p50 c${lo} ${(added('skiff', lo, 'p50') / added('nginx', lo, 'p50')).toFixed(2)}x` +
      `  added p99 c${lo} ${(added('skiff', lo, 'p99') / added('nginx', lo, 'p99')).toFixed(2)}x` +
      `  cpu/req c${hi} ${(med('skiff', hi).cpu! / med('nginx', hi).cpu!).toFixed(2)}x`,
  );
}

/** The gateway child process; with --gateway-workers > 1 it forks that many listeners (bench/lib/gateway-server.ts). */
async function startGateway(backendPort: number): Promise<RunningServer> {
  const argv = [path.join(REPO_ROOT, 'bin/run-ts.mjs'), path.join(REPO_ROOT, 'bench/lib/gateway-server.ts'), '--backend', `127.0.0.1:${backendPort}`, '--workers', String(gatewayWorkers), ...(args['slow-path'] ? ['--slow-path'] : [])];
  const child = PROXY_CPUS ? spawn('taskset', ['-c', PROXY_CPUS, process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = stopper(child, undefined);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let seen = '';
      child.once('exit', (code) => reject(new Error(`gateway exited with ${code} before listening:\n${seen}`)));
      child.stdout!.on('data', (b: Buffer) => {
        seen += b.toString();
        const m = /listening (\d+)/.exec(seen);
        if (m) resolve(Number(m[1]));
      });
    });
    return { port, pid: child.pid!, stop };
  } catch (err) {
    stop();
    throw err;
  }
}

async function wrk(t: Target, connections: number, seconds: number): Promise<Run> {
  // wrk needs at least one connection per thread (-c1 runs one thread)
  const argv = ['-t', String(Math.min(Number(args.threads), connections)), '-c', String(connections), '-d', `${seconds}s`, '--latency', `http://127.0.0.1:${t.port}/`];
  const cpuBefore = t.pid === undefined ? 0 : treeCpuSeconds(t.pid);
  const out = await new Promise<string>((resolve, reject) => {
    const child = CLIENT_CPUS ? spawn('taskset', ['-c', CLIENT_CPUS, 'wrk', ...argv]) : spawn('wrk', argv);
    wrkChild = child;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', (err) => reject(new Error(`wrk: ${err.message} (Debian package wrk)`)));
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`wrk exited with ${code}: ${stderr}${stdout}`))));
  });
  const r = parseWrk(out, t.name);
  if (t.pid !== undefined) r.cpuUsPerReq = ((treeCpuSeconds(t.pid) - cpuBefore) * 1e6) / (r.rps * seconds);
  return r;
}

/** req/s and p50/p99 in ms from `wrk --latency`; non-2xx responses or socket errors fail the bench. */
function parseWrk(out: string, name: string): Run {
  const bad = /Non-2xx or 3xx responses: (\d+)|Socket errors: .*/.exec(out);
  if (bad) throw new Error(`${name}: ${bad[0]}\n${out}`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)$`, 'm').exec(out);
    if (!m) throw new Error(`${name}: no ${p}% latency in wrk output:\n${out}`);
    return Number(m[1]) * { us: 1e-3, ms: 1, s: 1e3 }[m[2] as 'us' | 'ms' | 's'];
  };
  if (!rps) throw new Error(`${name}: no Requests/sec in wrk output:\n${out}`);
  return { rps: Number(rps[1]), p50: pct('50'), p99: pct('99') };
}

/** user+system CPU seconds of a process and its direct children (nginx workers, gateway workers). */
function treeCpuSeconds(pid: number): number {
  const stat = (p: string) => {
    try {
      const s = readFileSync(`/proc/${p}/stat`, 'utf8');
      return s.slice(s.lastIndexOf(')') + 2).split(' ');
    } catch {
      return undefined;
    }
  };
  let ticks = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const f = stat(p);
    if (f && (p === String(pid) || f[1] === String(pid))) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / 100;
}

function fmtRun(r: Run): string {
  const cpu = r.cpuUsPerReq === undefined ? '' : `  proxy cpu ${r.cpuUsPerReq.toFixed(1)} µs/req`;
  return `${Math.round(r.rps).toString().padStart(6)} req/s  p50 ${ms(r.p50)}  p99 ${ms(r.p99)}${cpu}`;
}

function ms(v: number): string {
  return `${v.toFixed(3)} ms`;
}




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
