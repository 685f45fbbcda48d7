// runtime/network/isolation: what an instance's traffic may never do, in an nftables table of Skiff's
// own. An nftables drop is final: whatever any other table or iptables chain accepts — Docker's
// `-i docker-bridge ! -o docker-bridge -j ACCEPT`, inserted at the top of FORWARD whenever dockerd
// starts, podman's netavark rules, a host firewall — a packet this table drops stays dropped. Rule
// order between tools, which decides everything in iptables, cannot reopen a path here.
// (firewall.ts holds the other half: the iptables accepts Skiff's own traffic needs to get past a
// DROP policy someone else set.) One table per Skiff network:
//   table inet <chain prefix>-isolation
//     chain input (before iptables' filter)
//       iifname BR  ct established,related  accept   replies to connections the host opened
//       iifname BR  ip daddr GW  ct status dnat  accept   a call to another service by name, DNATed by
//                                                    internal-names.ts to Skiff's proxy on the bridge
//                                                    address (the proxy checks who calls)
//       iifname BR                          drop     instances never open connections to the host:
//                                                    not the control API, not any other host port
//     chain forward
//       oifname BR  ct established,related  accept   replies to instances' egress
//       oifname BR                          drop     nothing else is routed to an instance: not from
//                                                    another bridge (Docker's, podman's, another
//                                                    Skiff's), not from outside
//       iifname BR  oifname UPLINKS         accept   egress, when the setting allows it: only out of
//                                                    the interfaces holding the host's default routes
//       iifname BR                          drop     anything else an instance sends: never into another
//                                                    bridge or any other local network
// `accept` here only ends this table's say; iptables' chains still see the packet. Instance to
// instance on the same bridge never reaches these hooks (ports are isolated at L2, and anti-spoof.ts
// guards the bridge itself); with br_netfilter a hairpin would, and `oifname BR drop` covers it.
import { SkiffError } from '../../core/errors.ts';
import { execTool } from '../exec.ts';

export const isolationTable = (chainPrefix: string): string => `${chainPrefix}-isolation`;

export interface IsolationConfig {
  bridge: string;
  chainPrefix: string;
  /** where egress may leave; none: no egress */
  uplinks: string[];
  /** the bridge's own address, where the proxies of service-to-service calls listen; absent: no such calls */
  gateway?: string;
}

const quoted = (name: string) => JSON.stringify(name);

/** The table's whole text; `uplinks` empty means no egress rule at all. */
export function isolationRuleset(cfg: IsolationConfig): string {
  const br = quoted(cfg.bridge);
  const uplinks = cfg.uplinks.filter((d) => d !== cfg.bridge);
  return `table inet ${isolationTable(cfg.chainPrefix)} {
  chain input {
    type filter hook input priority filter - 10; policy accept;
    iifname ${br} ct state established,related accept
${cfg.gateway ? `    iifname ${br} ip daddr ${cfg.gateway} ct status dnat accept\n` : ''}    iifname ${br} drop
  }
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    oifname ${br} ct state established,related accept
    oifname ${br} drop
${uplinks.length ? `    iifname ${br} oifname { ${uplinks.map(quoted).join(', ')} } accept\n` : ''}    iifname ${br} drop
  }
}
`;
}

/**
 * Replaces the table with this definition in one transaction (declare, delete, recreate: nft applies
 * a batch atomically), so there is never a moment without it, and two daemons starting on one
 * network prefix end with one table, not a mix.
 */
export async function ensureIsolation(cfg: IsolationConfig): Promise<void> {
  const table = `inet ${isolationTable(cfg.chainPrefix)}`;
  const r = await execTool('nft', ['-f', '-'], `table ${table}\ndelete table ${table}\n${isolationRuleset(cfg)}`);
  if (r.code !== 0) {
    throw new SkiffError('PREFLIGHT_FAILED', `cannot create the nftables table ${table} (the kernel needs nf_tables with the inet family and conntrack): ${r.stderr.trim()}`);
  }
}

export async function removeIsolation(chainPrefix: string): Promise<void> {
  await execTool('nft', ['delete', 'table', 'inet', isolationTable(chainPrefix)]);
}
