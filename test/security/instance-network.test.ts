// Findings 1–4 of the hardening issue, replayed from inside real instances (runc, the daemon's own
// network): ARP spoofing, IPv6 to the host, a path between bridges, and an unbounded writable layer.
// The attacker is /bin/forge (test/helpers/forge.c) and busybox, run with `skiff run`'s API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { pushAttackerImage } from '../helpers/attacker-image.ts';
import { uniqueRepo } from '../helpers/oci.ts';
import { freePort, freeSubnetOctet, isCI, isRoot } from '../helpers/tools.ts';
import { gatewayGet } from '../helpers/serving.ts';
import { SkiffClient } from '../../src/api/client.ts';
import { readyInstance as victim, runIn as run } from '../helpers/instance-probe.ts';
import { gatewayIp, parseCidr } from '../../src/runtime/network/allocator.ts';
import { instanceMac } from '../../src/runtime/network/anti-spoof.ts';

const skip = !isRoot && !isCI ? 'needs root (runc, overlayfs, netns, nftables)' : false;

/** A TCP listener on the host; counts the connections it got. */
async function hostListener(t: { after: (fn: () => unknown) => void }, host: string): Promise<{ port: number; accepted: () => number }> {
  let accepted = 0;
  const srv = net.createServer((s) => {
    accepted++;
    s.end('host\n');
  });
  const port = await freePort();
  await new Promise<void>((resolve) => srv.listen(port, host, resolve));
  t.after(() => srv.close());
  return { port, accepted: () => accepted };
}

test('ARP: without NET_RAW an instance cannot open a raw socket; with it, forged replies move no address and the victim keeps serving', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const image = await pushAttackerImage(d, uniqueRepo('attacker'));
  const v = await victim(client, image);
  const gw = gatewayIp(parseCidr(d.settings.runtime.subnet));
  const bridgeMac = readFileSync(`/sys/class/net/${d.settings.runtime.bridge}/address`, 'utf8').trim();
  const forge = (n: number) => ['/bin/forge', 'arp', 'eth0', v.ip, gw, String(n), bridgeMac];

  const refused = await run(client, { image, command: forge(3) });
  assert.equal(refused.code, 13, `no CAP_NET_RAW by default: ${refused.out}`);

  const neighbour = () => execFileSync('ip', ['neigh', 'show', v.ip, 'dev', d.settings.runtime.bridge], { encoding: 'utf8' });
  const attack = run(client, { image, capAdd: ['NET_RAW'], command: forge(50) });
  const statuses: number[] = [];
  const macs = new Set<string>();
  let done = false;
  void attack.finally(() => (done = true));
  while (!done) {
    statuses.push((await gatewayGet(d.gatewayUrl, 'victim')).status);
    macs.add(/lladdr (\S+)/.exec(neighbour())?.[1] ?? 'none');
  }
  const attacked = await attack;
  assert.equal(attacked.code, 0, `the forged replies were sent (NET_RAW granted): ${attacked.out}`);
  // 'none' would be an entry lost: the bridge changing its MAC as the runs' ports come and go flushes
  // every neighbour entry, permanent ones included (pinBridgeMac)
  assert.deepEqual([...macs], [instanceMac(v.id)], 'the host always reached the victim at its own MAC');
  assert.ok(statuses.length > 5 && statuses.every((s) => s === 200), `requests during the spoof: ${statuses.join(',')}`);
});

test('IPv4 and IPv6: an instance reaches no host listener, on the bridge address or over IPv6 link-local', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const image = await pushAttackerImage(d, uniqueRepo('attacker'));
  const v4 = await hostListener(t, '0.0.0.0');
  const v6 = await hostListener(t, '::');
  const gw = gatewayIp(parseCidr(d.settings.runtime.subnet));
  await run(client, { image, command: ['true'] }); // the network exists once the first instance does
  // the bridge's EUI-64 link-local address, which it had before IPv6 was turned off on it
  const mac = readFileSync(`/sys/class/net/${d.settings.runtime.bridge}/address`, 'utf8').trim().split(':').map((h) => parseInt(h, 16));
  const ll = `fe80::${((mac[0]! ^ 2) << 8 | mac[1]!).toString(16)}:${(mac[2]! << 8 | 0xff).toString(16)}:fe${mac[3]!.toString(16).padStart(2, '0')}:${(mac[4]! << 8 | mac[5]!).toString(16)}`;
  assert.equal(readFileSync(`/proc/sys/net/ipv6/conf/${d.settings.runtime.bridge}/disable_ipv6`, 'utf8').trim(), '1');
  const probe = await run(client, {
    image,
    capAdd: ['NET_RAW'],
    command: ['sh', '-c', `nc -w 2 ${gw} ${v4.port} </dev/null && echo v4-connected; nc -w 2 ${ll}%eth0 ${v6.port} </dev/null && echo v6-connected; ip -6 addr show dev eth0; true`],
  });
  assert.doesNotMatch(probe.out, /connected/, probe.out);
  assert.equal(v4.accepted() + v6.accepted(), 0, 'the host listeners got no connection');
});

test('bridges: an instance of one Skiff (egress on) reaches neither another Skiff’s instance nor a foreign bridge’s host', { skip }, async (t) => {
  const egress = (s: TestDaemon['settings']) => void (s.runtime.egress = true);
  const a = await startTestDaemon(t, { settings: egress });
  const b = await startTestDaemon(t, { settings: egress });
  const ca = new SkiffClient({ baseUrl: a.url, token: a.token });
  const cb = new SkiffClient({ baseUrl: b.url, token: b.token });
  const image = await pushAttackerImage(a, uniqueRepo('attacker'));
  const imageB = await pushAttackerImage(b, uniqueRepo('victim'));
  const v = await victim(cb, imageB);

  // A foreign bridge, as Docker or podman make one: a namespace behind it serving HTTP.
  const octet = freeSubnetOctet(214, 10);
  const [br, ns] = [`skfb-${process.pid % 10000}`, `skiff-foreign-${process.pid}`];
  const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { stdio: 'pipe' });
  t.after(() => {
    sh(`ip netns pids ${ns} 2>/dev/null | xargs -r kill; ip netns del ${ns} 2>/dev/null; ip link del ${br} 2>/dev/null; true`);
  });
  sh(`ip link add ${br} type bridge && ip addr add 10.214.${octet}.1/24 dev ${br} && ip link set ${br} up`);
  sh(`ip netns add ${ns} && ip link add ${br}h type veth peer name eth0 netns ${ns} && ip link set ${br}h master ${br} up`);
  sh(`ip -n ${ns} addr add 10.214.${octet}.2/24 dev eth0 && ip -n ${ns} link set eth0 up && ip -n ${ns} route add default via 10.214.${octet}.1`);
  execFileSync('sh', ['-c', `ip netns exec ${ns} busybox httpd -p 8080 -h /tmp`]);
  // the host itself reaches the foreign namespace's server (a 404 for /): the path exists, only policy may stop it
  const fromHost = await fetch(`http://10.214.${octet}.2:8080/`, { signal: AbortSignal.timeout(5000) });
  assert.equal(fromHost.status, 404);

  const get = (ip: string) => `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} 8080 2>&1`;
  const probe = await run(ca, {
    image,
    command: ['sh', '-c', `${get(v.ip)} | grep -q HTTP && echo skiff-reached; ${get(`10.214.${octet}.2`)} | grep -q HTTP && echo foreign-reached; true`],
  });
  assert.doesNotMatch(probe.out, /skiff-reached/, `another Skiff's instance answered: ${probe.out}`);
  assert.doesNotMatch(probe.out, /foreign-reached/, `the foreign bridge's host answered: ${probe.out}`);
});

test('the writable layer is a kernel-enforced size: past it is ENOSPC inside, and nothing reaches the host’s disk', { skip }, async (t) => {
  const d = await startTestDaemon(t);
  const client = new SkiffClient({ baseUrl: d.url, token: d.token });
  const image = await pushAttackerImage(d, uniqueRepo('attacker'));
  const du = () => Number(execFileSync('du', ['-sk', d.dataDir], { encoding: 'utf8' }).split('\t')[0]);
  const before = du();
  const r = await run(client, { image, disk: '16Mi', memory: '256Mi', command: ['sh', '-c', 'df -k / | tail -1; dd if=/dev/zero of=/big bs=1M count=64 2>&1; echo dd=$?'] });
  assert.match(r.out, /No space left on device/, r.out);
  assert.match(r.out, /dd=1/, r.out);
  const size = Number(/^\S+\s+(\d+)/m.exec(r.out.split('\n').find((l) => /^\S+\s+\d+\s+\d+/.test(l)) ?? '')?.[1]);
  assert.ok(size > 0 && size <= 16 * 1024, `df inside shows the 16 MiB layer, not the host's disk: ${r.out}`);
  assert.ok(du() - before < 8 * 1024, 'the host data dir did not grow by what the instance wrote');
});
