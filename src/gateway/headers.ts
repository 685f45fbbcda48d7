// gateway/headers: what a proxy must do to headers: strip hop-by-hop ones (RFC 9110 §7.6.1, plus any
// named in Connection) and add X-Forwarded-*. Runs twice per request, so it avoids allocating
// beyond the output object.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

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

export function forwardedHeaders(headers: IncomingHttpHeaders, remoteAddress: string | undefined, encrypted: boolean): OutgoingHttpHeaders {
  const out = stripHopByHop(headers);
  // The gateway's own server already answered "100 Continue"; the instance gets the body, not the ask.
  if (out.expect !== undefined) delete out.expect;
  const prior = headers['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${prior}, ${remoteAddress ?? ''}` : (remoteAddress ?? '');
  out['x-forwarded-proto'] = headers['x-forwarded-proto'] ?? (encrypted ? 'https' : 'http');
  if (headers.host) out['x-forwarded-host'] = headers['x-forwarded-host'] ?? headers.host;
  return out;
}
