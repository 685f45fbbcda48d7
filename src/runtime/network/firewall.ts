// runtime/network/firewall: Skiff's iptables rules, kept in Skiff's own chains so Docker or podman
// rewriting the built-in chains (Docker sets FORWARD's policy to DROP) cannot break instance traffic.
// ensureFirewall converges the chains to this one definition (refilling only when they differ):
//   <P>-INPUT        (jumped to from INPUT, position 1)
//     -i BR conntrack RELATED,ESTABLISHED  ACCEPT   replies to connections the host opened
//     -i BR                                DROP     instances never open connections to the host:
//                                                   not the control API, not any other host port
//   <P>-FORWARD      (jumped to from FORWARD, position 1)
//     -o BR conntrack RELATED,ESTABLISHED  ACCEPT
//     -i BR -o BR                          DROP     instance <-> instance (bridge ports are also
//                                                   isolated at L2; this covers br_netfilter hairpins)
//     -i BR -o UPLINK                      ACCEPT   egress to the outside world, when the setting allows
//                                                   it: only out of the interfaces holding the host's
//                                                   default routes (found at start)
//     -i BR                                DROP     anything else an instance sends: never into another
//                                                   bridge (another Skiff's, Docker's, podman's) or any
//                                                   other local network — a blanket ACCEPT here, at
//                                                   FORWARD position 1, would bypass their isolation
//     -o BR                                DROP     the outside never reaches instances directly
//   nat <P>-POSTROUTING (jumped to from POSTROUTING)
//     -s SUBNET ! -o BR MASQUERADE                    only when egress is enabled
import { SkiffError } from '../../core/errors.ts';
import { execOk, execTool } from '../exec.ts';
import { intToIp, type Subnet } from './allocator.ts';

export interface FirewallConfig { bridge: string; subnet: Subnet; chainPrefix: string; egress: boolean }

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
    input: [['-i', br, ...est], ['-i', br, '-j', 'DROP']],
    forward: [
      ['-o', br, ...est],
      ['-i', br, '-o', br, '-j', 'DROP'],
      ...(cfg.egress ? uplinkDevs.filter((d) => d !== br).map((d) => ['-i', br, '-o', d, '-j', 'ACCEPT']) : []),
      ['-i', br, '-j', 'DROP'],
      ['-o', br, '-j', 'DROP'],
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
  const r = rules(cfg, cfg.egress ? await uplinks() : []);
  await fillChain('filter', `${cfg.chainPrefix}-INPUT`, 'INPUT', r.input);
  await fillChain('filter', `${cfg.chainPrefix}-FORWARD`, 'FORWARD', r.forward);
  await fillChain('nat', `${cfg.chainPrefix}-POSTROUTING`, 'POSTROUTING', r.postrouting);
}

/** Unhooks and deletes the chains (used when the network itself is torn down). */
export async function removeFirewall(chainPrefix: string): Promise<void> {
  for (const [table, from, suffix] of [['filter', 'INPUT', 'INPUT'], ['filter', 'FORWARD', 'FORWARD'], ['nat', 'POSTROUTING', 'POSTROUTING']] as const) {
    const chain = `${chainPrefix}-${suffix}`;
    while ((await execTool('iptables', ['-w', '-t', table, '-D', from, '-j', chain])).code === 0);
    await execTool('iptables', ['-w', '-t', table, '-F', chain]);
    await execTool('iptables', ['-w', '-t', table, '-X', chain]);
  }
}
