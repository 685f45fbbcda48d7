// runtime/network/firewall: Skiff's host firewall for one network, in two halves.
//  - What must never pass is in isolation.ts (an nftables table of Skiff's own, where a drop is final
//    whatever other tools accept and in whatever order their rules sit).
//  - What Skiff's own traffic needs to pass is here, in iptables chains of Skiff's own, jumped to at
//    position 1, so Docker or podman rewriting the built-in chains (Docker sets FORWARD's policy to
//    DROP) cannot break it. Only accepts for exactly that traffic: a blanket ACCEPT ahead of other
//    tools' chains would bypass their policies.
// ensureFirewall converges both to this one definition (iptables chains refilled only when they differ):
//   <P>-INPUT        (jumped to from INPUT)
//     -i BR conntrack RELATED,ESTABLISHED  ACCEPT   replies to connections the host (gateway) opened
//     -i BR -d GW conntrack DNAT           ACCEPT   calls to other services by name (internal-names.ts)
//   <P>-FORWARD      (jumped to from FORWARD)
//     -o BR conntrack RELATED,ESTABLISHED  ACCEPT   replies to egress
//     -i BR -o UPLINK                      ACCEPT   egress, when the setting allows it: only out of the
//                                                   interfaces holding the host's default routes
//   nat <P>-POSTROUTING (jumped to from POSTROUTING)
//     -s SUBNET -o UPLINK MASQUERADE                  only when egress is enabled
import { SkiffError } from '../../core/errors.ts';
import { execOk, execTool } from '../exec.ts';
import { gatewayIp, intToIp, type Subnet } from './allocator.ts';
import { ensureIsolation, removeIsolation } from './isolation.ts';

export interface FirewallConfig {
  bridge: string;
  subnet: Subnet;
  chainPrefix: string;
  egress: boolean;
  /** where egress may leave; empty or absent: uplinks() */
  egressInterfaces?: string[];
}

/** The interfaces the host's IPv4 default routes leave through: where egress may go. */
export async function uplinks(): Promise<string[]> {
  const routes = JSON.parse((await execOk('ip', ['-j', 'route', 'show', 'default'])) || '[]') as Array<{ dev?: string }>;
  return [...new Set(routes.map((r) => r.dev).filter((d): d is string => !!d))];
}

type Rule = string[];

function rules(cfg: FirewallConfig, uplinkDevs: string[]): { input: Rule[]; forward: Rule[]; postrouting: Rule[] } {
  const br = cfg.bridge;
  const est = ['-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'];
  return {
    input: [['-i', br, ...est], ['-i', br, '-d', `${gatewayIp(cfg.subnet)}/32`, '-m', 'conntrack', '--ctstate', 'DNAT', '-j', 'ACCEPT']],
    forward: [
      ['-o', br, ...est],
      ...(cfg.egress ? uplinkDevs.filter((d) => d !== br).map((d) => ['-i', br, '-o', d, '-j', 'ACCEPT']) : []),
    ],
    postrouting: cfg.egress ? uplinkDevs.filter((d) => d !== br).map((d) => ['-s', `${intToIp(cfg.subnet.base)}/${cfg.subnet.prefix}`, '-o', d, '-j', 'MASQUERADE']) : [],
  };
}

const ipt = (table: string, ...args: string[]) => execOk('iptables', ['-w', '-t', table, ...args]);

async function fillChain(table: string, chain: string, from: string, body: Rule[]): Promise<void> {
  const created = await execTool('iptables', ['-w', '-t', table, '-N', chain]);
  if (created.code !== 0 && !created.stderr.includes('exists')) throw new SkiffError('INTERNAL', `iptables -N ${chain}: ${created.stderr.trim()}`);
  // Refill only when the chain differs, so a second driver starting never opens a window without rules.
  const current = (await ipt(table, '-S', chain)).split('\n').filter((l) => l.startsWith('-A '));
  const wanted = body.map((r) => ['-A', chain, ...r].join(' '));
  if (current.join('\n') !== wanted.join('\n')) {
    await ipt(table, '-F', chain);
    for (const r of body) await ipt(table, '-A', chain, ...r);
  }
  const jump = await execTool('iptables', ['-w', '-t', table, '-C', from, '-j', chain]);
  if (jump.code !== 0) await ipt(table, '-I', from, '1', '-j', chain);
}

export async function ensureFirewall(cfg: FirewallConfig): Promise<void> {
  const uplinkDevs = !cfg.egress ? [] : cfg.egressInterfaces?.length ? cfg.egressInterfaces : await uplinks();
  // the drops first: the accepts below never exist without them
  await ensureIsolation({ bridge: cfg.bridge, chainPrefix: cfg.chainPrefix, uplinks: uplinkDevs, gateway: gatewayIp(cfg.subnet) });
  const r = rules(cfg, uplinkDevs);
  await fillChain('filter', `${cfg.chainPrefix}-INPUT`, 'INPUT', r.input);
  await fillChain('filter', `${cfg.chainPrefix}-FORWARD`, 'FORWARD', r.forward);
  await fillChain('nat', `${cfg.chainPrefix}-POSTROUTING`, 'POSTROUTING', r.postrouting);
}

/** Unhooks and deletes the chains and the isolation table (used when the network itself is torn down). */
export async function removeFirewall(chainPrefix: string): Promise<void> {
  for (const [table, from, suffix] of [['filter', 'INPUT', 'INPUT'], ['filter', 'FORWARD', 'FORWARD'], ['nat', 'POSTROUTING', 'POSTROUTING']] as const) {
    const chain = `${chainPrefix}-${suffix}`;
    while ((await execTool('iptables', ['-w', '-t', table, '-D', from, '-j', chain])).code === 0);
    await execTool('iptables', ['-w', '-t', table, '-F', chain]);
    await execTool('iptables', ['-w', '-t', table, '-X', chain]);
  }
  await execTool('nft', ['delete', 'table', 'ip', `${chainPrefix}-names`]); // internal-names.ts's DNAT
  // the drops last: the accepts never exist without them
  await removeIsolation(chainPrefix);
}
