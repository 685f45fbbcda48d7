// gateway/limits: how many client connections the gateway holds, in total and per client address.
// Every connection costs the daemon a file descriptor (two while it is proxied: the client's and the
// instance's), and the control API, the registry, the store and the instances draw on the same
// process limit; a gateway that accepted until the kernel refused took the whole daemon down with it
// (21 000 half-sent heads against 20 000 fds). So the gateway stops well short of the limit and a
// connection over it is closed as it arrives, before any byte of it is read.
import { readFileSync } from 'node:fs';
import type net from 'node:net';

export interface ConnectionLimits {
  /** open client connections, all addresses together */
  maxConnections: number;
  /** open client connections from one address */
  maxConnectionsPerClient: number;
  /** time a client has to send a whole request head */
  headTimeoutMs: number;
  /** a spliced connection with no byte either way for this long is closed */
  tunnelIdleTimeoutMs: number;
}

/** used when the process's fd limit cannot be read (not Linux): Linux's usual soft limit */
const FALLBACK_NOFILE = 1024;

/** The soft RLIMIT_NOFILE of this process (Node raises it to the hard limit at start), from
 *  /proc/self/limits: one read at start, where Node has no getrlimit of its own. */
export function fileDescriptorLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m) return m[1] === 'unlimited' ? 1 << 20 : Number(m[1]);
  } catch {
    // not Linux: the fallback below
  }
  return FALLBACK_NOFILE;
}

/**
 * The defaults (docs/configuration.md): a quarter of the fd limit for client connections — each
 * may hold a second fd to its instance, so the gateway at its limit holds half of them and the other
 * half stays for the control API and registry (their own limit), the store, the instances' pipes and
 * image files. One address may hold an eighth of that, so a single client (or a NAT) cannot fill the
 * gateway alone. `0` in a setting means "this default".
 */
export function connectionLimits(settings: Partial<ConnectionLimits> = {}, nofile = fileDescriptorLimit()): ConnectionLimits {
  const maxConnections = settings.maxConnections || Math.max(64, Math.floor(nofile / 4));
  return {
    maxConnections,
    maxConnectionsPerClient: settings.maxConnectionsPerClient || Math.max(1, Math.floor(maxConnections / 8)),
    headTimeoutMs: settings.headTimeoutMs || 5_000,
    tunnelIdleTimeoutMs: settings.tunnelIdleTimeoutMs || 60_000,
  };
}

/** Counts open client connections by address; admits a new one only below both limits. */
export class ConnectionCounter {
  private total = 0;
  private readonly byClient = new Map<string, number>();

  constructor(private readonly limits: Pick<ConnectionLimits, 'maxConnections' | 'maxConnectionsPerClient'>) {}

  get open(): number {
    return this.total;
  }

  /** Whether `socket` may stay; if so it is counted until it closes. */
  admit(socket: net.Socket): boolean {
    const address = socket.remoteAddress ?? '';
    const mine = this.byClient.get(address) ?? 0;
    if (this.total >= this.limits.maxConnections || mine >= this.limits.maxConnectionsPerClient) return false;
    this.total++;
    this.byClient.set(address, mine + 1);
    socket.once('close', () => {
      this.total--;
      const left = this.byClient.get(address)! - 1;
      if (left === 0) this.byClient.delete(address);
      else this.byClient.set(address, left);
    });
    return true;
  }
}
