// runtime/network/internal-names: the runc driver's side of core/internal-network — what an instance's
// `/etc/hosts` says and where a connection to those names goes.
//  - Every endpoint gets a virtual address of its own in 198.18.0.0/16 (RFC 2544's benchmark range:
//    never a real destination), so two TCP services on one port (two tenants' `db:6379`) never collide
//    and no host port is taken from the host's own services.
//  - Each namespace (tenant) has one hosts file, bind-mounted read-only as /etc/hosts into its
//    instances and rewritten in place (same inode, so running instances see new services at once:
//    resolvers read /etc/hosts on every lookup).
//  - An nftables table of Skiff's own DNATs `VIP:port` arriving from the bridge to the proxy on the
//    bridge's own address; isolation.ts lets exactly those connections (ct status dnat, to the bridge
//    address) into the host. A VIP of another namespace is not in the caller's hosts file, and were it
//    dialled anyway, the proxy checks the caller's namespace by its (anti-spoofed) address.
import { createHash } from 'node:crypto';
import { promises as fsp, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../../core/errors.ts';
import type { InternalEndpoint, InternalNetwork } from '../../core/internal-network.ts';
import { execTool } from '../exec.ts';
import { gatewayIp, intToIp, ipToInt, type Subnet } from './allocator.ts';
import { ensureBridge } from './host-network.ts';

const VIP_BASE = ipToInt('198.18.0.0');
const VIP_COUNT = 2 ** 16 - 2; // .0.0 and .255.255 left out

export interface Placed extends InternalEndpoint {
  vip: string;
}

const keyOf = (e: InternalEndpoint) => `${e.namespace}\0${e.names[0] ?? ''}\0${e.port}`;
const hash = (s: string) => createHash('sha256').update(s).digest().readUInt32BE(0);

/** Gives each endpoint a virtual address: its hash's slot, or the next free one. Pure; the same
 *  endpoints get the same addresses whatever their order, and mostly whatever else exists. */
export function placeEndpoints(endpoints: InternalEndpoint[]): Placed[] {
  if (endpoints.length > VIP_COUNT) throw new SkiffError('CONFLICT', `more than ${VIP_COUNT} internal endpoints`);
  const used = new Set<number>();
  return [...endpoints]
    .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0))
    .map((e) => {
      let slot = hash(keyOf(e)) % VIP_COUNT;
      while (used.has(slot)) slot = (slot + 1) % VIP_COUNT;
      used.add(slot);
      return { ...e, vip: intToIp(VIP_BASE + 1 + slot) };
    });
}

/** One namespace's /etc/hosts. */
export function hostsText(placed: Placed[]): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  for (const p of placed) lines.push(`${p.vip}\t${p.names.join(' ')}`);
  return lines.join('\n') + '\n';
}

export const namesTable = (chainPrefix: string): string => `${chainPrefix}-names`;

/** The DNAT table's whole text. */
export function namesRuleset(chainPrefix: string, bridge: string, gateway: string, placed: Placed[]): string {
  const rules = placed.map((p) => `    iifname ${JSON.stringify(bridge)} ip daddr ${p.vip} tcp dport ${p.port} dnat to ${gateway}:${p.proxyPort}\n`).join('');
  return `table ip ${namesTable(chainPrefix)} {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
${rules}  }
}
`;
}

export interface NamesConfig {
  bridge: string;
  subnet: Subnet;
  chainPrefix: string;
  /** where the hosts files live (tmpfs: they are rebuilt from the routes at every start) */
  dir: string;
}

export class RuncInternalNetwork implements InternalNetwork {
  private readonly callers = new Map<string, string>();
  private published: Placed[] = [];
  private bridgeReady: Promise<void> | undefined;

  constructor(private readonly cfg: NamesConfig) {}

  async listenAddress(): Promise<string> {
    this.bridgeReady ??= ensureBridge(this.cfg).catch((err) => {
      this.bridgeReady = undefined;
      throw err;
    });
    await this.bridgeReady;
    return gatewayIp(this.cfg.subnet);
  }

  async publish(endpoints: InternalEndpoint[]): Promise<void> {
    const placed = placeEndpoints(endpoints);
    const table = `ip ${namesTable(this.cfg.chainPrefix)}`;
    const gateway = await this.listenAddress();
    const r = await execTool('nft', ['-f', '-'], `table ${table}\ndelete table ${table}\n${namesRuleset(this.cfg.chainPrefix, this.cfg.bridge, gateway, placed)}`);
    if (r.code !== 0) throw new SkiffError('INTERNAL', `cannot write the nftables table ${table}: ${r.stderr.trim()}`);
    this.published = placed;
    // every namespace with a file gets its new text, an emptied one included (its last service went)
    const namespaces = new Set(placed.map((p) => p.namespace));
    const files = existsSync(this.cfg.dir) ? (await fsp.readdir(this.cfg.dir)).filter((f) => f.endsWith('.hosts')) : [];
    const byFile = new Map([...namespaces].map((n) => [path.basename(this.hostsFile(n)), n]));
    for (const f of new Set([...files, ...byFile.keys()])) {
      const ns = byFile.get(f);
      // 'w' truncates the same inode: the bind mounts of running instances see the new text
      writeFileSync(path.join(this.cfg.dir, f), hostsText(ns === undefined ? [] : placed.filter((p) => p.namespace === ns)), { flag: 'w', mode: 0o644 });
    }
  }

  namespaceOf(address: string): string | undefined {
    return this.callers.get(address);
  }

  /** The hosts file of a namespace, made (with what is published for it) if missing: bind-mounted by create. */
  hostsFile(namespace: string): string {
    const file = path.join(this.cfg.dir, `${createHash('sha256').update(namespace).digest('hex').slice(0, 16)}.hosts`);
    if (!existsSync(file)) {
      mkdirSync(this.cfg.dir, { recursive: true, mode: 0o755 });
      writeFileSync(file, hostsText(this.published.filter((p) => p.namespace === namespace)), { mode: 0o644 });
    }
    return file;
  }

  /** An instance at `address` belongs to `namespace` (create, and re-adoption after a restart). */
  register(address: string, namespace: string): void {
    this.callers.set(address, namespace);
  }

  unregister(address: string): void {
    this.callers.delete(address);
  }

  /** Removes the DNAT table (the network itself is torn down). */
  static async remove(chainPrefix: string): Promise<void> {
    await execTool('nft', ['delete', 'table', 'ip', namesTable(chainPrefix)]);
  }
}
