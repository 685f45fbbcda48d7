// runtime/network/allocator: pure IPv4 address arithmetic for the instance subnet. The gateway (bridge)
// takes the first host address; instances get the rest. Reservation across processes is ipam.ts's job.
import { SkiffError } from '../../core/errors.ts';

export interface Subnet { base: number; prefix: number }

export function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new SkiffError('CONFIG_INVALID', `invalid IPv4 address ${JSON.stringify(ip)}`);
  }
  return parts.reduce((n, p) => n * 256 + p, 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function parseCidr(cidr: string): Subnet {
  const [ip, bits] = cidr.split('/');
  const prefix = Number(bits);
  if (ip === undefined || !Number.isInteger(prefix) || prefix < 8 || prefix > 29) {
    throw new SkiffError('CONFIG_INVALID', `invalid subnet ${JSON.stringify(cidr)} (want a.b.c.d/8..29)`);
  }
  const size = 2 ** (32 - prefix);
  return { base: Math.floor(ipToInt(ip) / size) * size, prefix };
}

export function gatewayIp(s: Subnet): string {
  return intToIp(s.base + 1);
}

/** The first free instance address at or after `hint` (wrapping), or undefined when the subnet is full. */
export function nextFreeIp(s: Subnet, used: ReadonlySet<string>, hint = 0): string | undefined {
  const first = s.base + 2;
  const count = 2 ** (32 - s.prefix) - 3; // minus network, gateway, broadcast
  for (let i = 0; i < count; i++) {
    const ip = intToIp(first + ((hint + i) % count));
    if (!used.has(ip)) return ip;
  }
  return undefined;
}
