// test/runtime/test-network: a network of one test file's own — bridge, /24, iptables chains, address
// dir — so parallel runs never share state and teardown removes all of it (nothing touches a real
// daemon's skiff0); plus counts of what instances leave on the host (mounts, netns, cgroups), and a
// sweep of netns that dead runs of the same file left behind.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, rmdirSync } from 'node:fs';
import { removeFirewall } from '../../src/runtime/network/firewall.ts';
import { removeAntiSpoof } from '../../src/runtime/network/anti-spoof.ts';
import { hostVeth } from '../../src/runtime/network/host-network.ts';
import { freeSubnetOctet } from '../helpers/tools.ts';

export interface TestNetwork { bridge: string; cidr: string; chainPrefix: string; egress: false }

/** `letter` names the file's bridge/chains (skL-<pid hex>), `octet` its 10.<octet>.N.0/24: the first N
 *  from pid % 250 on that no host interface uses (a killed run's bridge may still hold its /24). */
export function testNetwork(letter: string, octet: number): TestNetwork {
  const tag = (process.pid % 65536).toString(16).padStart(4, '0');
  return { bridge: `sk${letter}-${tag}`, cidr: `10.${octet}.${freeSubnetOctet(octet, process.pid % 250)}.0/24`, chainPrefix: `SK${letter.toUpperCase()}-${tag}`, egress: false };
}

/** A run id for instance ids: `<prefix><pid base36><4 chars>`; sweepDeadRuns() parses the pid back. */
export function runId(prefix: string): string {
  return `${prefix}${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
}

/** Removes netns + veth of instances `<prefix><pid><4>-…` whose run's process is dead. */
export function sweepDeadRuns(prefix: string): void {
  const re = new RegExp(`^skiff-(${prefix}([0-9a-z]+)[0-9a-z]{4}-[0-9a-z-]+)$`);
  for (const line of execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = re.exec(name);
    if (!m) continue;
    try { process.kill(parseInt(m[2]!, 36), 0); continue; } catch { /* owner is gone */ }
    try { execFileSync('ip', ['link', 'del', hostVeth(m[1]!)], { stdio: 'ignore' }); } catch { /* already gone */ }
    try { execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' }); } catch { /* already gone */ }
  }
}

export async function removeTestNetwork(n: TestNetwork): Promise<void> {
  try { execFileSync('ip', ['link', 'del', n.bridge], { stdio: 'ignore' }); } catch { /* never created */ }
  await removeFirewall(n.chainPrefix);
  await removeAntiSpoof(n.chainPrefix);
  rmSync(`/run/skiff/ipam/${n.bridge}`, { recursive: true, force: true });
  for (const d of ['/run/skiff/ipam', '/run/skiff']) {
    try { rmdirSync(d); } catch { /* not empty (a parallel run) or absent */ }
  }
  // runc makes the instances' parent cgroup (/skiff) and leaves it; remove it where no instance is left
  for (const h of readdirSync('/sys/fs/cgroup')) {
    try { rmdirSync(`/sys/fs/cgroup/${h}/skiff`); } catch { /* in use (a parallel run, a daemon) or absent */ }
  }
}

export const bridgeExists = (n: TestNetwork): boolean => existsSync(`/sys/class/net/${n.bridge}`);

export function chainsExist(n: TestNetwork): boolean {
  return execFileSync('iptables', ['-w', '-S'], { encoding: 'utf8' }).includes(`${n.chainPrefix}-FORWARD`);
}

/** What instances whose ids contain `run` (and mounts under `dir`) hold on the host right now. */
export function hostFootprint(run: string, dir: string) {
  const cgroups = readdirSync('/sys/fs/cgroup').flatMap((c) => {
    const parent = `/sys/fs/cgroup/${c}/skiff`;
    return existsSync(parent) ? readdirSync(parent).filter((d) => d.includes(run)).map((d) => `${c}/${d}`) : [];
  });
  return {
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir)).length,
    netns: execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(run)).length,
    cgroups: cgroups.length,
  };
}
