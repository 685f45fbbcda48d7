// gateway/headers: what a proxy must do to headers: strip hop-by-hop ones (RFC 9110 §7.6.1, plus any
// named in Connection) and set X-Forwarded-* and Forwarded. Runs twice per request, so it avoids
// allocating beyond the output object.
//
// Apps read X-Forwarded-* / Forwarded to learn the client's address, scheme and host (for redirects,
// cookies' Secure flag, rate limits, audit logs). Whatever a client sends under those names is a claim
// nobody checked, so the gateway replaces them with what it saw itself; only a front proxy the
// operator listed in `trustedProxies` is believed, and then its values are kept and the gateway's own
// hop appended, as a chain of proxies does.
import { BlockList, isIPv4 } from 'node:net';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** The peers whose forwarding headers are believed (the `trustedProxies` CIDRs). */
export class ProxyTrust {
  private readonly list: BlockList | undefined;

  /** `cidrs` as `ADDRESS/BITS` or a bare address; validated when the settings are loaded */
  constructor(cidrs: readonly string[] = []) {
    if (cidrs.length === 0) return;
    this.list = new BlockList();
    for (const c of cidrs) {
      const [address = '', bits] = c.split('/');
      const family = isIPv4(address) ? 'ipv4' : 'ipv6';
      this.list.addSubnet(address, bits === undefined ? (family === 'ipv4' ? 32 : 128) : Number(bits), family);
    }
  }

  trusts(address: string | undefined): boolean {
    if (!this.list || !address) return false;
    // a dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d; the CIDRs are written as IPv4
    const v4 = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
    return this.list.check(v4, isIPv4(v4) ? 'ipv4' : 'ipv6');
  }
}

export function stripHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const connection = headers.connection;
  const named = connection ? new Set(connection.split(',').map((s) => s.trim().toLowerCase())) : undefined;
  const out: OutgoingHttpHeaders = {};
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined || HOP_BY_HOP.has(k) || named?.has(k)) continue;
    out[k] = v;
  }
  return out;
}

/** The forwarding headers the instance gets: the gateway's own view, after a trusted proxy's if any. */
export interface Forwarding {
  for: string;
  proto: string;
  host: string;
  forwarded: string;
}

export function forwarding(
  prior: { for?: string; proto?: string; host?: string; forwarded?: string },
  remoteAddress: string,
  host: string,
  proto: string,
  trusted: boolean,
): Forwarding {
  const own = `for=${forwardedNode(remoteAddress)};host=${quoted(host)};proto=${proto}`;
  if (!trusted) return { for: remoteAddress, proto, host, forwarded: own };
  return {
    for: prior.for ? `${prior.for}, ${remoteAddress}` : remoteAddress,
    proto: prior.proto ?? proto,
    host: prior.host ?? host,
    forwarded: prior.forwarded ? `${prior.forwarded}, ${own}` : own,
  };
}

/** RFC 7239 §6: an IPv6 node is quoted and bracketed */
function forwardedNode(address: string): string {
  return address.includes(':') ? `"[${address}]"` : address || 'unknown';
}

function quoted(value: string): string {
  return value.includes('"') || value.includes('\\') ? `"${value.replace(/["\\]/g, '\\$&')}"` : `"${value}"`;
}

export function forwardedHeaders(headers: IncomingHttpHeaders, remoteAddress: string | undefined, encrypted: boolean, trusted = false): OutgoingHttpHeaders {
  const out = stripHopByHop(headers);
  // The gateway's own server already answered "100 Continue"; the instance gets the body, not the ask.
  if (out.expect !== undefined) delete out.expect;
  delete out.forwarded;
  const f = forwarding(
    priorForwarding(headers),
    remoteAddress ?? '',
    headers.host ?? '',
    encrypted ? 'https' : 'http',
    trusted,
  );
  out['x-forwarded-for'] = f.for;
  out['x-forwarded-proto'] = f.proto;
  out['x-forwarded-host'] = f.host;
  out.forwarded = f.forwarded;
  return out;
}


/** What a client (or a front proxy) sent as forwarding headers, repeated ones joined. */
export function priorForwarding(headers: IncomingHttpHeaders): { for?: string; proto?: string; host?: string; forwarded?: string } {
  return { for: joined(headers['x-forwarded-for']), proto: joined(headers['x-forwarded-proto']), host: joined(headers['x-forwarded-host']), forwarded: joined(headers.forwarded) };
}

function joined(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}
