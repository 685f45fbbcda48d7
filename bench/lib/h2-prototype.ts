// bench/lib/h2-prototype: what HTTP/2 over TLS on the gateway would cost, measured, not served: a
// node:http2 secure server (ALPN h2 only) with the gateway's own certificates by SNI, whose requests
// (node:http2's compatibility API) go down the gateway's node:http path — route, split, acquire,
// forward over undici, release — exactly as the slow path serves an HTTP/1.1 request. That is what
// an ALPN-h2 branch in Gateway.listenTls would do: the raw fast path parses HTTP/1.1 bytes and has no
// HTTP/2 counterpart. Left out, as not per request: the connection limits and the handshake timeout.
//
// Gateway.handle is private; this reaches it through a cast, which a real implementation would not.
import type http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Gateway } from '../../src/gateway/gateway.ts';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

/** Listens; resolves with the port. */
export function listenH2Prototype(gw: Gateway, host: string, port: number): Promise<number> {
  const handle = (gw as unknown as { handle: Handler }).handle.bind(gw);
  // forward.ts hands the instance's status text to writeHead, which HTTP/2 has no place for: node
  // would print a warning on stderr in the middle of the bench's output (once; the text is dropped)
  process.removeAllListeners('warning');
  const server = http2.createSecureServer({ SNICallback: gw.certificates.sni, minVersion: 'TLSv1.2' }, (req, res) => {
    // The node:http path routes by Host and forwards every header but hop-by-hop ones: HTTP/2 has
    // :authority instead of Host, and its pseudo-headers must not reach the instance.
    const headers: http.IncomingHttpHeaders = { host: req.headers[':authority'] ?? req.headers.host };
    for (const k in req.headers) if (k.charCodeAt(0) !== 58 /* : */ && k !== 'host') headers[k] = req.headers[k];
    Object.defineProperty(req, 'headers', { value: headers });
    void handle(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse);
  });
  server.on('sessionError', () => {});
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}
