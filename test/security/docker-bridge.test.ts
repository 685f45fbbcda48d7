// Hardening finding 3 against a real Docker: a private dockerd that programs iptables as an installed
// Docker does (its DOCKER* chains inserted at the top of FORWARD, after Skiff's, so Docker's rules are
// seen first; FORWARD's policy DROP) and a user-defined bridge network with a container serving HTTP,
// also published on a host port. A Skiff instance with egress on must reach neither the container nor
// its published port, and the container must not reach the Skiff instance — while each side still
// reaches what it should: the container its neighbour, the host both, and the Skiff instance the
// outside (a namespace of this test behind the interface configured as runtime.egressInterfaces).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pushAttackerImage } from '../helpers/attacker-image.ts';
import { readyInstance, runIn } from '../helpers/instance-probe.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { until } from '../helpers/serving.ts';
import { freePort, freeSubnetOctet, isCI, isRoot, requireTool } from '../helpers/tools.ts';
import { execFileSync } from 'node:child_process';
import { startDockerd } from '../clients/dockerd.ts';
import { SkiffClient } from '../../src/api/client.ts';

const skip = (!isRoot && !isCI ? 'needs root (runc, dockerd, iptables)' : false) || requireTool('dockerd', 'docker.io') || false;

/** A shell line that prints HTTP's status line when `ip:8080` answers a GET, and nothing when it does not. */
const get = (ip: string) => `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} 8080 2>&1 | head -1`;

/** "The outside": a namespace behind a veth whose host end is the uplink, serving HTTP on 8080 at the returned address. */
function outsideNetwork(t: { after: (fn: () => unknown) => void }): { uplink: string; ip: string } {
  const octet = freeSubnetOctet(217, 10);
  const [uplink, ns] = [`skup${process.pid % 100000}`, `skiff-outside-${process.pid}`];
  const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { stdio: 'pipe' });
  t.after(() => sh(`ip netns pids ${ns} 2>/dev/null | xargs -r kill; ip netns del ${ns} 2>/dev/null; ip link del ${uplink} 2>/dev/null; true`));
  sh(`ip netns add ${ns} && ip link add ${uplink} type veth peer name eth0 netns ${ns}`);
  sh(`ip addr add 10.217.${octet}.1/24 dev ${uplink} && ip link set ${uplink} up`);
  sh(`ip -n ${ns} addr add 10.217.${octet}.2/24 dev eth0 && ip -n ${ns} link set eth0 up && ip -n ${ns} link set lo up`);
  sh(`mkdir -p /tmp/skiff-outside-${process.pid} && echo outside > /tmp/skiff-outside-${process.pid}/index.html`);
  t.after(() => sh(`rm -rf /tmp/skiff-outside-${process.pid}`));
  sh(`ip netns exec ${ns} busybox httpd -p 8080 -h /tmp/skiff-outside-${process.pid}`);
  return { uplink, ip: `10.217.${octet}.2` };
}

test('a Docker bridge next to Skiff: no path between a Skiff instance (egress on) and a Docker container, either way', { skip }, async (t) => {
  const outside = outsideNetwork(t);
  const d = await startTestDaemon(t, {
    settings: (s: TestDaemon['settings']) => void ((s.runtime.egress = true), (s.runtime.egressInterfaces = [outside.uplink])),
  });
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const repo = uniqueRepo('attacker');
  const image = await pushAttackerImage(d, repo);
  const skiffInstance = await readyInstance(client, image);

  // Docker starts after Skiff, so its rules sit ahead of Skiff's jump in FORWARD: the harder order.
  const dockerd = await startDockerd({ iptables: true });
  t.after(() => dockerd.stop());
  const docker = async (...args: string[]) => (await dockerd.docker(args)).stdout.trim();
  await dockerd.docker(['login', d.host, '-u', 'skiff', '--password-stdin'], { input: d.token });
  const dockerImage = `${d.host}/${repo}:v1`;
  await docker('pull', '-q', dockerImage);
  const octet = freeSubnetOctet(216, 10);
  const bridge = `skdk${process.pid % 100000}`;
  await docker('network', 'create', '--subnet', `10.216.${octet}.0/24`, '-o', `com.docker.network.bridge.name=${bridge}`, 'skiff-probe');
  // busybox httpd in the foreground, serving "victim" on 8080 (the image's default command)
  const published = await freePort();
  const web = await docker('run', '-d', '--network', 'skiff-probe', '-p', `${published}:8080`, dockerImage);
  const webIp = await docker('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', web);
  assert.match(webIp, new RegExp(`^10\\.216\\.${octet}\\.\\d+$`));
  const fromContainer = async (cmd: string) => docker('run', '--rm', '--network', 'skiff-probe', dockerImage, 'sh', '-c', cmd);

  // Docker turns FORWARD's policy to DROP when it is the one enabling forwarding (here Skiff was first)
  const policy = /^-P FORWARD (\S+)/m.exec(execFileSync('iptables', ['-w', '-S', 'FORWARD'], { encoding: 'utf8' }))?.[1] ?? 'ACCEPT';
  execFileSync('iptables', ['-w', '-P', 'FORWARD', 'DROP']);
  t.after(() => execFileSync('iptables', ['-w', '-P', 'FORWARD', policy]));
  const gw = skiffInstance.ip.replace(/\.\d+$/, '.1');

  // The paths exist: the host reaches both (the container also at its published port on a host
  // address), a Docker container reaches its neighbour, and the Skiff instance reaches the outside.
  await until('the Docker container serves', async () => (await fetch(`http://${webIp}:8080/`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.status === 200);
  assert.equal((await fetch(`http://${skiffInstance.ip}:8080/`, { signal: AbortSignal.timeout(5000) })).status, 200);
  assert.equal((await fetch(`http://${gw}:${published}/`, { signal: AbortSignal.timeout(5000) })).status, 200);
  assert.match(await fromContainer(get(webIp)), /^HTTP\/1\.\d 200/, 'the probe container reaches its own network');
  const egress = await runIn(client, { image, command: ['sh', '-c', `wget -q -O - http://${outside.ip}:8080/ 2>&1`] });
  assert.equal(egress.out.trim(), 'outside', `egress through runtime.egressInterfaces, past FORWARD's DROP policy: ${egress.out}`);

  const skiffToDocker = await runIn(client, { image, command: ['sh', '-c', `${get(webIp)}; ${get(gw).replace('8080', String(published))}; echo done`] });
  assert.match(skiffToDocker.out, /done/);
  assert.doesNotMatch(skiffToDocker.out, /HTTP/, `a Skiff instance reached the Docker container: ${skiffToDocker.out}`);
  const dockerToSkiff = await fromContainer(`${get(skiffInstance.ip)}; echo done`);
  assert.match(dockerToSkiff, /done/);
  assert.doesNotMatch(dockerToSkiff, /HTTP/, `a Docker container reached the Skiff instance: ${dockerToSkiff}`);
});
