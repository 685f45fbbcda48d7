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
// --metering adds a fourth target, `metered`: Skiff's gateway counting per instance for the metering
// (as a daemon with metering.enabled does) and read once a second, beside `skiff` with metering off.
//
// Pinning (default, 2+ CPUs): each proxy (nginx: worker_processes 1; Skiff: one Node process) runs
// alone on CPU 0; wrk and the backend share CPU 1, identical for all three targets. --no-pin lets the
// kernel place everything (nginx worker_processes auto).
import os from 'node:os';
import { parseArgs } from 'node:util';
import { startNginx, type RunningServer } from './lib/nginx.ts';
import { startGatewayProcess } from './lib/gateway-process.ts';
import { withCpu, wrk as loadWrk, type LoadRun } from './lib/load.ts';
import { freePort } from './lib/process.ts';
import { benchFrame, ms, PROXY_BENCH_OPTIONS, runBench } from './lib/proxy-bench.ts';
import { intFlag, median } from './lib/measure.ts';

const { values: args } = parseArgs({
  options: {
    ...PROXY_BENCH_OPTIONS,
    'gateway-workers': { type: 'string', default: '1' },
    'slow-path': { type: 'boolean', default: false },
    metering: { type: 'boolean', default: false },
  },
});
const rounds = intFlag(args.rounds, '--rounds');
const duration = intFlag(args.duration, '--duration');
const gatewayWorkers = intFlag(args['gateway-workers'], '--gateway-workers');
const pin = !args['no-pin'] && os.availableParallelism() >= 2;
const PROXY_CPUS = pin ? '0' : undefined;
const CLIENT_CPUS = pin ? '1' : undefined;

const { workDir, stops, cleanup } = benchFrame('skiff-bench-gateway-');

interface Target { name: 'direct' | 'nginx' | 'skiff' | 'metered'; port: number; pid?: number }
type Run = LoadRun;

async function main(): Promise<void> {
  const backend = await startNginx(workDir, await freePort(), { kind: 'backend' }, '1', CLIENT_CPUS);
  stops.push(backend.stop);
  const proxyWorkers = pin ? '1' : 'auto';
  const nginx = await startNginx(workDir, await freePort(), { kind: 'proxy', upstreamPort: backend.port }, proxyWorkers, PROXY_CPUS);
  stops.push(nginx.stop);
  const skiff = await startGateway(backend.port);
  stops.push(skiff.stop);
  const targets: Target[] = [{ name: 'direct', port: backend.port }, { name: 'nginx', port: nginx.port, pid: nginx.pid }, { name: 'skiff', port: skiff.port, pid: skiff.pid }];
  if (args.metering) {
    const metered = await startGateway(backend.port, true);
    stops.push(metered.stop);
    targets.push({ name: 'metered', port: metered.port, pid: metered.pid });
  }
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
  if (args.metering) {
    console.log(
      `metering on/off: throughput c${hi} ${(med('metered', hi).rps / med('skiff', hi).rps).toFixed(3)}x` +
        `  c${lo} ${(med('metered', lo).rps / med('skiff', lo).rps).toFixed(3)}x` +
        `  added p50 c${lo} ${ms(added('metered', lo, 'p50'))} vs ${ms(added('skiff', lo, 'p50'))}` +
        `  cpu/req c${hi} ${(med('metered', hi).cpu! / med('skiff', hi).cpu!).toFixed(3)}x`,
    );
  }
}

/** The gateway child process; with --gateway-workers > 1 it forks that many listeners (bench/lib/gateway-server.ts). */
async function startGateway(backendPort: number, metering = false): Promise<RunningServer> {
  return startGatewayProcess(['--backend', `127.0.0.1:${backendPort}`, '--workers', String(gatewayWorkers), ...(args['slow-path'] ? ['--slow-path'] : []), ...(metering ? ['--metering'] : [])], PROXY_CPUS);
}

function wrk(t: Target, connections: number, seconds: number): Promise<Run> {
  return withCpu(t.pid, seconds, () => loadWrk(`http://127.0.0.1:${t.port}/`, { threads: Number(args.threads), connections, seconds, cpus: CLIENT_CPUS }, t.name));
}

function fmtRun(r: Run): string {
  const cpu = r.cpuUsPerReq === undefined ? '' : `  proxy cpu ${r.cpuUsPerReq.toFixed(1)} µs/req`;
  return `${Math.round(r.rps).toString().padStart(6)} req/s  p50 ${ms(r.p50)}  p99 ${ms(r.p99)}${cpu}`;
}

runBench(main, cleanup);
