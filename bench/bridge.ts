// bench/bridge: what the instance network's nftables filtering costs. Two Skiff networks in one run,
// each with one instance namespace attached by the runtime's own attachInstance and an nginx `return 200`
// backend inside it; "filtered" keeps both nftables tables (bridge anti-spoofing, inet isolation) and
// the permanent neighbour entry, "unfiltered" has both tables removed (iptables accepts only). wrk from
// the host alternates between them every round; prints each run, the medians and the ratio
// filtered/unfiltered.
//
//   node bin/run-ts.mjs bench/bridge.ts [--rounds 4] [--duration 8] [--connections 50]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gatewayIp, parseCidr } from '../src/runtime/network/allocator.ts';
import { ensureAntiSpoof, removeAntiSpoof } from '../src/runtime/network/anti-spoof.ts';
import { ensureFirewall, removeFirewall } from '../src/runtime/network/firewall.ts';
import { removeIsolation } from '../src/runtime/network/isolation.ts';
import { attachInstance, detachInstance, ensureBridge, netnsName } from '../src/runtime/network/host-network.ts';
import { freeSubnetOctet } from '../test/helpers/tools.ts';
import { cleanupOnExit } from './lib/process.ts';
import { intFlag, median } from './lib/measure.ts';
import { BODY_100, NGINX_BIN, stopper } from './lib/nginx.ts';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '4' }, duration: { type: 'string', default: '8' }, connections: { type: 'string', default: '50' } } });
const rounds = intFlag(args.rounds, '--rounds');
const duration = intFlag(args.duration, '--duration');
const connections = intFlag(args.connections, '--connections');

interface Net { name: string; bridge: string; chainPrefix: string; subnet: ReturnType<typeof parseCidr>; id: string; ip: string; nginx?: ChildProcess; dir: string }

const tag = process.pid % 10000;
const work = mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-bridge-'));
const nets: Net[] = ['filtered', 'unfiltered'].map((name, i) => {
  const octet = freeSubnetOctet(211, (process.pid + i * 7) % 250);
  return { name, bridge: `skbb${i}-${tag}`, chainPrefix: `SKBB${i}-${tag}`, subnet: parseCidr(`10.211.${octet}.0/24`), id: `bench-${name}-${tag}`, ip: `10.211.${octet}.2`, dir: path.join(work, name) };
});

async function teardown(): Promise<void> {
  for (const n of nets) {
    if (n.nginx) {
      const exited = n.nginx.exitCode === null && n.nginx.signalCode === null ? once(n.nginx, 'exit') : undefined;
      stopper(n.nginx, undefined)(); // SIGTERM: the master takes its worker with it (SIGKILL orphaned it)
      await exited;
    }
    await detachInstance({ bridge: n.bridge, subnet: n.subnet, chainPrefix: n.chainPrefix }, n.id, n.ip);
    try { execFileSync('ip', ['link', 'del', n.bridge], { stdio: 'ignore' }); } catch { /* gone */ }
    await removeFirewall(n.chainPrefix);
    await removeAntiSpoof(n.chainPrefix);
  }
  rmSync(work, { recursive: true, force: true });
}
cleanupOnExit(() => void teardown());

async function setUp(n: Net): Promise<void> {
  const cfg = { bridge: n.bridge, subnet: n.subnet, chainPrefix: n.chainPrefix };
  await ensureBridge(cfg);
  await ensureFirewall({ ...cfg, egress: false });
  await ensureAntiSpoof(n.chainPrefix);
  await attachInstance(cfg, n.id, n.ip);
  if (n.name === 'unfiltered') {
    await removeAntiSpoof(n.chainPrefix);
    await removeIsolation(n.chainPrefix);
    execFileSync('ip', ['neigh', 'del', n.ip, 'dev', n.bridge]);
  }
  execFileSync('mkdir', ['-p', n.dir]);
  writeFileSync(path.join(n.dir, 'nginx.conf'), `daemon off; worker_processes 1; pid ${n.dir}/nginx.pid; error_log stderr error;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 100000; client_body_temp_path ${n.dir}/b; proxy_temp_path ${n.dir}/p; fastcgi_temp_path ${n.dir}/f; uwsgi_temp_path ${n.dir}/u; scgi_temp_path ${n.dir}/s;
  server { listen 0.0.0.0:8080; location / { default_type text/plain; return 200 '${BODY_100.trimEnd()}\\n'; } } }
`);
  n.nginx = spawn('ip', ['netns', 'exec', netnsName(n.id), NGINX_BIN, '-p', n.dir, '-c', path.join(n.dir, 'nginx.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://${n.ip}:8080/`).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${n.name}: nginx in ${netnsName(n.id)} did not answer (gateway ${gatewayIp(n.subnet)})`);
}

function wrk(n: Net, seconds: number): number {
  const out = execFileSync('wrk', ['-t', '2', '-c', String(connections), '-d', `${seconds}s`, `http://${n.ip}:8080/`], { encoding: 'utf8' });
  if (/Non-2xx|Socket errors/.test(out)) throw new Error(`${n.name}: errors\n${out}`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]);
}

for (const n of nets) await setUp(n);
console.log(`bridge bench: wrk -c${connections} ${duration}s × ${rounds} rounds, host → nginx in an instance netns; ${os.cpus().length} CPUs`);
for (const n of nets) wrk(n, 1); // warm-up
const results: Record<string, number[]> = { filtered: [], unfiltered: [] };
for (let r = 0; r < rounds; r++) {
  for (const n of r % 2 === 0 ? nets : [...nets].reverse()) {
    const rps = wrk(n, duration);
    results[n.name]!.push(rps);
    console.log(`round ${r + 1} ${n.name.padEnd(10)} ${rps.toFixed(0)} req/s`);
  }
}
const f = median(results.filtered!);
const u = median(results.unfiltered!);
console.log(`median filtered ${f.toFixed(0)} req/s, unfiltered ${u.toFixed(0)} req/s; filtered/unfiltered ${(f / u).toFixed(3)}`);
await teardown();
