// bench/instance-start: how fast a created (scaled-to-zero) instance answers, runc driver vs podman.
// Each round, interleaved (the order alternates): Skiff = runtime.create (untimed: it happens ahead of
// the request) then timed runtime.start + TCP connects to busybox httpd until one succeeds; podman =
// timed `podman run --rm -d` of the same rootfs (imported as an image) + connects to its published port.
// Also reports create time and the supervisor's memory (RSS, and PSS: pages shared with other
// supervisors counted by share). Prints p50/p99 per side and last the ratio podman/Skiff (above 1 = Skiff
// is faster). Needs root, runc, podman, busybox-static.
//
//   node bin/run-ts.mjs bench/instance-start.ts [--rounds 30] [--settle-ms 0]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createRuncRuntime, type RuncRuntime } from '../src/runtime/runc/driver.ts';
import { removeFirewall } from '../src/runtime/network/firewall.ts';
import { removeAntiSpoof } from '../src/runtime/network/anti-spoof.ts';
import { makeBusyboxRootfs } from '../test/runtime/rootfs.ts';
import { pct } from './lib/measure.ts';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '30' }, 'settle-ms': { type: 'string', default: '0' } } });
const rounds = Number(args.rounds);
const settleMs = Number(args['settle-ms']); // idle time between create and the request, as for a warm-pool instance
if (!(rounds >= 1 && settleMs >= 0)) throw new Error('--rounds must be positive, --settle-ms not negative');

const TAG = (process.pid % 65536).toString(16).padStart(4, '0');
const NETWORK = { bridge: `skb-${TAG}`, cidr: `10.220.${process.pid % 250}.0/24`, chainPrefix: `SKB-${TAG}`, egress: false };
const IMAGE = `localhost/skiff-bench-busybox-${TAG}:latest`;
const HTTPD = ['httpd', '-f', '-p', '8080', '-h', '/www'];

function sh(cmd: string, argv: string[]): string {
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: ${r.error?.message ?? r.stderr.toString()}`);
  return r.stdout.toString();
}

/** Connects until the port accepts (a refused connect is answered at once, so this polls every ~1 ms). */
async function untilAccepts(host: string, port: number): Promise<void> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 1))) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port }, () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
  }
  throw new Error(`${host}:${port} never accepted`);
}

const ms = (ns: bigint) => Number(ns) / 1e6;
const kib = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);

const root = mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-start-'));
const res = { skiff: [] as number[], startCall: [] as number[], create: [] as number[], podman: [] as number[], rss: [] as number[], pss: [] as number[] };
let runtime: RuncRuntime | undefined;
try {
  const rootfs = makeBusyboxRootfs(path.join(root, 'rootfs'));
  sh('tar', ['-C', rootfs, '-cf', path.join(root, 'rootfs.tar'), '.']);
  sh('podman', ['import', '-q', path.join(root, 'rootfs.tar'), IMAGE]);
  runtime = await createRuncRuntime({ root: path.join(root, 'state'), network: NETWORK });
  for (let i = 0; i < rounds; i++) {
    for (const side of i % 2 === 0 ? ['skiff', 'podman'] : ['podman', 'skiff']) {
      if (side === 'skiff') {
        const id = `skiff-bench-${TAG}-${i}`;
        const c0 = process.hrtime.bigint();
        const created = await runtime.create({
          id, service: 'bench', rootfs, readOnlyRoot: true, args: HTTPD, env: ['PATH=/bin'], cwd: '/',
          user: { uid: 0, gid: 0, additionalGids: [] }, hostname: 'bench', limits: { memoryBytes: 64 << 20, cpus: 1, pids: 64 },
        });
        res.create.push(ms(process.hrtime.bigint() - c0));
        await new Promise((r) => setTimeout(r, settleMs));
        const t0 = process.hrtime.bigint();
        await runtime.start(id);
        const t1 = process.hrtime.bigint();
        await untilAccepts(created.ip, 8080);
        const t2 = process.hrtime.bigint();
        res.startCall.push(ms(t1 - t0)); res.skiff.push(ms(t2 - t0));
        const sup = readFileSync(path.join(root, 'state/instances', id, 'supervisor.pid'), 'utf8').trim();
        res.rss.push(kib(readFileSync(`/proc/${sup}/status`, 'utf8'), 'VmRSS') / 1024);
        res.pss.push(kib(readFileSync(`/proc/${sup}/smaps_rollup`, 'utf8'), 'Pss') / 1024);
        await runtime.delete(id);
      } else {
        const port = await new Promise<number>((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); }); });
        const t0 = process.hrtime.bigint();
        const cid = sh('podman', ['run', '--rm', '-d', '--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768', '-p', `127.0.0.1:${port}:8080`, IMAGE, ...HTTPD]).trim();
        await untilAccepts('127.0.0.1', port);
        res.podman.push(ms(process.hrtime.bigint() - t0));
        sh('podman', ['rm', '-f', '-t', '0', cid]);
      }
    }
  }
} finally {
  for (const s of (await runtime?.list()) ?? []) await runtime?.delete(s.id);
  spawnSync('podman', ['rmi', '-f', IMAGE], { stdio: 'ignore' });
  spawnSync('ip', ['link', 'del', NETWORK.bridge], { stdio: 'ignore' });
  await removeFirewall(NETWORK.chainPrefix);
  await removeAntiSpoof(NETWORK.chainPrefix);
  rmSync(`/run/skiff/ipam/${NETWORK.bridge}`, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
}
const line = (name: string, xs: number[], unit: string) => console.log(`${name.padEnd(44)} p50 ${pct(xs, 50).toFixed(1)} ${unit}  p99 ${pct(xs, 99).toFixed(1)} ${unit}`);
console.log(`${rounds} rounds, settle ${settleMs} ms, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
line('skiff create (ahead of the request)', res.create, 'ms');
line('skiff start() call', res.startCall, 'ms');
line('skiff start -> port accepts', res.skiff, 'ms');
line('podman run -d -> port accepts', res.podman, 'ms');
line('supervisor RSS', res.rss, 'MiB');
line('supervisor PSS', res.pss, 'MiB');
console.log(`ratio podman/skiff (p50): ${(pct(res.podman, 50) / pct(res.skiff, 50)).toFixed(1)}`);
