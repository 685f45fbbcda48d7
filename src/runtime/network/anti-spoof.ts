// runtime/network/anti-spoof: an instance may send only frames that carry its own MAC and IPv4 address,
// enforced on the bridge (nftables, bridge family) for each instance's port, so that no capability an
// instance holds — CAP_NET_RAW is off by default, but a service may ask for it — lets it forge ARP
// replies that move another instance's address to itself, spoof a source address, or speak IPv6 (which
// has no other policy here). One table per Skiff network:
//   table bridge <chain prefix>-antispoof
//     set ports  { ifname }                                    the host ends of instance veths
//     set ip4    { ifname . MAC . IPv4 }                       what each port may send from
//     set arp4   { ifname . MAC . ARP sender MAC . sender IP } what each port may claim in ARP
//     chain pre (prerouting)
//       iifname != @ports accept          frames from anywhere else are none of this table's business
//       <ARP matching arp4> accept
//       <IPv4 matching ip4> accept
//       drop                              everything else from an instance: forged, IPv6, other types
// Elements are added when an instance is attached and deleted when it is detached; the table survives
// a daemon restart (kernel state), so re-adopted instances keep their entries.
import { createHash } from 'node:crypto';
import { SkiffError } from '../../core/errors.ts';
import { execOk, execTool } from '../exec.ts';

export const antiSpoofTable = (chainPrefix: string): string => `${chainPrefix}-antispoof`;

/** A locally administered unicast MAC derived from `seed`: the same for the same name, every time. */
export function derivedMac(seed: string): string {
  const h = createHash('sha256').update(seed).digest();
  return [0x02, h[0]!, h[1]!, h[2]!, h[3]!, h[4]!].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The instance's MAC, derived from its id, so it is known before the veth exists and can be pinned
 *  on both sides (the bridge filter, the host's neighbour table). */
export function instanceMac(id: string): string {
  return derivedMac(`mac:${id}`);
}

const definition = (table: string) => `table bridge ${table} {
  set ports { type ifname; }
  set ip4 { type ifname . ether_addr . ipv4_addr; }
  set arp4 { type ifname . ether_addr . ether_addr . ipv4_addr; }
  chain pre {
    type filter hook prerouting priority -200; policy accept;
    iifname != @ports accept
    iifname . ether saddr . arp saddr ether . arp saddr ip @arp4 accept
    iifname . ether saddr . ip saddr @ip4 accept
    drop
  }
}
`;

/** Creates the table if missing. An existing one is kept as it is, with its elements. */
export async function ensureAntiSpoof(chainPrefix: string): Promise<void> {
  const table = antiSpoofTable(chainPrefix);
  if ((await execTool('nft', ['list', 'table', 'bridge', table])).code === 0) return;
  const r = await execTool('nft', ['-f', '-'], definition(table));
  // Two daemons on one network prefix starting together: the other one made it.
  if (r.code !== 0 && (await execTool('nft', ['list', 'table', 'bridge', table])).code !== 0) {
    throw new SkiffError('PREFLIGHT_FAILED', `cannot create the nftables bridge table ${table} (the kernel needs nf_tables with bridge support): ${r.stderr.trim()}`);
  }
}

export interface PortIdentity { port: string; mac: string; ip: string }

const elements = ({ port, mac, ip }: PortIdentity) => [
  `{ "${port}" }`,
  `{ "${port}" . ${mac} . ${ip} }`,
  `{ "${port}" . ${mac} . ${mac} . ${ip} }`,
];

/** Lets `port` send as `mac`/`ip` (and nothing else). Idempotent. */
export async function allowPort(chainPrefix: string, id: PortIdentity): Promise<void> {
  const table = antiSpoofTable(chainPrefix);
  const [ports, ip4, arp4] = elements(id);
  await execOk('nft', ['-f', '-'], `add element bridge ${table} ip4 ${ip4}\nadd element bridge ${table} arp4 ${arp4}\nadd element bridge ${table} ports ${ports}\n`);
}

/** Forgets `port`; missing elements (or table) are fine. */
export async function forgetPort(chainPrefix: string, id: PortIdentity): Promise<void> {
  const table = antiSpoofTable(chainPrefix);
  const [ports, ip4, arp4] = elements(id);
  const batch = `delete element bridge ${table} ports ${ports}\ndelete element bridge ${table} ip4 ${ip4}\ndelete element bridge ${table} arp4 ${arp4}\n`;
  if ((await execTool('nft', ['-f', '-'], batch)).code === 0) return;
  // A batch fails whole when any element is already gone: then one by one.
  for (const [set, el] of [['ports', ports], ['ip4', ip4], ['arp4', arp4]] as const) {
    await execTool('nft', ['delete', 'element', 'bridge', table, set, el!]);
  }
}

export async function removeAntiSpoof(chainPrefix: string): Promise<void> {
  await execTool('nft', ['delete', 'table', 'bridge', antiSpoofTable(chainPrefix)]);
}
