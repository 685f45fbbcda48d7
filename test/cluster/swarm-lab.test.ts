// test/cluster/swarm-lab: the three-node Swarm fixture (test/helpers/swarm-lab.ts) itself: nodes Ready with
// labels, a dnsrr/host-mode service on node 2 answering the host, nodes and containers reaching a host
// listener on hostAddress, an attachable overlay between nodes, a node failure seen by the manager and a
// restart, and a stop() that leaves no namespace, interface, mount, process, cgroup or directory behind.
// Timings go to the diagnostics (start, create → HTTP 200, kill → Down, stop).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { useSwarmLab, type SwarmLab } from '../helpers/swarm-lab.ts';
import { run } from '../helpers/tools.ts';

const lab = useSwarmLab({ labels: { 1: { role: 'manager' }, 2: { zone: 'b', tier: 'web' }, 3: { zone: 'c' } } });
const IMAGE = 'swarmlab-busybox:1';

/** node hostname → status (docker node ls on the manager) */
async function nodeStatus(l: SwarmLab): Promise<Map<string, string>> {
  const out = (await l.docker(1, ['node', 'ls', '--format', '{{.Hostname}} {{.Status}}'])).stdout;
  return new Map(out.trim().split('\n').map((line) => line.split(' ') as [string, string]));
}

/** pids whose command line mentions `text` (zombies have none) */
function processesMentioning(text: string): string[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text); } catch { return false; }
  });
}

async function waitStatus(l: SwarmLab, name: string, want: string, ms: number): Promise<number> {
  const t0 = Date.now();
  let last: string | undefined;
  while (Date.now() - t0 < ms) {
    last = (await nodeStatus(l).catch(() => undefined))?.get(name);
    if (last === want) return Date.now() - t0;
    await sleep(200);
  }
  assert.fail(`${name} is ${last}, not ${want}, after ${ms} ms`);
}

test('three nodes are Ready with the requested labels', { skip: lab.skip }, async (t) => {
  const l = lab();
  t.diagnostic(`start: ${l.startMs} ms to ${l.nodes.length} nodes Ready (${l.subnet}, prefix ${l.prefix})`);
  const status = await nodeStatus(l);
  assert.deepEqual([...status].sort(), l.nodes.map((n) => [n.name, 'Ready']));
  for (const [idx, want] of [[1, { role: 'manager' }], [2, { zone: 'b', tier: 'web' }], [3, { zone: 'c' }]] as const) {
    const n = l.nodes[idx - 1]!;
    const labels = JSON.parse((await l.docker(1, ['node', 'inspect', '--format', '{{json .Spec.Labels}}', n.id])).stdout);
    assert.deepEqual(labels, want, `labels of ${n.name}`);
  }
  assert.equal(l.manager, l.nodes[0]);
  assert.match(l.hostAddress, /^\d+\.\d+\.\d+\.1$/);
});

test('a dnsrr service with a host-mode port on node 2 answers HTTP from the host', { skip: lab.skip }, async (t) => {
  const l = lab();
  const ctx = path.join(l.dir, 'image');
  mkdirSync(path.join(ctx, 'www'), { recursive: true });
  writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\n');
  writeFileSync(path.join(ctx, 'busybox'), readFileSync('/bin/busybox'), { mode: 0o755 });
  writeFileSync(path.join(ctx, 'www', 'index.html'), 'hello from the swarm lab\n');
  let t0 = Date.now();
  await l.docker(1, ['build', '-q', '-t', IMAGE, ctx]);
  await l.copyImage(IMAGE, 1);
  t.diagnostic(`image built on node 1 and copied to the others: ${Date.now() - t0} ms`);

  const port = 18080;
  const node2 = l.nodes[1]!;
  t0 = Date.now();
  await l.docker(1, ['service', 'create', '--detach', '--name', 'web', '--endpoint-mode', 'dnsrr',
    '--publish', `mode=host,target=8080,published=${port}`, '--init', '--restart-condition', 'none',
    '--constraint', `node.hostname==${node2.name}`, IMAGE, '/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/www']);
  let body = '';
  let lastErr = '';
  while (Date.now() - t0 < 30_000) {
    try {
      const res = await fetch(`http://${node2.address}:${port}/`, { signal: AbortSignal.timeout(2_000) });
      body = await res.text();
      if (res.status === 200) break;
      lastErr = `HTTP ${res.status}`;
    } catch (err) {
      lastErr = String((err as Error).cause ?? err);
    }
    await sleep(100);
  }
  assert.equal(body, 'hello from the swarm lab\n', `no answer from ${node2.address}:${port} (${lastErr})`);
  t.diagnostic(`service create → HTTP 200 from the host: ${Date.now() - t0} ms`);
  const ps = (await l.docker(1, ['service', 'ps', '--format', '{{.Node}} {{.CurrentState}}', 'web'])).stdout;
  assert.match(ps, new RegExp(`^${node2.name} Running`));
});

test('nodes and their containers reach a listener on hostAddress', { skip: lab.skip }, async (t) => {
  const l = lab();
  const srv = http.createServer((req, res) => res.end(`host saw ${req.url}\n`));
  await new Promise<void>((resolve) => srv.listen(0, l.hostAddress, resolve));
  t.after(() => srv.close());
  const url = `http://${l.hostAddress}:${(srv.address() as AddressInfo).port}`;
  // from the node's network namespace itself (where its dockerd pulls from a registry on the host)
  const fromNode = await run('ip', ['netns', 'exec', l.nodes[2]!.netns, '/bin/busybox', 'wget', '-qO-', `${url}/node`]);
  assert.equal(fromNode.stdout, 'host saw /node\n');
  // from a container on node 3 (bridge network, NAT in the node's namespace)
  const fromContainer = await l.docker(3, ['run', '--rm', '--init', IMAGE, '/bin/busybox', 'wget', '-qO-', `${url}/container`]);
  assert.equal(fromContainer.stdout, 'host saw /container\n');
});

test('an attachable overlay network carries traffic between nodes (VXLAN)', { skip: lab.skip }, async (t) => {
  const l = lab();
  const t0 = Date.now();
  await l.docker(1, ['network', 'create', '--driver', 'overlay', '--attachable', 'labnet']);
  await l.docker(3, ['run', '-d', '--init', '--name', 'srv', '--network', 'labnet', IMAGE, '/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/www']);
  const ip = (await l.docker(3, ['inspect', '--format', '{{(index .NetworkSettings.Networks "labnet").IPAddress}}', 'srv'])).stdout.trim();
  assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
  const got = await l.docker(1, ['run', '--rm', '--init', '--network', 'labnet', IMAGE, '/bin/busybox', 'wget', '-qO-', `http://${ip}:8080/`]);
  assert.equal(got.stdout, 'hello from the swarm lab\n');
  t.diagnostic(`overlay: node 1 container → node 3 container ${ip}: ${Date.now() - t0} ms including network create and both runs`);
  await l.docker(3, ['rm', '-f', 'srv']);
});

test('killNode(2): the manager sees node 2 Down; restartNode(2): Ready again', { skip: lab.skip }, async (t) => {
  const l = lab();
  const node2 = l.nodes[1]!;
  let t0 = Date.now();
  await l.killNode(2);
  t.diagnostic(`killNode: ${Date.now() - t0} ms until its processes were gone`);
  assert.deepEqual(processesMentioning(node2.dir), [], 'processes of node 2 after killNode');
  assert.ok(processesMentioning(l.nodes[0]!.dir).length > 0, 'node 1 still runs');
  const downMs = await waitStatus(l, node2.name, 'Down', 15_000);
  t.diagnostic(`node 2 Down on the manager ${downMs} ms after that`);
  await assert.rejects(fetch(`http://${node2.address}:18080/`, { signal: AbortSignal.timeout(2_000) }));
  t0 = Date.now();
  await l.restartNode(2);
  t.diagnostic(`restartNode: dockerd answering after ${Date.now() - t0} ms`);
  const readyMs = await waitStatus(l, node2.name, 'Ready', 30_000);
  t.diagnostic(`node 2 Ready on the manager ${readyMs} ms after that`);
  const info = (await l.docker(2, ['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.NodeID}}'])).stdout.trim();
  assert.equal(info, `active ${node2.id}`);
});

test('stop() leaves nothing behind', { skip: lab.skip }, async (t) => {
  const l = lab();
  const t0 = Date.now();
  await l.stop();
  t.diagnostic(`stop: ${Date.now() - t0} ms`);
  await l.stop(); // idempotent
  const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((x) => x.startsWith(`${l.prefix}-`));
  assert.deepEqual(netns, [], 'network namespaces');
  const links = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).split('\n').filter((x) => x.includes(l.prefix));
  assert.deepEqual(links, [], 'interfaces');
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((x) => x.includes(l.dir));
  assert.deepEqual(mounts, [], 'mounts');
  assert.deepEqual(processesMentioning(l.dir), [], 'processes');
  const cgroups = readdirSync('/sys/fs/cgroup').flatMap((c) => {
    try { return readdirSync(`/sys/fs/cgroup/${c}`).filter((d) => d.startsWith(`${l.prefix}-`)).map((d) => `${c}/${d}`); } catch { return []; }
  });
  assert.deepEqual(cgroups, [], 'cgroup dirs');
  assert.equal(existsSync(l.dir), false, 'lab dir');
});
