// bench/run: `skiff run IMAGE true` vs `docker run --rm IMAGE true` vs `podman run --rm IMAGE true`, wall
// time of the whole command as a user runs it. Skiff = the real CLI (`node bin/skiff.mjs run`) against a
// daemon started in this process (its own data dir and network, as tests do) with the busybox test image
// pushed to its registry; podman = the same busybox with every applet, imported as a local image;
// docker = that rootfs tar imported into a private dockerd (test/clients/dockerd.ts: own data root and
// socket, iptables on as a stock install has it) run by Debian docker.io's client (/usr/bin/docker, not
// a newer one on PATH), twice: with no network (loopback only: docker's fastest) and on a user-defined
// bridge network (a veth, as Skiff's and podman's containers get). Interleaved rounds (the order
// rotates), after one untimed warm-up each (layer unpack, storage; for Skiff also the first run, after
// which a created container waits for the next identical run: serving/run-spares.ts). Also times the
// API call alone (POST /api/v1/runs from this process, right after the CLI's run, so its spare is
// usually still being created) and the CLI's own start (`skiff --version`), to show where Skiff's time
// goes. Prints medians, last the ratios docker/Skiff and podman/Skiff (above 1 = Skiff is faster).
// Needs root, runc, podman, docker.io, busybox-static.
//
//   node bin/run-ts.mjs bench/run.ts [--rounds 15]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SkiffClient } from '../src/api/client.ts';
import { startTestDaemon } from '../test/helpers/daemon.ts';
import { startDockerd } from '../test/clients/dockerd.ts';
import { pushHttpdImage } from '../test/helpers/images.ts';
import { makeBusyboxRootfs } from '../test/runtime/rootfs.ts';
import { median, timedCommand } from './lib/measure.ts';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '15' } } });
const rounds = Number(args.rounds);
if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error('--rounds must be a positive integer');

const ROOT = path.resolve(import.meta.dirname, '..');
const TAG = (process.pid % 65536).toString(16).padStart(4, '0');
const PODMAN_IMAGE = `localhost/skiff-bench-run-${TAG}:latest`;
const DOCKER_IMAGE = `skiff-bench-run-${TAG}:latest`;
const DOCKER = '/usr/bin/docker'; // Debian docker.io's client, as CI has it
const ULIMITS = ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768'];


const cleanups: Array<() => unknown> = [];
const work = mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-run-'));
let cleaning: Promise<void> | undefined;
const cleanup = () =>
  (cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) await fn();
    rmSync(work, { recursive: true, force: true });
  })());
// Ctrl-C must not leave the daemon, the dockerd (and its containerd) or the podman image behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanup().finally(() => process.exit(130)));
const res = { cli: [] as number[], api: [] as number[], version: [] as number[], docker: [] as number[], dockerBridge: [] as number[], podman: [] as number[] };
try {
  const d = await startTestDaemon({ after: (fn: () => unknown) => void cleanups.push(fn) });
  const image = await pushHttpdImage(d, `bench-run-${TAG}`, 'v1');
  const env = { ...process.env, SKIFF_TOKEN: d.token };
  const skiffRun = [path.join(ROOT, 'bin/skiff.mjs'), '--api', d.url, 'run', image.reference, 'true'];
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const apiRun = async () => {
    const t0 = process.hrtime.bigint();
    const exit = await client.run({ image: image.reference, command: ['true'] }, () => {});
    if (exit.reason !== 'exited' || exit.exitCode !== 0) throw new Error(`run ended ${JSON.stringify(exit)}`);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };

  const rootfs = makeBusyboxRootfs(path.join(work, 'rootfs'));
  await timedCommand('tar', ['-C', rootfs, '-cf', path.join(work, 'rootfs.tar'), '.']);
  await timedCommand('podman', ['import', '-q', path.join(work, 'rootfs.tar'), PODMAN_IMAGE]);
  cleanups.push(() => spawnSync('podman', ['rmi', '-f', PODMAN_IMAGE], { stdio: 'ignore' }));
  const podmanRun = ['run', '--rm', ...ULIMITS, PODMAN_IMAGE, 'true'];

  // iptables on, as a stock install has it, so `docker run` can also get a bridged veth like Skiff's
  // instances (a user-defined network; dockerd's helper has no default bridge and cleans its rules up)
  const dockerd = await startDockerd({ iptables: true });
  cleanups.push(() => dockerd.stop()); // its data root holds the imported image
  const dockerEnv = { ...process.env, DOCKER_CONFIG: path.join(dockerd.dir, 'client') };
  const dockerArgs = (...argv: string[]) => ['-H', `unix://${dockerd.dir}/docker.sock`, ...argv];
  await timedCommand(DOCKER, dockerArgs('import', path.join(work, 'rootfs.tar'), DOCKER_IMAGE), dockerEnv);
  const dockerRun = dockerArgs('run', '--rm', DOCKER_IMAGE, 'true');
  await timedCommand(DOCKER, dockerArgs('network', 'create', `skiff-bench-${TAG}`), dockerEnv);
  const dockerBridgedRun = dockerArgs('run', '--rm', '--network', `skiff-bench-${TAG}`, DOCKER_IMAGE, 'true');

  await timedCommand(process.execPath, skiffRun, env); // warm-up: unpacks the layer, builds the runtime
  await timedCommand(DOCKER, dockerRun, dockerEnv);
  await timedCommand(DOCKER, dockerBridgedRun, dockerEnv);
  await timedCommand('podman', podmanRun);
  const sides = ['skiff', 'docker', 'docker-bridge', 'podman'] as const;
  for (let i = 0; i < rounds; i++) {
    for (const side of [...sides.slice(i % 4), ...sides.slice(0, i % 4)]) {
      if (side === 'podman') res.podman.push(await timedCommand('podman', podmanRun));
      else if (side === 'docker') res.docker.push(await timedCommand(DOCKER, dockerRun, dockerEnv));
      else if (side === 'docker-bridge') res.dockerBridge.push(await timedCommand(DOCKER, dockerBridgedRun, dockerEnv));
      else {
        res.cli.push(await timedCommand(process.execPath, skiffRun, env));
        res.api.push(await apiRun());
        res.version.push(await timedCommand(process.execPath, [path.join(ROOT, 'bin/skiff.mjs'), '--version']));
      }
    }
  }
} finally {
  await cleanup();
}
const line = (name: string, xs: number[]) => console.log(`${name.padEnd(48)} median ${median(xs).toFixed(1)} ms  (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})`);
console.log(`${rounds} interleaved rounds, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
line('skiff run IMAGE true (CLI process)', res.cli);
line('  of which: POST /api/v1/runs (in-process client)', res.api);
line('  of which: CLI start-up (skiff --version)', res.version);
line('docker run --rm IMAGE true (docker.io, no network)', res.docker);
line('docker run --rm --network BRIDGE IMAGE true', res.dockerBridge);
line('podman run --rm IMAGE true', res.podman);
const ratio = (xs: number[]) => (median(xs) / median(res.cli)).toFixed(2);
console.log(`ratio docker/skiff ${ratio(res.docker)}, docker bridged/skiff ${ratio(res.dockerBridge)}, podman/skiff ${ratio(res.podman)} (medians)`);
