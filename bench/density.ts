// bench/density (issue 5, benchmark 4): what idle services cost. A child `skiff up` (fresh data dir,
// a network of its own) gets N scaled-to-zero services from one image (layers cached after the first);
// the daemon's RSS and CPU use over an idle period are the platform's overhead when nothing is served.
// Then F more services from the same image with scaling.freezeIdle and short windows get one request
// each, so each has an instance, and are left until every instance is frozen (cgroup freezer). Over
// the same idle period again: the daemon's RSS and CPU, the frozen instances' memory (cgroup working
// set, plus their supervisors' RSS/PSS) and CPU (cgroup cpuacct deltas). Last, each frozen service is
// requested once on a fresh connection: thaw latency (request → first byte, X-Skiff-Cold-Start set).
// Everything is deleted on exit, also on Ctrl-C. Needs root, runc.
//   node bin/run-ts.mjs bench/density.ts [--services 500] [--frozen 50] [--idle-seconds 20]
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startChildDaemon, type ChildDaemon } from '../test/helpers/child-daemon.ts';
import { removeTestNetwork } from '../test/helpers/daemon.ts';
import { pushHttpdImage } from '../test/helpers/images.ts';
import { SkiffClient } from '../src/api/client.ts';
import { cgroupUsage, instanceOnHost, isFrozen, type InstanceOnHost } from './lib/instance-cgroups.ts';
import { cpuSeconds, pssKiB, rssKiB } from './lib/proc-stats.ts';
import { pct, timedGet } from './lib/measure.ts';

const { values } = parseArgs({
  options: { services: { type: 'string', default: '500' }, frozen: { type: 'string', default: '50' }, 'idle-seconds': { type: 'string', default: '20' } },
});
const services = Number(values.services);
const frozenCount = Number(values.frozen);
const idleSeconds = Number(values['idle-seconds']);
if (!(services >= 0 && frozenCount >= 0 && idleSeconds > 0)) throw new Error('--services and --frozen must be ≥ 0, --idle-seconds > 0');
// Short windows, as the serving tests use, so an instance is frozen seconds after its request.
const FREEZE_SCALING = { window: '2s', idle: '1s', scaleToZeroGrace: '1s', keepAlive: 'fixed', freezeIdle: true } as const;
const TAG = process.pid.toString(16);
const net = { driver: 'runc' as const, bridge: `skdn-${TAG}`.slice(0, 15), subnet: `10.218.${process.pid % 250}.0/24`, chainPrefix: `SKDN-${TAG}`, egress: false, writableLayerBytes: 512 * 1024 ** 2 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MiB = (bytes: number) => bytes / 1024 / 1024;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Polls until every named service has exactly its frozen instance (phase frozen, cgroup FROZEN). */
async function waitAllFrozen(client: SkiffClient, dataDir: string, names: string[], timeoutMs: number): Promise<InstanceOnHost[]> {
  for (const deadline = Date.now() + timeoutMs; ; await sleep(500)) {
    const found: InstanceOnHost[] = [];
    let laggard: { name: string; phases: string } | undefined;
    for (const name of names) {
      const insts = (await client.service(name)).revisions.flatMap((r) => r.instances);
      const ice = insts.find((i) => i.phase === 'frozen');
      const host = ice && (() => { try { return instanceOnHost(dataDir, ice.id); } catch { return undefined; } })();
      const busy = insts.some((i) => i.phase === 'ready' || i.phase === 'starting' || i.phase === 'draining');
      if (host && isFrozen(host) && !busy) found.push(host);
      else laggard ??= { name, phases: insts.map((i) => i.phase).join(', ') || 'none' };
    }
    if (!laggard) return found;
    if (Date.now() > deadline) {
      const events = (await client.service(laggard.name)).events.slice(-4).map((e) => `${e.kind}: ${e.message}`).join('; ');
      throw new Error(`only ${found.length} of ${names.length} freezeIdle services frozen after ${timeoutMs / 1000} s; ${laggard.name} has instances [${laggard.phases}], last events: ${events}`);
    }
  }
}

/** CPU used over one idle period by the daemon, the frozen instances' cgroups and their supervisors. */
async function idlePeriod(pid: number, frozen: InstanceOnHost[]) {
  const cg = async () => sum(await Promise.all(frozen.map(async (i) => (await cgroupUsage(i)).cpuNanos)));
  const sup = () => sum(frozen.map((i) => cpuSeconds(i.supervisorPid)));
  const [daemon0, cg0, sup0, t0] = [cpuSeconds(pid), await cg(), sup(), performance.now()];
  await sleep(idleSeconds * 1000);
  const seconds = (performance.now() - t0) / 1000;
  return {
    daemonCpuPct: ((cpuSeconds(pid) - daemon0) / seconds) * 100,
    daemonRssMiB: rssKiB(pid) / 1024,
    frozenCpuMs: ((await cg()) - cg0) / 1e6,
    supervisorCpuMs: (sup() - sup0) * 1000,
    stillFrozen: frozen.filter(isFrozen).length,
  };
}

/** Mount points under `dir` (instance rootfs overlays) — the data dir is only removed without any. */
const mountsUnder = (dir: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(`${dir}/`));

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-density-'));
const runtimeInstances = path.join(dataDir, 'runtime', 'instances');
const instancesLeft = () => (existsSync(runtimeInstances) ? readdirSync(runtimeInstances).length : 0) + mountsUnder(dataDir).length;
let daemon: ChildDaemon | undefined;
let cleaning: Promise<void> | undefined;

/** Instances (pre-created, running or frozen) outlive a daemon by design: the services are deleted and
 *  their instances awaited before the daemon is stopped; the data dir and network go only when empty. */
function cleanup(): Promise<void> {
  return (cleaning ??= (async () => {
    if (daemon && daemon.proc.exitCode === null) {
      try {
        const client = new SkiffClient({ baseUrl: daemon.url, token: daemon.token });
        // Listed again until none is left: a deploy may have been in flight when an interrupt came.
        for (let list = (await client.listServices()).services; list.length > 0; list = (await client.listServices()).services) {
          for (const svc of list) await client.deleteService(svc.name);
        }
        for (const deadline = Date.now() + 120_000; instancesLeft() > 0 && Date.now() < deadline; ) await sleep(250);
      } catch (err) {
        console.error(`cleanup: ${(err as Error).message}`);
      }
      daemon.proc.kill('SIGTERM');
      await daemon.exited;
    }
    if (instancesLeft() > 0) {
      console.error(`cleanup: instances still exist; ${dataDir} and bridge ${net.bridge} are left for inspection`);
      return;
    }
    rmSync(dataDir, { recursive: true, force: true });
    await removeTestNetwork(net);
  })());
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanup().finally(() => process.exit(130)));

try {
  daemon = await startChildDaemon(dataDir, { SKIFF_RUNTIME_BRIDGE: net.bridge, SKIFF_RUNTIME_SUBNET: net.subnet, SKIFF_RUNTIME_CHAIN_PREFIX: net.chainPrefix, SKIFF_RUNTIME_EGRESS: 'false' });
  const pid = daemon.proc.pid!;
  const client = new SkiffClient({ baseUrl: daemon.url, token: daemon.token });
  const deploy = (doc: Parameters<SkiffClient['deploy']>[0]) => {
    if (cleaning) throw new Error('interrupted'); // no new services once cleanup has begun
    return client.deploy(doc);
  };
  const baseline = rssKiB(pid) / 1024;
  const image = await pushHttpdImage(daemon, 'bench/density', 'v1');
  const t0 = performance.now();
  for (let i = 0; i < services; i++) await deploy({ name: `svc-${i}`, image: image.reference });
  const deploySeconds = (performance.now() - t0) / 1000;
  // Let the pre-created pool (bounded node-wide by coldStart.poolMax) fill before measuring idle.
  await sleep(15_000);
  const zero = await idlePeriod(pid, []);
  console.log(`${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`${services} services deployed in ${deploySeconds.toFixed(1)} s (${((deploySeconds * 1000) / Math.max(1, services)).toFixed(1)} ms each)`);
  console.log(`daemon RSS: ${baseline.toFixed(0)} MiB empty, ${zero.daemonRssMiB.toFixed(0)} MiB with ${services} idle services (${(((zero.daemonRssMiB - baseline) * 1024) / Math.max(1, services)).toFixed(1)} KiB each)`);
  console.log(`daemon CPU while idle: ${zero.daemonCpuPct.toFixed(2)} % of one core over ${idleSeconds} s`);
  let headline = `density: ${services} idle services → daemon ${zero.daemonRssMiB.toFixed(0)} MiB RSS, ${zero.daemonCpuPct.toFixed(2)} % of a core idle`;

  if (frozenCount > 0) {
    const names = Array.from({ length: frozenCount }, (_, i) => `ice-${i}`);
    for (const name of names) await deploy({ name, image: image.reference, scaling: FREEZE_SCALING });
    for (const name of names) {
      const r = await timedGet(`${daemon.gatewayUrl}/`, `${name}.localhost`);
      if (r.status !== 200) throw new Error(`${name}: first request answered ${r.status}`);
    }
    const frozen = await waitAllFrozen(client, dataDir, names, 60_000 + frozenCount * 1000);
    const idle = await idlePeriod(pid, frozen);
    const ws = await Promise.all(frozen.map(async (i) => (await cgroupUsage(i)).workingSetBytes));
    const supRss = frozen.map((i) => rssKiB(i.supervisorPid) * 1024);
    const supPss = frozen.map((i) => pssKiB(i.supervisorPid) * 1024);
    const each = (xs: number[]) => `${MiB(sum(xs)).toFixed(1)} MiB (${MiB(sum(xs) / xs.length).toFixed(2)} MiB each)`;
    console.log(`${frozenCount} freezeIdle services served once and frozen (${idle.stillFrozen} still frozen after the idle period)`);
    console.log(`daemon RSS: ${idle.daemonRssMiB.toFixed(0)} MiB with ${services} idle services + ${frozenCount} frozen instances`);
    console.log(`daemon CPU while idle: ${idle.daemonCpuPct.toFixed(2)} % of one core over ${idleSeconds} s`);
    console.log(`frozen instances' memory: cgroup working set ${each(ws)}; supervisors RSS ${each(supRss)}, PSS ${each(supPss)}`);
    console.log(`frozen instances' CPU while idle: cgroups ${idle.frozenCpuMs.toFixed(3)} ms, supervisors ${idle.supervisorCpuMs.toFixed(0)} ms in total over ${idleSeconds} s`);

    // Thaw: each frozen service once, in turn, on a fresh connection.
    const thaws: number[] = [];
    let warm = 0;
    for (const name of names) {
      const r = await timedGet(`${daemon.gatewayUrl}/`, `${name}.localhost`);
      if (r.status !== 200) throw new Error(`${name}: thawing request answered ${r.status}`);
      if (r.cold === undefined) warm++;
      else thaws.push(r.ms);
    }
    let thawed = 0;
    for (const [i, name] of names.entries()) {
      if ((await client.service(name)).events.some((e) => e.kind === 'thawed' && e.message.startsWith(frozen[i]!.id))) thawed++;
    }
    const p50 = pct(thaws, 50).toFixed(1);
    const p99 = pct(thaws, 99).toFixed(1);
    console.log(`thaw, request → first byte on a fresh connection: n=${thaws.length} p50 ${p50} ms p99 ${p99} ms (${thawed} of ${frozenCount} 'thawed' events name the frozen instance${warm ? `; ${warm} answers without X-Skiff-Cold-Start discarded` : ''})`);
    headline += `; +${frozenCount} frozen: daemon ${idle.daemonRssMiB.toFixed(0)} MiB, ${idle.daemonCpuPct.toFixed(2)} %, ${MiB((sum(ws) + sum(supPss)) / frozenCount).toFixed(2)} MiB per frozen instance (cgroup + supervisor PSS), ${idle.frozenCpuMs.toFixed(1)} ms CPU in all, thaw p50 ${p50} ms p99 ${p99} ms`;
  }
  console.log(headline);
} finally {
  await cleanup();
}
