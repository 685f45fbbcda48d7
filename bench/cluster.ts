// bench/cluster (issue 16): Skiff on a real three-node Docker Swarm (test/helpers/swarm-lab.ts: three
// dockerds in their own namespaces on this machine, 1 s dispatcher heartbeat) against plain `docker
// service create/scale` on the same swarm. One lab, three daemons in this process (swarm driver, hybrid
// driver, runc driver), three parts:
//
//   cold start   request → first byte of a scaled-to-zero busybox-httpd service through Skiff's gateway
//                (fresh connection, only answers carrying X-Skiff-Cold-Start count), interleaved with a
//                rotating order:
//                  skiff-swarm    runtime.driver swarm (the pool's pre-created instance: a swarm
//                                 service at 0 replicas, scaled to 1 on the request)
//                  skiff-hybrid   runtime.driver hybrid (the first instance of a revision under runc here)
//                  docker-scale   `docker service scale -d S=1` of a service created once at 0 replicas
//                                 (dnsrr, host-mode published port, restart none, --init); its task
//                                 polled (Engine API, 10 ms) until running, then GETs of the published
//                                 port on the task's node until one answers
//                  docker-create  `docker service create -d` of the same → first answer, then `service rm`
//                The image is on every node before the first round (Skiff's prepare pulls it; the peer's
//                reference is the same digest from the same registry, pulled by `docker pull` on each
//                node), so no side pays a pull. Between rounds every service is back at zero.
//   throughput   wrk (-c32, 10 s) through Skiff's gateway (Host header) to a service with min = max = 3
//                instances on the swarm's nodes vs the same service on the runc driver on this machine,
//                alternating; the ratio remote/local.
//   recovery     a service with min 3 on the swarm; a worker node holding an instance is SIGKILLed
//                (lab.killNode) under a light constant load (4 clients in a loop): time until no instance
//                on that node is ready in Skiff's API (out of the routes), until 3 are ready again, and
//                the failed requests after the kill. Peer: `docker service create --replicas 3
//                --restart-condition any`, same kill: time until no task on the node is desired running,
//                and until 3 tasks run on live nodes. The node is restarted (and Ready) after each round.
//
// Needs root, docker.io (dockerd, docker-init, docker), runc, wrk. Cleans up (daemons with their
// instances, swarm services, the lab) also when a part fails.
//
//   node bin/run-ts.mjs bench/cluster.ts [--rounds 10] [--duration 10] [--connections 32]
//        [--instances 3] [--tput-rounds 2] [--recovery-rounds 2]
import { createHash } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { SkiffClient } from '../src/api/client.ts';
import type { Settings } from '../src/config/settings.ts';
import { startTestDaemon, type TestDaemon } from '../test/helpers/daemon.ts';
import { pushHttpdImage } from '../test/helpers/images.ts';
import { gatewayGet, readyCount, until } from '../test/helpers/serving.ts';
import { startSwarmLab, type SwarmLab } from '../test/helpers/swarm-lab.ts';
import { runTool } from './lib/load.ts';
import { intFlag, median, pct, timedGet } from './lib/measure.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    instances: { type: 'string', default: '3' },
    'tput-rounds': { type: 'string', default: '2' },
    'recovery-rounds': { type: 'string', default: '2' },
  },
});
const rounds = intFlag(args.rounds, '--rounds');
const duration = intFlag(args.duration, '--duration');
const connections = intFlag(args.connections, '--connections');
const instances = intFlag(args.instances, '--instances');
const tputRounds = intFlag(args['tput-rounds'], '--tput-rounds');
const recoveryRounds = intFlag(args['recovery-rounds'], '--recovery-rounds');

const TAG = (process.pid % 65536).toString(16).padStart(4, '0');
// keepAlive fixed: the adaptive policy would learn to keep a service requested every few seconds warm
// (bench/cold-start.ts)
const SCALING = { window: '2s', idle: '1s', scaleToZeroGrace: '1s', keepAlive: 'fixed' as const };
const PEER_SCALE = `bench-scale-${TAG}`;
const PEER_CREATE = `bench-create-${TAG}`;
const PEER_RECOVER = `bench-recover-${TAG}`;
const PEER_SCALE_PORT = 18080;
const PEER_CREATE_PORT = 18081;
const t0 = Date.now();
const log = (what: string) => console.error(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- cleanup: everything registered here runs in reverse order, also after a failure ----
const cleanups: Array<() => Promise<void> | void> = [];
const ctx = { after: (fn: () => Promise<void> | void) => void cleanups.push(fn) };
async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch (err) {
      console.error(`cleanup: ${(err as Error).message}`);
    }
  }
}

// ---- the Engine API of the manager (polling without a CLI spawn per look) ----
interface Task { ID: string; NodeID: string; DesiredState: string; Status: { State: string } }
function engine<T>(lab: SwarmLab, urlPath: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: lab.manager.socket, path: urlPath, timeout: 5_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve(JSON.parse(body) as T) : reject(new Error(`${urlPath}: ${res.statusCode} ${body}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`${urlPath}: timed out`)));
    req.on('error', reject);
  });
}
const tasksOf = (lab: SwarmLab, service: string) => engine<Task[]>(lab, `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [service] }))}`);

/** Waits for the service's task to run (the manager's Engine API, polled every 10 ms: Skiff's swarm
 *  driver polls every 100 ms), then GETs `port` on the task's node until it answers 200 (each GET given
 *  200 ms: a GET sent too early, between the node's port mapping and the task's network, can lose its SYN
 *  and wait out the 1 s retransmit, which says nothing about the platform: measured, ~0.7 s of the peer's
 *  time when every node was polled from the scale on). */
async function untilTaskAnswers(lab: SwarmLab, service: string, port: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  let address: string | undefined;
  while (!address) {
    if (Date.now() > deadline) throw new Error(`${service}: no task running`);
    const t = (await tasksOf(lab, service)).find((x) => x.DesiredState === 'running' && x.Status.State === 'running');
    address = t && lab.nodes.find((n) => n.id === t.NodeID)?.address;
    if (!address) await sleep(10);
  }
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get(`http://${address}:${port}/`, { agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.setTimeout(200, () => req.destroy());
      req.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(1);
  }
  throw new Error(`${service}: port ${port} never answered on ${address}`);
}

/** No task of `service` runs or is on its way on any node (after a scale to 0 or an rm). */
async function peerAtZero(lab: SwarmLab, service: string): Promise<void> {
  await until(`${service} at zero`, async () => {
    const tasks = await tasksOf(lab, service).catch(() => [] as Task[]);
    return tasks.every((t) => t.DesiredState !== 'running' && !['running', 'starting', 'preparing', 'assigned', 'accepted', 'ready', 'pending', 'new', 'allocated'].includes(t.Status.State));
  }, 60_000);
}

interface Inst { id: string; phase: string; node?: string }
async function instancesOf(client: SkiffClient, name: string): Promise<Inst[]> {
  return (await client.service(name)).revisions.flatMap((r) => r.instances as Inst[]);
}

/** Back at zero: nothing ready, starting or draining, and (pool on) the pre-created instance waiting. */
async function skiffAtZero(client: SkiffClient, name: string): Promise<void> {
  await until(`${name} back at zero`, async () => {
    const phases = (await instancesOf(client, name)).map((i) => i.phase);
    return !phases.some((p) => p === 'ready' || p === 'starting' || p === 'draining') && phases.includes('pre-created');
  }, 60_000);
}

const ownerOf = (d: TestDaemon) => `skiff-${createHash('sha256').update(d.dataDir).digest('hex').slice(0, 12)}`;

function daemonOn(lab: SwarmLab, driver: 'swarm' | 'hybrid' | 'runc'): Promise<TestDaemon> {
  return startTestDaemon(ctx, {
    settings: (s: Settings) => {
      if (driver === 'runc') return;
      s.listen = { host: lab.hostAddress, port: 0 };
      s.runtime.driver = driver;
      s.runtime.swarm = { ...s.runtime.swarm, dockerHost: lab.manager.host, nodeHosts: lab.nodes.map((n) => `${n.name}=${n.host}`), stopGraceMs: 2000 };
    },
  });
}

const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`).padStart(9);
const line = (name: string, xs: number[]) =>
  console.log(`${name.padEnd(14)} n=${String(xs.length).padStart(3)}  p50 ${fmt(pct(xs, 50))}  p90 ${fmt(pct(xs, 90))}  p99 ${fmt(pct(xs, 99))}`);

// ---- part 1: cold start ----
async function coldStart(lab: SwarmLab, swarm: TestDaemon, hybrid: TestDaemon, peerImage: string): Promise<Record<string, number[]>> {
  const sc = new SkiffClient({ baseUrl: swarm.url, token: swarm.token });
  const hc = new SkiffClient({ baseUrl: hybrid.url, token: hybrid.token });
  const swarmImg = await pushHttpdImage(swarm, 'bench/cluster', 'v1');
  const hybridImg = await pushHttpdImage(hybrid, 'bench/cluster', 'v1');
  await sc.deploy({ name: 'cold', image: swarmImg.reference, port: 8080, scaling: SCALING });
  await hc.deploy({ name: 'cold', image: hybridImg.reference, port: 8080, scaling: SCALING });
  cleanups.push(() => lab.docker(1, ['service', 'rm', PEER_SCALE, PEER_CREATE]).then(() => undefined, () => undefined));
  const common = ['--endpoint-mode', 'dnsrr', '--restart-condition', 'none', '--init', '--no-resolve-image', '--with-registry-auth'];
  await lab.docker(1, ['service', 'create', '-d', '--name', PEER_SCALE, '--replicas', '0', '--publish', `mode=host,published=${PEER_SCALE_PORT},target=8080`, ...common, peerImage]);
  log('cold start: services deployed');

  const res: Record<string, number[]> = { 'skiff-swarm': [], 'skiff-hybrid': [], 'docker-scale': [], 'docker-create': [] };
  const cli: number[] = [];
  const onSwarm: Record<string, number> = { 'skiff-swarm': 0, 'skiff-hybrid': 0 };
  let warm = 0;
  const sides = Object.keys(res);
  for (let i = 0; i < rounds; i++) {
    await Promise.all([skiffAtZero(sc, 'cold'), skiffAtZero(hc, 'cold'), peerAtZero(lab, PEER_SCALE), peerAtZero(lab, PEER_CREATE)]);
    await sleep(300); // the pre-create behind the phase settles
    for (const side of [...sides.slice(i % sides.length), ...sides.slice(0, i % sides.length)]) {
      if (side.startsWith('skiff-')) {
        const d = side === 'skiff-swarm' ? swarm : hybrid;
        const r = await timedGet(`${d.gatewayUrl}/`, 'cold.localhost');
        if (r.status !== 200) throw new Error(`${side}: status ${r.status}`);
        if (r.cold === undefined) warm++;
        else res[side]!.push(r.ms);
        const ready = (await instancesOf(side === 'skiff-swarm' ? sc : hc, 'cold')).filter((x) => x.phase === 'ready');
        if (ready.some((x) => x.node && lab.nodes.some((n) => n.name === x.node))) onSwarm[side]!++;
      } else if (side === 'docker-scale') {
        const start = performance.now();
        await lab.docker(1, ['service', 'scale', '-d', `${PEER_SCALE}=1`]);
        cli.push(performance.now() - start);
        await untilTaskAnswers(lab, PEER_SCALE, PEER_SCALE_PORT);
        res[side]!.push(performance.now() - start);
        await lab.docker(1, ['service', 'scale', '-d', `${PEER_SCALE}=0`]);
      } else {
        const start = performance.now();
        await lab.docker(1, ['service', 'create', '-d', '--name', PEER_CREATE, '--replicas', '1', '--publish', `mode=host,published=${PEER_CREATE_PORT},target=8080`, ...common, peerImage]);
        await untilTaskAnswers(lab, PEER_CREATE, PEER_CREATE_PORT);
        res[side]!.push(performance.now() - start);
        await lab.docker(1, ['service', 'rm', PEER_CREATE]);
      }
    }
    log(`cold start: round ${i + 1} of ${rounds}: ${sides.map((s) => `${s} ${res[s]!.at(-1)?.toFixed(0) ?? '-'} ms`).join(', ')}`);
  }
  await sc.deleteService('cold');
  await hc.deleteService('cold');
  await lab.docker(1, ['service', 'rm', PEER_SCALE]);
  console.log(`cold start: ${rounds} rounds, request → first byte through the gateway (skiff) / scale or create → first answer (docker)${warm ? `, ${warm} warm answers discarded` : ''}`);
  for (const side of sides) line(side, res[side]!);
  console.log(`  (answered by an instance on a swarm node: skiff-swarm ${onSwarm['skiff-swarm']} of ${rounds}, skiff-hybrid ${onSwarm['skiff-hybrid']} of ${rounds})`);
  console.log(`  (docker-scale: the \`docker service scale -d\` CLI itself p50 ${fmt(pct(cli, 50)).trim()})`);
  return res;
}

// ---- part 2: throughput ----
interface WrkRun { rps: number; p50: number; p99: number; errors: number; non2xx: number }
async function wrk(gatewayUrl: string, host: string, seconds: number): Promise<WrkRun> {
  const out = await runTool('wrk', ['-t', String(Math.min(2, connections)), '-c', String(connections), '-d', `${seconds}s`, '--latency', '-H', `Host: ${host}`, `${gatewayUrl}/`], undefined, 'wrk');
  const unit = { us: 1e-3, ms: 1, s: 1e3 } as const;
  const lat = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)$`, 'm').exec(out);
    return m ? Number(m[1]) * unit[m[2] as keyof typeof unit] : NaN;
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!rps) throw new Error(`no Requests/sec in wrk output:\n${out}`);
  return {
    rps: Number(rps[1]), p50: lat('50'), p99: lat('99'),
    errors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
  };
}

async function throughput(swarm: TestDaemon, local: TestDaemon): Promise<{ remote: number; local: number }> {
  const targets = [{ name: 'remote', d: swarm }, { name: 'local', d: local }];
  const scaling = { ...SCALING, idle: '600s', min: instances, max: instances };
  for (const t of targets) {
    const c = new SkiffClient({ baseUrl: t.d.url, token: t.d.token });
    const img = await pushHttpdImage(t.d, 'bench/cluster-tput', 'v1');
    await c.deploy({ name: 'tput', image: img.reference, port: 8080, scaling });
    await until(`${instances} ready (${t.name})`, async () => (await readyCount(c, 'tput')) >= instances, 120_000);
    const where = (await instancesOf(c, 'tput')).filter((i) => i.phase === 'ready').map((i) => i.node ?? 'this machine');
    console.log(`throughput: ${t.name}: ${instances} instances on ${[...new Set(where)].map((n) => `${n} (${where.filter((w) => w === n).length})`).join(', ')}`);
    await wrk(t.d.gatewayUrl, 'tput.localhost', Math.min(2, duration)); // warm-up, not counted
  }
  const runs: Record<string, WrkRun[]> = { remote: [], local: [] };
  for (let round = 0; round < tputRounds; round++) {
    for (const t of round % 2 ? [...targets].reverse() : targets) {
      const r = await wrk(t.d.gatewayUrl, 'tput.localhost', duration);
      runs[t.name]!.push(r);
      console.log(`throughput: round ${round + 1}  ${t.name.padEnd(6)}  ${Math.round(r.rps).toString().padStart(6)} req/s  p50 ${fmt(r.p50)}  p99 ${fmt(r.p99)}  errors ${r.errors}  non-2xx ${r.non2xx}`);
    }
  }
  for (const t of targets) await new SkiffClient({ baseUrl: t.d.url, token: t.d.token }).deleteService('tput');
  const m = (name: string) => median(runs[name]!.map((r) => r.rps));
  console.log(`throughput: medians over ${tputRounds} round(s), -c${connections}, ${duration} s: remote (swarm nodes) ${Math.round(m('remote'))} req/s, local (runc) ${Math.round(m('local'))} req/s, ratio remote/local ${(m('remote') / m('local')).toFixed(2)}`);
  return { remote: m('remote'), local: m('local') };
}

// ---- part 3: recovery from a node failure ----
interface Recovery { victim: string; outMs: number; backMs: number; failed?: number; total?: number }

async function nodeReady(lab: SwarmLab, index: number): Promise<void> {
  const id = lab.nodes[index - 1]!.id;
  await until(`node ${index} Ready`, async () => {
    const n = await engine<{ Status: { State: string } }>(lab, `/nodes/${id}`).catch(() => undefined);
    return n?.Status.State === 'ready';
  }, 120_000);
}

async function skiffRecovery(lab: SwarmLab, swarm: TestDaemon, round: number): Promise<Recovery> {
  const c = new SkiffClient({ baseUrl: swarm.url, token: swarm.token });
  await until('3 ready', async () => (await readyCount(c, 'sturdy')) >= 3, 120_000);
  const placed = (await instancesOf(c, 'sturdy')).filter((i) => i.phase === 'ready');
  const victim = lab.nodes.find((n) => n.index > 1 && placed.some((i) => i.node === n.name));
  if (!victim) throw new Error(`recovery ${round}: no instance on a worker: ${JSON.stringify(placed)}`);
  let stop = false;
  const results: Array<{ at: number; ok: boolean }> = [];
  const load = Promise.all(Array.from({ length: 4 }, async () => {
    while (!stop) {
      const ok = await gatewayGet(swarm.gatewayUrl, 'sturdy').then((r) => r.status === 200, () => false);
      results.push({ at: Date.now(), ok });
      if (!ok) await sleep(5); // a refused or failed request comes back at once: do not spin
    }
  }));
  await sleep(1000);
  const killedAt = Date.now();
  await lab.killNode(victim.index);
  let outMs = NaN;
  let backMs = NaN;
  try {
    await until('no ready instance on the killed node', async () => !(await instancesOf(c, 'sturdy')).some((i) => i.node === victim.name && i.phase === 'ready'), 60_000);
    outMs = Date.now() - killedAt;
    let shown = Date.now();
    await until('3 ready on live nodes', async () => {
      const now = await instancesOf(c, 'sturdy');
      // a slow recovery: what the instances are doing, every 5 s (stderr)
      if (Date.now() - shown > 5000) {
        shown = Date.now();
        log(`recovery: skiff round ${round}, ${((Date.now() - killedAt) / 1000).toFixed(0)} s after the kill of ${victim.name}: ${now.map((i) => `${i.id.slice(-6)} ${i.phase}@${i.node ?? '-'}`).join(', ')}`);
      }
      return now.filter((i) => i.phase === 'ready' && i.node !== victim.name).length >= 3;
    }, 120_000);
    backMs = Date.now() - killedAt;
    await sleep(1000);
  } finally {
    stop = true;
    await load;
  }
  const after = results.filter((r) => r.at > killedAt && r.at <= killedAt + backMs + 1000);
  await lab.restartNode(victim.index);
  await nodeReady(lab, victim.index);
  return { victim: victim.name, outMs, backMs, failed: after.filter((r) => !r.ok).length, total: after.length };
}

async function peerRecovery(lab: SwarmLab, round: number): Promise<Recovery> {
  const running = async () => (await tasksOf(lab, PEER_RECOVER)).filter((t) => t.DesiredState === 'running' && t.Status.State === 'running');
  await until('peer: 3 running', async () => (await running()).length >= 3, 120_000);
  const placed = await running();
  const victim = lab.nodes.find((n) => n.index > 1 && placed.some((t) => t.NodeID === n.id));
  if (!victim) throw new Error(`peer recovery ${round}: no task on a worker`);
  await sleep(1000);
  const killedAt = Date.now();
  await lab.killNode(victim.index);
  await until('peer: no task desired running on the killed node', async () => !(await tasksOf(lab, PEER_RECOVER)).some((t) => t.NodeID === victim.id && t.DesiredState === 'running'), 60_000);
  const outMs = Date.now() - killedAt;
  await until('peer: 3 running on live nodes', async () => (await running()).filter((t) => t.NodeID !== victim.id).length >= 3, 120_000);
  const backMs = Date.now() - killedAt;
  await lab.restartNode(victim.index);
  await nodeReady(lab, victim.index);
  return { victim: victim.name, outMs, backMs };
}

async function recovery(lab: SwarmLab, swarm: TestDaemon, peerImage: string): Promise<{ skiff: Recovery[]; docker: Recovery[] }> {
  const c = new SkiffClient({ baseUrl: swarm.url, token: swarm.token });
  const img = await pushHttpdImage(swarm, 'bench/cluster-sturdy', 'v1');
  await c.deploy({ name: 'sturdy', image: img.reference, port: 8080, scaling: { ...SCALING, idle: '600s', min: 3, max: 3 } });
  cleanups.push(() => lab.docker(1, ['service', 'rm', PEER_RECOVER]).then(() => undefined, () => undefined));
  await lab.docker(1, ['service', 'create', '-d', '--name', PEER_RECOVER, '--replicas', '3', '--restart-condition', 'any', '--endpoint-mode', 'dnsrr', '--publish', 'mode=host,target=8080', '--init', '--no-resolve-image', '--with-registry-auth', peerImage]);
  const out = { skiff: [] as Recovery[], docker: [] as Recovery[] };
  const show = (side: string, round: number, r: Recovery) =>
    console.log(`recovery: round ${round}  ${side.padEnd(6)}  ${r.victim} killed: out of ${side === 'skiff' ? 'the routes' : 'desired running'} ${fmt(r.outMs)}, 3 running again ${fmt(r.backMs)}${r.total !== undefined ? `, ${r.failed} of ${r.total} requests failed` : ''}`);
  for (let round = 1; round <= recoveryRounds; round++) {
    for (const side of round % 2 ? ['skiff', 'docker'] : ['docker', 'skiff']) {
      const r = side === 'skiff' ? await skiffRecovery(lab, swarm, round) : await peerRecovery(lab, round);
      out[side as 'skiff' | 'docker'].push(r);
      show(side, round, r);
      log(`recovery: ${side} round ${round} done`);
    }
  }
  await c.deleteService('sturdy');
  await lab.docker(1, ['service', 'rm', PEER_RECOVER]);
  return out;
}

// ---- the run ----
let lab: SwarmLab | undefined;
try {
  lab = await startSwarmLab({ insecureRegistries: ['10.77.0.0/16'] });
  const theLab = lab;
  log(`swarm lab up in ${lab.startMs} ms: ${lab.nodes.map((n) => `${n.name} ${n.address}`).join(', ')}`);
  const swarm = await daemonOn(lab, 'swarm');
  const hybrid = await daemonOn(lab, 'hybrid');
  const local = await daemonOn(lab, 'runc');
  // the swarm daemon's leftovers (also after a failure): its services on the swarm, by owner label;
  // runs last, after the daemons stopped
  cleanups.unshift(async () => {
    const ids = (await theLab.docker(1, ['service', 'ls', '-q', '--filter', `label=skiff.owner=${ownerOf(swarm)}`]).catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean);
    if (ids.length) await theLab.docker(1, ['service', 'rm', ...ids]).catch(() => undefined);
  });
  // the peer's image: the swarm daemon's own, same digest, pulled on every node beforehand (as Skiff's prepare does)
  const peerImg = await pushHttpdImage(swarm, 'bench/cluster-peer', 'v1');
  const peerImage = `${swarm.host}/bench/cluster-peer@${peerImg.digest}`;
  await lab.docker(1, ['login', '-u', 'skiff', '--password-stdin', swarm.host], { input: swarm.token });
  await Promise.all(lab.nodes.map((n) => theLab.docker(n.index, ['pull', '-q', peerImage])));
  log(`daemons up (swarm ${swarm.url}, hybrid ${hybrid.url}, runc ${local.url}); peer image pulled on every node`);

  const loadBefore = os.loadavg();
  const cold = await coldStart(lab, swarm, hybrid, peerImage);
  log('cold start done');
  const tput = await throughput(swarm, local);
  log('throughput done');
  const rec = await recovery(lab, swarm, peerImage);
  log('recovery done');

  const m = (xs: Recovery[], k: 'outMs' | 'backMs') => median(xs.map((r) => r[k]));
  const failed = rec.skiff.reduce((a, r) => a + (r.failed ?? 0), 0);
  const total = rec.skiff.reduce((a, r) => a + (r.total ?? 0), 0);
  console.log(`recovery: medians over ${recoveryRounds} round(s): skiff out of the routes ${fmt(m(rec.skiff, 'outMs')).trim()}, 3 ready ${fmt(m(rec.skiff, 'backMs')).trim()} (${failed} of ${total} requests failed); docker out of desired running ${fmt(m(rec.docker, 'outMs')).trim()}, 3 running ${fmt(m(rec.docker, 'backMs')).trim()}`);
  console.log(`${os.cpus().length} cores, load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')} before, ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} after; ${((Date.now() - t0) / 1000).toFixed(0)} s in all`);
  const p50 = (side: string) => pct(cold[side]!, 50);
  console.log(
    `ratio docker-scale/skiff-swarm (cold p50) ${(p50('docker-scale') / p50('skiff-swarm')).toFixed(2)}x, docker-scale/skiff-hybrid ${(p50('docker-scale') / p50('skiff-hybrid')).toFixed(1)}x;` +
      ` throughput remote/local ${(tput.remote / tput.local).toFixed(2)}x; recovery skiff/docker (3 running, p50) ${(m(rec.skiff, 'backMs') / m(rec.docker, 'backMs')).toFixed(2)}x`,
  );
} finally {
  await cleanup();
  await lab?.stop();
}
