// runtime/network/host-network: the Skiff bridge and per-instance network namespaces, made with iproute2.
// Each instance gets `ip netns` named skiff-<id> (runc joins /run/netns/skiff-<id>), a veth pair whose
// host end is a bridge port with `isolated on` — isolated ports cannot exchange frames with each other,
// only with the bridge itself (the host) — and a default route via the bridge address.
// The instance's MAC is fixed (anti-spoof.ts derives it from the id) and pinned three ways, so that no
// frame an instance forges can take another's address: the bridge filter accepts only its own MAC and
// IPv4 address from its port, and the host's neighbour entry for its address is permanent (an ARP reply
// cannot move it). IPv6 is off on the bridge and the host ends (Skiff's policy is IPv4-only, and the
// bridge filter drops IPv6 from instances anyway), so the host has no address an instance could reach.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { SkiffError } from '../../core/errors.ts';
import { execOk, execTool } from '../exec.ts';
import { gatewayIp, type Subnet } from './allocator.ts';
import { allowPort, derivedMac, forgetPort, instanceMac } from './anti-spoof.ts';

export interface BridgeConfig { bridge: string; subnet: Subnet; chainPrefix: string }

/** Turns IPv6 off on a host interface (before it is up, so it never gets a link-local address). */
async function disableIpv6(dev: string): Promise<void> {
  await fsp.writeFile(`/proc/sys/net/ipv6/conf/${dev}/disable_ipv6`, '1').catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err; // a kernel without IPv6: nothing to turn off
  });
}

export const netnsName = (id: string): string => `skiff-${id}`;
export const netnsPath = (id: string): string => `/run/netns/${netnsName(id)}`;
/** Interface names are limited to 15 bytes, so the host end is named from a hash of the id. */
export const hostVeth = (id: string): string => `skv${createHash('sha256').update(id).digest('hex').slice(0, 10)}`;

/** Creates the bridge with its gateway address if missing; safe to call concurrently and repeatedly. */
export async function ensureBridge({ bridge, subnet }: BridgeConfig): Promise<void> {
  const add = await execTool('ip', ['link', 'add', 'name', bridge, 'type', 'bridge']);
  if (add.code !== 0 && !add.stderr.includes('File exists')) throw new SkiffError('INTERNAL', `ip link add ${bridge}: ${add.stderr.trim()}`);
  const addr = await execTool('ip', ['addr', 'add', `${gatewayIp(subnet)}/${subnet.prefix}`, 'dev', bridge]);
  if (addr.code !== 0 && !/File exists|already assigned/.test(addr.stderr)) throw new SkiffError('INTERNAL', `ip addr add on ${bridge}: ${addr.stderr.trim()}`);
  await disableIpv6(bridge);
  await pinBridgeMac(bridge);
  await execOk('ip', ['link', 'set', bridge, 'up']);
}

/**
 * Gives the bridge a MAC of its own (derived from its name) unless it has one already. A bridge without
 * one takes the lowest MAC of its ports, so every instance attached or removed could change it — and a
 * change of the bridge's address makes the kernel flush every neighbour entry on it, the permanent ones
 * too, while instances keep sending replies to the old gateway MAC until their own entry expires
 * (requests that hang). addr_assign_type 3 = set by userspace: the bridge then keeps it.
 */
async function pinBridgeMac(bridge: string): Promise<void> {
  const type = await fsp.readFile(`/sys/class/net/${bridge}/addr_assign_type`, 'utf8').catch(() => '');
  if (type.trim() === '3') return;
  await execOk('ip', ['link', 'set', 'dev', bridge, 'address', derivedMac(`bridge:${bridge}`)]);
}

export async function attachInstance(cfg: BridgeConfig, id: string, ip: string): Promise<void> {
  const ns = netnsName(id);
  const host = hostVeth(id);
  const peer = `skp${host.slice(3)}`;
  const mac = instanceMac(id);
  await execOk('ip', ['netns', 'add', ns]);
  await execOk('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', peer, 'address', mac, 'netns', ns]);
  await disableIpv6(host);
  await execOk('ip', ['link', 'set', host, 'master', cfg.bridge]);
  await execOk('bridge', ['link', 'set', 'dev', host, 'isolated', 'on']);
  // filtered from its first frame: the port is in the filter before its link is up
  await allowPort(cfg.chainPrefix, { port: host, mac, ip });
  await execOk('ip', ['link', 'set', host, 'up']);
  const inNs = (...args: string[]) => execOk('ip', ['-n', ns, ...args]);
  await inNs('link', 'set', peer, 'name', 'eth0');
  await inNs('addr', 'add', `${ip}/${cfg.subnet.prefix}`, 'dev', 'eth0');
  await inNs('link', 'set', 'eth0', 'up');
  await inNs('link', 'set', 'lo', 'up');
  await inNs('route', 'add', 'default', 'via', gatewayIp(cfg.subnet));
  // Permanent: no ARP reply moves it. (It also replaces an entry left by an instance deleted moments
  // ago that had this address, whose stale MAC would lose the first packets: seen as a 9.5 s cold start.)
  await execOk('ip', ['neigh', 'replace', ip, 'lladdr', mac, 'dev', cfg.bridge, 'nud', 'permanent']);
}

/** Removes the veth pair, the namespace, the neighbour entry and the filter's entries; missing pieces
 *  are fine (idempotent). `ip` is the instance's address when still known. */
export async function detachInstance(cfg: BridgeConfig, id: string, ip: string | undefined): Promise<void> {
  const host = hostVeth(id);
  await execTool('ip', ['link', 'del', host]);
  await execTool('ip', ['netns', 'del', netnsName(id)]);
  if (ip !== undefined) {
    await execTool('ip', ['neigh', 'del', ip, 'dev', cfg.bridge]);
    await forgetPort(cfg.chainPrefix, { port: host, mac: instanceMac(id), ip });
  }
}
