// runtime/network/listening: the TCP sockets listening inside an instance, read from its process's
// view of /proc/<pid>/net/tcp and tcp6 (that view is its network namespace). Lets the scheduler tell
// "listens on the wrong port" or "listens on 127.0.0.1 only" from "slow to start" within seconds,
// instead of waiting out the readiness deadline.
import { readFile } from 'node:fs/promises';
import type { ListeningSocket } from '../../core/instance.ts';

/** socket state LISTEN in /proc/net/tcp */
const TCP_LISTEN = '0A';

/** `0100007F` (little-endian, as the kernel prints it on x86) → 127.0.0.1 */
function ipv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join('.');
}

/** 32 hex digits, four little-endian 32-bit words → the usual compressed form */
function ipv6(hex: string): string {
  const groups: string[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8).match(/../g)!.reverse().join('');
    groups.push(word.slice(0, 4), word.slice(4, 8));
  }
  const parts = groups.map((g) => Number.parseInt(g, 16).toString(16));
  // the longest run of zero groups becomes "::"
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && parts[j] === '0') j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.len < 2) return parts.join(':');
  return `${parts.slice(0, best.at).join(':')}::${parts.slice(best.at + best.len).join(':')}`;
}

/** The listening sockets of one /proc/net/tcp or tcp6 file's text. */
export function parseProcNetTcp(text: string, family: 4 | 6): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || f[3] !== TCP_LISTEN) continue;
    const [addr, port] = f[1]!.split(':');
    if (!addr || !port) continue;
    out.push({ address: family === 4 ? ipv4(addr) : ipv6(addr), port: Number.parseInt(port, 16) });
  }
  return out;
}

/** What process `pid` sees listening (IPv4 and IPv6), or undefined when it is gone. */
export async function listeningSockets(pid: number): Promise<ListeningSocket[] | undefined> {
  try {
    const [v4, v6] = await Promise.all([readFile(`/proc/${pid}/net/tcp`, 'utf8'), readFile(`/proc/${pid}/net/tcp6`, 'utf8').catch(() => '')]);
    return [...parseProcNetTcp(v4, 4), ...parseProcNetTcp(v6, 6)];
  } catch {
    return undefined;
  }
}
