// bench/cold-start (issue 5, benchmark 1): request → first byte for a scaled-to-zero busybox-httpd
// service through the daemon's gateway, against `podman run --rm` and `docker run --rm` of the same
// image until its HTTP port answers. Sides, interleaved (the order rotates every round):
//   skiff-pool    a pre-created instance is started (runc start) on the request
//   skiff-create  pool off: image → rootfs → runc create → start on the request
//   skiff-thaw    scaling.freezeIdle: the frozen instance is resumed on the request
//   podman        podman run --rm -d -p 127.0.0.1:PORT:8080 (its default network), GET until it answers
//   docker        docker run --rm -d --network host (a private dockerd without a bridge), GET until it answers
// Between rounds every service goes back to zero (idle window), so each sample is a real cold start.
// Two daemons run in this process (pool on, pool off); their `cold start` log lines give the breakdown.
// Needs root, runc, podman, skopeo, docker.io (dockerd).
//
//   node bin/run-ts.mjs bench/cold-start.ts [--rounds 30] [--no-docker]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadSettings } from '../src/config/settings.ts';
import { startDaemon, type Daemon } from '../src/daemon/daemon.ts';
import { SkiffClient } from '../src/api/client.ts';
import { pushHttpdImage } from '../test/helpers/images.ts';
import { removeTestNetwork } from '../test/helpers/daemon.ts';
import { startDockerd, type Dockerd } from '../test/clients/dockerd.ts';
import { pct, timedGet as get } from './lib/measure.ts';
import { freePort } from './lib/process.ts';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '30' }, 'no-docker': { type: 'boolean', default: false } } });
const rounds = Number(args.rounds);
if (!(rounds >= 1)) throw new Error('--rounds must be positive');
const TAG = (process.pid % 65536).toString(16).padStart(4, '0');
const IMAGE = `localhost/skiff-bench-cold-${TAG}:v1`;
// keepAlive fixed: with requests every few seconds the adaptive policy would (rightly) learn to keep
// the service warm, and there would be no cold start left to measure.
const SCALING = { window: '2s', idle: '1s', scaleToZeroGrace: '1s', keepAlive: 'fixed' as const };
const HTTPD = (port: number) => ['/bin/busybox', 'httpd', '-f', '-p', String(port), '-h', '/www'];

function exec(cmd: string, argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => (out += b));
    p.stderr.on('data', (b: Buffer) => (err += b));
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${argv.join(' ')}: ${err.trim()}`))));
  });
}

/** GETs until one is answered (a refused connect comes back at once, so this retries every ~1 ms). */
async function untilAnswers(url: string): Promise<void> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 1))) {
    if (await get(url).then((r) => r.status === 200, () => false)) return;
  }
  throw new Error(`${url} never answered`);
}


interface Node {
  daemon: Daemon;
  client: SkiffClient;
  dataDir: string;
  runtime: ReturnType<typeof loadSettings>['runtime'];
  token: string;
}

const breakdowns: Array<Record<string, number | string>> = [];
async function node(n: number, coldStart: { poolPerRevision: number; frozenMemoryBytes: number }): Promise<Node> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-cold-'));
  const settings = loadSettings({ flags: { dataDir, listen: '127.0.0.1:0', gateway: '127.0.0.1:0' } });
  settings.registry.gcIntervalSeconds = 0;
  settings.runtime = { ...settings.runtime, bridge: `skcs-${TAG}-${n}`, subnet: `10.217.${(process.pid + n) % 250}.0/24`, chainPrefix: `SKCS-${TAG}-${n}`, egress: false };
  Object.assign(settings.coldStart, coldStart);
  const logger = pino({ level: 'info' }, {
    write(line: string) {
      const o = JSON.parse(line) as { msg?: string } & Record<string, number | string>;
      if (o.msg === 'cold start') breakdowns.push(o);
    },
  });
  const daemon = await startDaemon(settings, { logger });
  const token = readFileSync(daemon.adminTokenFile, 'utf8').trim();
  return { daemon, dataDir, runtime: settings.runtime, token, client: new SkiffClient({ baseUrl: daemon.apiUrl, token }) };
}

async function waitColdAgain(client: SkiffClient, service: string, want: 'pre-created' | 'frozen' | 'none'): Promise<void> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    const phases = (await client.service(service)).revisions.flatMap((r) => r.instances.map((i) => i.phase));
    if (phases.some((p) => p === 'ready' || p === 'starting' || p === 'draining')) continue;
    if (want === 'none' ? phases.length === 0 : phases.includes(want)) return;
  }
  throw new Error(`${service} did not go back to zero`);
}

const nodes: Node[] = [];
let dockerd: Dockerd | undefined;
const res: Record<string, number[]> = { 'skiff-pool': [], 'skiff-create': [], 'skiff-thaw': [], podman: [], docker: [] };
try {
  const pooled = await node(0, { poolPerRevision: 1, frozenMemoryBytes: 512 << 20 });
  const plain = await node(1, { poolPerRevision: 0, frozenMemoryBytes: 0 });
  nodes.push(pooled, plain);
  const image = await pushHttpdImage({ url: pooled.daemon.apiUrl, token: pooled.token }, 'bench/cold', 'v1');
  const image2 = await pushHttpdImage({ url: plain.daemon.apiUrl, token: plain.token }, 'bench/cold', 'v1');
  await pooled.client.deploy({ name: 'pool', image: image.reference, scaling: SCALING });
  await pooled.client.deploy({ name: 'thaw', image: image.reference, scaling: { ...SCALING, freezeIdle: true } });
  await plain.client.deploy({ name: 'create', image: image2.reference, scaling: SCALING });
  const src = `docker://${new URL(pooled.daemon.apiUrl).host}/bench/cold:v1`;
  const creds = ['--src-tls-verify=false', '--src-creds', `skiff:${pooled.token}`];
  await exec('skopeo', ['copy', '-q', ...creds, src, `containers-storage:${IMAGE}`]);
  if (!args['no-docker']) {
    dockerd = await startDockerd();
    await exec('skopeo', ['copy', '-q', ...creds, '--dest-daemon-host', `unix://${dockerd.dir}/docker.sock`, src, `docker-daemon:${IMAGE}`]);
  }
  // The thaw side needs one instance to freeze; its first request is not a sample.
  await get(`${pooled.daemon.gatewayUrl}/`, 'thaw.localhost');

  const sides = ['skiff-pool', 'skiff-create', 'skiff-thaw', 'podman', ...(dockerd ? ['docker'] : [])];
  let warm = 0;
  for (let i = 0; i < rounds; i++) {
    await Promise.all([waitColdAgain(pooled.client, 'pool', 'pre-created'), waitColdAgain(pooled.client, 'thaw', 'frozen'), waitColdAgain(plain.client, 'create', 'none')]);
    await new Promise((r) => setTimeout(r, 300)); // the pause / pre-create behind the phase settles
    for (const side of [...sides.slice(i % sides.length), ...sides.slice(0, i % sides.length)]) {
      if (side.startsWith('skiff-')) {
        const gw = side === 'skiff-create' ? plain.daemon.gatewayUrl : pooled.daemon.gatewayUrl;
        const r = await get(`${gw}/`, `${side.slice(6)}.localhost`);
        if (r.status !== 200) throw new Error(`${side}: status ${r.status}`);
        if (r.cold === undefined) warm++;
        else res[side]!.push(r.ms);
      } else {
        const port = await freePort();
        const name = `skiff-bench-cold-${TAG}-${i}`; // removed by name: `run -d` once printed no id here
        const t0 = performance.now();
        if (side === 'podman') await exec('podman', ['run', '--rm', '-d', '--name', name, '--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768', '-p', `127.0.0.1:${port}:8080`, IMAGE, ...HTTPD(8080)]);
        else await dockerd!.docker(['run', '--rm', '-d', '--name', name, '--network', 'host', IMAGE, ...HTTPD(port)]);
        await untilAnswers(`http://127.0.0.1:${port}/`);
        res[side]!.push(performance.now() - t0);
        if (side === 'podman') await exec('podman', ['rm', '-f', '-t', '0', name]);
        else await dockerd!.docker(['rm', '-f', name]);
      }
    }
  }
  const line = (name: string, xs: number[]) =>
    console.log(`${name.padEnd(14)} n=${String(xs.length).padStart(3)}  p50 ${pct(xs, 50).toFixed(1).padStart(7)} ms  p90 ${pct(xs, 90).toFixed(1).padStart(7)} ms  p99 ${pct(xs, 99).toFixed(1).padStart(7)} ms`);
  console.log(`${rounds} rounds, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}${warm ? `, ${warm} warm answers discarded` : ''}`);
  console.log('request → first byte (skiff, through the gateway) / run → HTTP answer (podman, docker):');
  for (const side of sides) line(side, res[side]!);
  console.log('cold-start breakdown from the daemon logs, p50 ms (queued / created / started / ready / first byte):');
  for (const source of ['pool', 'created', 'thawed']) {
    const b = breakdowns.filter((o) => o.source === source);
    const p = (k: string) => pct(b.map((o) => Number(o[k])), 50).toFixed(2);
    console.log(`  ${source.padEnd(8)} n=${b.length}  ${p('queuedMs')} / ${p('createdMs')} / ${p('startedMs')} / ${p('readyMs')} / ${p('firstByteMs')}  (probes p50 ${p('probes')})`);
    const worst = b.toSorted((x, y) => Number(y.firstByteMs) - Number(x.firstByteMs))[0];
    if (worst) console.log(`           slowest: ${['queuedMs', 'createdMs', 'startedMs', 'readyMs', 'probes', 'waitedMs', 'firstByteMs'].map((k) => `${k} ${worst[k]}`).join(', ')}`);
  }
  const ratio = (a: string, b: string) => (pct(res[a]!, 50) / pct(res[b]!, 50)).toFixed(1);
  if (dockerd) console.log(`ratio docker/skiff-pool (p50): ${ratio('docker', 'skiff-pool')}`);
  console.log(`ratio podman/skiff-create (p50): ${ratio('podman', 'skiff-create')}`);
  console.log(`ratio podman/skiff-thaw (p50): ${ratio('podman', 'skiff-thaw')}`);
  console.log(`ratio podman/skiff-pool (p50): ${ratio('podman', 'skiff-pool')}`);
} finally {
  for (const n of nodes) {
    await n.daemon.stop();
    await n.daemon.stopInstances();
    await removeTestNetwork(n.runtime);
    rmSync(n.dataDir, { recursive: true, force: true });
  }
  await exec('podman', ['rmi', '-f', IMAGE]).catch(() => {});
  // --network host makes dockerd bind-mount the host netns under its exec root, which its stop() cannot remove.
  await dockerd?.stop().catch(async () => {
    await exec('umount', ['-l', path.join(dockerd!.dir, 'exec', 'netns', 'default')]);
    rmSync(dockerd!.dir, { recursive: true, force: true });
  });
}
