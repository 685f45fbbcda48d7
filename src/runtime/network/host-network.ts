// runtime/network/host-network: the Skiff bridge and per-instance network namespaces, made with iproute2.
// Each instance gets `ip netns` named skiff-<id> (runc joins /run/netns/skiff-<id>), a veth pair whose
// host end is a bridge port with `isolated on` — isolated ports cannot exchange frames with each other,
// only with the bridge itself (the host) — and a default route via the bridge address.
import { createHash } from 'node:crypto';
import { SkiffError } from '../../core/errors.ts';
import { execOk, execTool } from '../exec.ts';
import { gatewayIp, type Subnet } from './allocator.ts';

export interface BridgeConfig { bridge: string; subnet: Subnet }

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
  await execOk('ip', ['link', 'set', bridge, 'up']);
}

export async function attachInstance(cfg: BridgeConfig, id: string, ip: string): Promise<void> {
  const ns = netnsName(id);
  const host = hostVeth(id);
  const peer = `skp${host.slice(3)}`;
  await execOk('ip', ['netns', 'add', ns]);
  await execOk('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', peer, 'netns', ns]);
  await execOk('ip', ['link', 'set', host, 'master', cfg.bridge]);
  await execOk('bridge', ['link', 'set', 'dev', host, 'isolated', 'on']);
  await execOk('ip', ['link', 'set', host, 'up']);
  const inNs = (...args: string[]) => execOk('ip', ['-n', ns, ...args]);
  await inNs('link', 'set', peer, 'name', 'eth0');
  await inNs('addr', 'add', `${ip}/${cfg.subnet.prefix}`, 'dev', 'eth0');
  await inNs('link', 'set', 'eth0', 'up');
  await inNs('link', 'set', 'lo', 'up');
  await inNs('route', 'add', 'default', 'via', gatewayIp(cfg.subnet));
  // The address may have belonged to an instance deleted moments ago: the host's neighbour entry would
  // still name that instance's MAC, and the first packets (readiness probe, request) would be lost until
  // the kernel re-validates it (seconds; seen as a 9.5 s cold start).
  await execTool('ip', ['neigh', 'flush', 'to', ip, 'dev', cfg.bridge]);
}

/** Removes the veth pair and the namespace; missing pieces are fine (idempotent). */
export async function detachInstance(id: string): Promise<void> {
  await execTool('ip', ['link', 'del', hostVeth(id)]);
  await execTool('ip', ['netns', 'del', netnsName(id)]);
}
