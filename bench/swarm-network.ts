// bench/swarm-network (issue 16): how the swarm driver publishes an instance for the gateway — a
// host-mode published port on the instance's node (what Skiff does) — against the alternative, the
// task's address on an attachable overlay network (VXLAN), measured on a real three-node swarm on this
// machine (test/helpers/swarm-lab.ts). One busybox httpd task on node 2, attached to an overlay and
// publishing its port in host mode; wrk drives it over:
//   host→hostport     from this machine to node 2's address and published port: the gateway's path
//   node1→hostport    from a container on node 1, to the same address and port (across the lab bridge)
//   node1→overlay     from that container to the task's overlay address (VXLAN between node 1 and 2):
//                     the path a gateway inside the overlay would take
// wrk runs on this machine in the network namespace of the node-1 container (nsenter), so all three
// sides use one client. Needs root, docker.io, busybox-static, wrk.
//
//   node bin/run-ts.mjs bench/swarm-network.ts [--rounds 3] [--duration 5] [--connections 16]
import { readdirSync, readFileSync, writeFileSync, mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startSwarmLab, type SwarmLab } from '../test/helpers/swarm-lab.ts';
import { intFlag, median } from './lib/measure.ts';
import { parseWrk, runTool, type LoadRun } from './lib/load.ts';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, duration: { type: 'string', default: '5' }, connections: { type: 'string', default: '16' } } });
const rounds = intFlag(args.rounds, '--rounds');
const seconds = intFlag(args.duration, '--duration');
const connections = intFlag(args.connections, '--connections');
const MARK = `skiff-bench-client-${process.pid}`;

/** wrk against `url`, from the host or (with `pid`) from that process's network namespace. */
async function load(url: string, pid?: number): Promise<LoadRun> {
  const argv = ['-t', '2', '-c', String(connections), '-d', `${seconds}s`, '--latency', url];
  const out = pid === undefined ? await runTool('wrk', argv, undefined, 'wrk') : await runTool('nsenter', ['-t', String(pid), '-n', 'wrk', ...argv], undefined, 'util-linux');
  return parseWrk(out, url);
}

/** The host pid of the node-1 client container's shell (its command line carries MARK). */
function markedProcess(): number | undefined {
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(MARK)) return Number(p);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

interface Task { Status: { State: string; PortStatus?: { Ports?: Array<{ PublishedPort: number }> } }; NetworksAttachments?: Array<{ Network: { Spec: { Name: string } }; Addresses: string[] }> }

/** The running task's overlay address and host-mode published port, once it has both. */
async function taskAddresses(l: SwarmLab): Promise<{ overlayIp: string; published: number }> {
  for (let i = 0; i < 150; i++) {
    const ids = (await l.docker(1, ['service', 'ps', '-q', '--filter', 'desired-state=running', 'swnet-web'])).stdout.trim().split('\n').filter(Boolean);
    const tasks = ids.length ? (JSON.parse((await l.docker(1, ['inspect', ...ids])).stdout) as Task[]) : [];
    const t = tasks.find((x) => x.Status.State === 'running');
    const overlayIp = t?.NetworksAttachments?.find((n) => n.Network.Spec.Name === 'swnet')?.Addresses[0]?.split('/')[0];
    const published = t?.Status.PortStatus?.Ports?.[0]?.PublishedPort;
    if (overlayIp && published) return { overlayIp, published };
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the task never ran with an overlay address and a published port');
}

let lab: SwarmLab | undefined;
const build = mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-swnet-'));
try {
  lab = await startSwarmLab({ nodes: 3 });
  const l = lab;
  // the image: busybox, an index page
  copyFileSync('/bin/busybox', path.join(build, 'busybox'));
  writeFileSync(path.join(build, 'index.html'), 'hello from the swarm\n');
  writeFileSync(path.join(build, 'Dockerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY index.html /www/index.html\n');
  await l.docker(1, ['build', '-q', '-t', 'swnet:1', build]);
  await l.copyImage('swnet:1', 1);
  await l.docker(1, ['network', 'create', '-d', 'overlay', '--attachable', 'swnet']);
  await l.docker(1, ['service', 'create', '-d', '--name', 'swnet-web', '--network', 'swnet', '--endpoint-mode', 'dnsrr', '--publish', 'mode=host,target=8080',
    '--constraint', `node.hostname==${l.nodes[1]!.name}`, '--init', '--no-resolve-image', 'swnet:1', '/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/www']);
  const { overlayIp, published } = await taskAddresses(l);
  // the client: a container on node 1 on the overlay, doing nothing (wrk enters its network namespace);
  // its shell's command line carries MARK ($0), so it can be found among this machine's processes
  await l.docker(1, ['run', '-d', '--name', 'swnet-client', '--network', 'swnet', 'swnet:1', '/bin/busybox', 'sh', '-c', '/bin/busybox sleep 86400; :', MARK]);
  let pid: number | undefined;
  for (let i = 0; i < 100 && pid === undefined; i++) {
    pid = markedProcess();
    if (pid === undefined) await new Promise((r) => setTimeout(r, 100));
  }
  if (pid === undefined) throw new Error('the client container is not running');
  const node2 = l.nodes[1]!.address;
  const sides: Array<[string, string, number | undefined]> = [
    ['host→hostport', `http://${node2}:${published}/`, undefined],
    ['node1→hostport', `http://${node2}:${published}/`, pid],
    ['node1→overlay', `http://${overlayIp}:8080/`, pid],
  ];
  console.log(`overlay ${overlayIp}:8080, host mode ${node2}:${published}; wrk -t2 -c${connections} -d${seconds}s, ${rounds} rounds, order rotating; load ${os.loadavg()[0]!.toFixed(2)}`);
  const results = new Map<string, LoadRun[]>(sides.map(([n]) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < sides.length; k++) {
      const [name, url, from] = sides[(r + k) % sides.length]!;
      results.get(name)!.push(await load(url, from));
    }
  }
  console.log('side              req/s (median)   p50 ms   p99 ms');
  for (const [name, runs] of results) {
    console.log(`${name.padEnd(16)}  ${median(runs.map((x) => x.rps)).toFixed(0).padStart(14)}   ${median(runs.map((x) => x.p50)).toFixed(2).padStart(6)}   ${median(runs.map((x) => x.p99)).toFixed(2).padStart(6)}`);
  }
  const rps = (n: string) => median(results.get(n)!.map((x) => x.rps));
  console.log(`host-mode port vs overlay from the same client: ${(rps('node1→hostport') / rps('node1→overlay')).toFixed(2)}x the requests/s`);
} finally {
  await lab?.stop();
  rmSync(build, { recursive: true, force: true });
}

