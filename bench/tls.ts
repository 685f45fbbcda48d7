// bench/tls: Skiff's gateway terminating TLS vs nginx terminating TLS, same backend, same certificate,
// same run; and what HTTP/2 over TLS would cost the gateway. Same arrangement as bench/gateway.ts:
// the backend is nginx `return 200` with a 100-byte body; the Gateway runs alone in a child process
// (bench/lib/gateway-server.ts) with its TLS port open and the certificate installed for the custom
// domain `localhost` as `skiff domain add --cert --key` would (SNI picks it; the name resolves to
// 127.0.0.1, so wrk and h2load send it); nginx proxies with `listen ssl`. The certificate is a P-256
// leaf signed by a throwaway CA (test/domains/certs.ts), as ACME issues.
//
// Per round, in an order that rotates every round, after one uncounted warm-up per target:
//   tls c50 / c10   wrk -t2 over https, keep-alive (throughput, latency)
//   new conns       bench/lib/tls-handshakes.ts: --handshake-connections loops of full handshake +
//                   one request with Connection: close (handshakes/s, proxy CPU per connection);
//                   with --resume, "resumed conns": each offers its last session ticket instead
//   plain c50       wrk over http to the same proxies (what TLS adds)
//   h2 (unless --no-h2)  h2load, 50 requests in flight both ways: HTTP/2 as -c10 -m5 (nginx `http2`,
//                   and the gateway's prototype: bench/lib/h2-prototype.ts) against HTTP/1.1 over
//                   TLS as -c50 (the gateway's fast path, nginx)
// Prints each run, medians, proxy CPU per request, and last the ratios skiff/nginx (the median of
// each round's ratio).
//
//   node bin/run-ts.mjs bench/tls.ts [--rounds 3] [--duration 10] [--connections 50] [--latency-connections 10]
//        [--handshake-connections 16] [--threads 2] [--no-pin] [--no-h2] [--resume] [--only tls,conns,plain,h2]
//
// Pinning as bench/gateway.ts: each proxy alone on CPU 0 (nginx worker_processes 1; Skiff one Node
// process), the load generators and the backend on CPU 1.
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { makeCa } from '../test/domains/certs.ts';
import { startGatewayProcess } from './lib/gateway-process.ts';
import { h2load, runTool, withCpu, wrk, type LoadRun } from './lib/load.ts';
import { intFlag, median } from './lib/measure.ts';
import { startNginx } from './lib/nginx.ts';
import { freePort } from './lib/process.ts';
import { benchFrame, ms, PROXY_BENCH_OPTIONS, runBench } from './lib/proxy-bench.ts';

const { values: args } = parseArgs({
  options: {
    ...PROXY_BENCH_OPTIONS,
    'handshake-connections': { type: 'string', default: '16' },
    'no-h2': { type: 'boolean', default: false },
    resume: { type: 'boolean', default: false },
    only: { type: 'string', default: 'tls,conns,plain,h2' },
  },
});
const rounds = intFlag(args.rounds, '--rounds');
const duration = intFlag(args.duration, '--duration');
const hi = intFlag(args.connections, '--connections');
const lo = intFlag(args['latency-connections'], '--latency-connections');
const handshakeConns = intFlag(args['handshake-connections'], '--handshake-connections');
const threads = intFlag(args.threads, '--threads');
const GROUPS = ['tls', 'conns', 'plain', 'h2'];
const only = new Set(args.only!.split(',').map((g) => g.trim()));
for (const g of only) if (!GROUPS.includes(g)) throw new Error(`--only: ${g} is none of ${GROUPS.join(', ')}`);
if (args['no-h2']) only.delete('h2');
const connKey = `${args.resume ? 'resumed' : 'new'} conns c${handshakeConns}`;
const pin = !args['no-pin'] && os.availableParallelism() >= 2;
const PROXY_CPUS = pin ? '0' : undefined;
const CLIENT_CPUS = pin ? '1' : undefined;
const HOST = 'localhost';
/** HTTP/2: connections × streams each = the HTTP/1.1 runs' `hi` requests in flight */
const H2_STREAMS = 5;
const REPO_ROOT = path.resolve(import.meta.dirname, '..');

const { workDir, stops, cleanup } = benchFrame('skiff-bench-tls-');

interface Proxy { name: 'nginx' | 'skiff'; plainPort: number; tlsPort: number; h2Port?: number; pid: number }
/** one kind of run against one proxy */
interface Measure { key: string; unit: 'req/s' | 'conn/s'; run(p: Proxy, seconds: number): Promise<LoadRun> }

async function main(): Promise<void> {
  const certDir = path.join(workDir, 'certs');
  mkdirSync(certDir);
  const leaf = makeCa(certDir).leaf(HOST);

  const backend = await startNginx(workDir, await freePort(), { kind: 'backend' }, '1', CLIENT_CPUS);
  stops.push(backend.stop);
  const h2 = only.has('h2');
  // one nginx with a TLS, a plain and (for h2) an HTTP/2 listener: one worker, one CPU figure
  const nginxPlainPort = await freePort();
  const nginxH2Port = h2 ? await freePort() : undefined;
  const tls = { certFile: leaf.certFile, keyFile: leaf.keyFile, servername: HOST, h2Port: nginxH2Port, plainPort: nginxPlainPort };
  const nginx = await startNginx(workDir, await freePort(), { kind: 'proxy', upstreamPort: backend.port, tls }, pin ? '1' : 'auto', PROXY_CPUS);
  stops.push(nginx.stop);
  const skiff = await startGatewayProcess(['--backend', `127.0.0.1:${backend.port}`, '--tls-cert', leaf.certFile, '--tls-key', leaf.keyFile, '--tls-host', HOST, ...(h2 ? ['--h2-prototype'] : [])], PROXY_CPUS);
  stops.push(skiff.stop);
  const proxies: Proxy[] = [
    { name: 'nginx', plainPort: nginxPlainPort, tlsPort: nginx.port, h2Port: nginxH2Port, pid: nginx.pid },
    { name: 'skiff', plainPort: skiff.port, tlsPort: skiff.tlsPort!, h2Port: skiff.h2Port, pid: skiff.pid },
  ];
  console.log(`pinning: ${pin ? `proxies on cpu ${PROXY_CPUS}, load generators + backend on cpu ${CLIENT_CPUS}` : 'none'}; nginx worker_processes ${pin ? 1 : 'auto'}; skiff one gateway process; certificate ECDSA P-256 for ${HOST}`);

  const wrkOn = (url: (p: Proxy) => string, c: number): Measure['run'] => (p, s) => withCpu(p.pid, s, () => wrk(url(p), { threads, connections: c, seconds: s, cpus: CLIENT_CPUS }, p.name));
  const measures: Measure[] = [];
  if (only.has('tls')) {
    measures.push(
      { key: `tls c${hi}`, unit: 'req/s', run: wrkOn((p) => `https://${HOST}:${p.tlsPort}/`, hi) },
      { key: `tls c${lo}`, unit: 'req/s', run: wrkOn((p) => `https://${HOST}:${p.tlsPort}/`, lo) },
    );
  }
  if (only.has('conns')) measures.push({ key: connKey, unit: 'conn/s', run: (p, s) => withCpu(p.pid, s, () => handshakes(p, s)) });
  if (only.has('plain')) measures.push({ key: `plain c${hi}`, unit: 'req/s', run: wrkOn((p) => `http://${HOST}:${p.plainPort}/`, hi) });
  if (h2) {
    const h2c = Math.max(1, Math.round(hi / H2_STREAMS));
    measures.push(
      { key: `h2load h1 c${hi}`, unit: 'req/s', run: (p, s) => withCpu(p.pid, s, () => h2load(`https://${HOST}:${p.tlsPort}/`, { connections: hi, streams: 1, seconds: s, h1: true, cpus: CLIENT_CPUS }, p.name)) },
      { key: `h2load h2 c${h2c}m${H2_STREAMS}`, unit: 'req/s', run: (p, s) => withCpu(p.pid, s, () => h2load(`https://${HOST}:${p.h2Port}/`, { connections: h2c, streams: H2_STREAMS, seconds: s, cpus: CLIENT_CPUS }, p.name)) },
    );
  }
  for (const m of measures) for (const p of proxies) await m.run(p, Math.min(2, duration));

  const runs = new Map<string, LoadRun[]>();
  for (let round = 1; round <= rounds; round++) {
    const order = proxies.map((_, i) => proxies[(i + round - 1) % proxies.length]!);
    for (const m of measures) {
      for (const p of order) {
        const r = await m.run(p, duration);
        const key = `${p.name} ${m.key}`;
        runs.set(key, [...(runs.get(key) ?? []), r]);
        console.log(`round ${round}  ${key.padEnd(24)}  ${fmtRun(r, m.unit)}`);
      }
    }
  }

  const med = (name: string, key: string) => {
    const rs = runs.get(`${name} ${key}`)!;
    return { rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), cpu: median(rs.map((r) => r.cpuUsPerReq!)), meanOnly: rs[0]!.meanOnly };
  };
  console.log(`\nmedians over ${rounds} round(s) (h2load reports a mean latency, no percentiles):`);
  for (const m of measures) {
    for (const p of proxies) {
      const x = med(p.name, m.key);
      const lat = x.meanOnly ? `mean ${ms(x.p50)}` : `p50 ${ms(x.p50)}  p99 ${ms(x.p99)}`;
      console.log(`${m.key.padEnd(18)}  ${p.name.padEnd(5)}  ${Math.round(x.rps).toString().padStart(6)} ${m.unit}  ${lat}  proxy cpu ${x.cpu.toFixed(1)} µs/${m.unit === 'conn/s' ? 'conn' : 'req'}`);
    }
  }
  // Ratios are the median of each round's ratio: the two runs of a pair are adjacent in time, so a
  // neighbour's load on the shared machine moves both (the medians above may come from different rounds).
  const per = (a: string, b: string, f: (r: LoadRun) => number) => median(runs.get(a)!.map((r, i) => f(r) / f(runs.get(b)![i]!))).toFixed(2);
  const ratio = (key: string, f: (r: LoadRun) => number) => per(`skiff ${key}`, `nginx ${key}`, f);
  const rps = (r: LoadRun) => r.rps;
  const cpu = (r: LoadRun) => r.cpuUsPerReq!;
  const has = (key: string) => runs.has(`skiff ${key}`);
  if (h2) {
    const [h1k, h2k] = [measures.at(-2)!.key, measures.at(-1)!.key];
    console.log(
      `HTTP/2 (${h2k}) vs HTTP/1.1 over TLS (${h1k}): skiff prototype ${per(`skiff ${h2k}`, `skiff ${h1k}`, rps)}x req/s, ${per(`skiff ${h2k}`, `skiff ${h1k}`, cpu)}x cpu/req;` +
        ` nginx ${per(`nginx ${h2k}`, `nginx ${h1k}`, rps)}x req/s, ${per(`nginx ${h2k}`, `nginx ${h1k}`, cpu)}x cpu/req; skiff/nginx over h2 ${ratio(h2k, rps)}x req/s, ${ratio(h2k, cpu)}x cpu/req`,
    );
  }
  if (has(`tls c${hi}`) && has(`plain c${hi}`)) {
    console.log(`TLS over plain (tls c${hi} / plain c${hi}, cpu/req): skiff ${per(`skiff tls c${hi}`, `skiff plain c${hi}`, cpu)}x, nginx ${per(`nginx tls c${hi}`, `nginx plain c${hi}`, cpu)}x`);
  }
  const parts = [
    ...(has(`tls c${hi}`) ? [`throughput c${hi} ${ratio(`tls c${hi}`, rps)}x`, `p99 c${lo} ${ratio(`tls c${lo}`, (r) => r.p99)}x`, `cpu/req c${hi} ${ratio(`tls c${hi}`, cpu)}x`] : []),
    ...(has(connKey) ? [`${connKey.replace(/ c\d+$/, '')}/s ${ratio(connKey, rps)}x`, `cpu/conn ${ratio(connKey, cpu)}x`] : []),
    ...(has(`plain c${hi}`) ? [`plain cpu/req ${ratio(`plain c${hi}`, cpu)}x`] : []),
  ];
  console.log(`ratio skiff/nginx over TLS (median of rounds): ${parts.join('  ')}`);
}

/** Full handshakes + one request each (bench/lib/tls-handshakes.ts), as a load generator on the client CPU. */
async function handshakes(p: Proxy, seconds: number): Promise<LoadRun> {
  const argv = ['--port', String(p.tlsPort), '--servername', HOST, '--connections', String(handshakeConns), '--seconds', String(seconds), ...(args.resume ? ['--resume'] : [])];
  const out = await runTool(process.execPath, [path.join(REPO_ROOT, 'bin/run-ts.mjs'), path.join(REPO_ROOT, 'bench/lib/tls-handshakes.ts'), ...argv], CLIENT_CPUS, 'nodejs');
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as { count: number; rps: number; p50: number; p99: number; resumed: number };
  // a server that cannot resume answers every offered ticket with a full handshake: say so
  if (args.resume && r.resumed < r.count / 2) console.log(`  (${p.name}: only ${r.resumed} of ${r.count} connections resumed their session)`);
  return { rps: r.rps, p50: r.p50, p99: r.p99 };
}

function fmtRun(r: LoadRun, unit: string): string {
  const lat = r.meanOnly ? `mean ${ms(r.p50)}` : `p50 ${ms(r.p50)}  p99 ${ms(r.p99)}`;
  return `${Math.round(r.rps).toString().padStart(6)} ${unit}  ${lat}  proxy cpu ${r.cpuUsPerReq!.toFixed(1)} µs`;
}

runBench(main, cleanup);
